"""The review engine: the go-live matching session, the question queue, the link store and a
background retrain worker – everything the Review page does, without Streamlit.

Both registers are matched against M5 in one joint session (``matching.match_registers``: ids
``register:source_id``), so one M5 user is never linked to an employee *and* a pupil.

The operator must never wait for the model. An answer is one link-store INSERT (committed at
once: nothing is ever lost), the label handed to the session (``mark_pairs``: a cheap refresh of
probabilities and links) and the next most useful question. Retraining runs in one daemon thread
that holds the session's lock; the answer path only ever *tries* that lock, and while the worker
trains it queues the label and takes the next question from a queue filled after the last
training. The benchmark, the simulated operator and the pages all drive the same methods.

Proposals live in the link store, not here: after the first build and after every retrain that
changed them, the model's auto-links and open pairs are stored (``matching.proposals``), so the
sign-off, the export and the command line all see the same set. The questions-left figure an
operator plans by is held steady (``estimates.QuestionsLeft``). An answer against a confident model
is stored but not yet taught; the pair comes back once, a few questions later, as "are you sure?",
and the second answer is the one the model learns.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from passerlink.errors import InputError
from passerlink.matching.linkstore import LinkDecision, LinkStore
from passerlink.workbench.estimates import QuestionsLeft, contradicts
from passerlink.workbench.linktable import LABEL_OF_DECISION, PAIR_FIELDS, merge_links

if TYPE_CHECKING:  # pragma: no cover
    from passerlink.matching.registers import RegisterMatch
    from passerlink.matching.session import MatchSession

__all__ = ["Question", "QuestionView", "ReviewEngine", "DECISION_OF_LABEL"]

log = logging.getLogger(__name__)

#: The link-store decision for an operator's answer.
DECISION_OF_LABEL: dict[bool | None, str] = {True: "confirmed", False: "rejected", None: "unsure"}

Progress = Callable[[float, str], None]
Key = tuple[str, str, str]  # (register, source_id, m5_id)
_SEP = ":"
#: Process-wide, so a version names one engine's state: a rebuilt engine never repeats one.
_VERSIONS = itertools.count(1)
#: Other questions asked before a pair whose answer contradicted the model comes back.
RECHECK_AFTER = 3


@dataclass(frozen=True)
class Question:
    """One pair to ask about: a register person and an M5 user."""

    register: str
    source_id: str
    m5_id: str
    probability: float
    #: asked a second time ("are you sure?") because the first answer contradicted the model
    recheck: bool = False
    #: that first answer (only on a recheck)
    first_answer: bool | None = None

    @property
    def key(self) -> Key:
        return (self.register, self.source_id, self.m5_id)


@dataclass(frozen=True)
class Why:
    """Why this pair is asked, as an i18n key and its values (the page words it)."""

    key: str
    values: dict[str, object] = field(default_factory=dict)


@dataclass
class QuestionView:
    """Everything the Review page draws for a question."""

    question: Question
    left: dict[str, str]
    right: dict[str, str]
    differs: dict[str, bool]
    explanation: pd.DataFrame | None = None
    why: Why | None = None


@dataclass
class _Counters:
    answered: int = 0
    since_retrain: int = 0
    retrains: int = 0
    estimated_left: int = 0
    raw_estimate: int = 0  # the session's own estimate, before QuestionsLeft holds it steady
    contradictions: int = 0  # answers that went against a confident model (asked again once)
    open_pairs: int = 0  # questions the open pairs still hold, even when asking no longer pays off
    stop: bool = False


def _left_key(register: str, source_id: str) -> str:
    return f"{register}{_SEP}{source_id}"


def _split(left_key: str) -> tuple[str, str]:
    register, _, source_id = str(left_key).partition(_SEP)
    return register, source_id


class ReviewEngine:
    """Owns the joint matching session, the question queue and the retrain worker."""

    def __init__(
        self,
        registers: Mapping[str, pd.DataFrame],
        m5: pd.DataFrame,
        store: LinkStore,
        *,
        seed: int = 0,
        retrain_every: int = 5,
        queue_size: int = 10,
        **session_kw: object,
    ) -> None:
        for name in registers:
            if _SEP in name:
                raise InputError(f"a register name may not contain {_SEP!r}: {name!r}")
        self.registers = {name: people.reset_index(drop=True) for name, people in registers.items()}
        self.m5 = m5.reset_index(drop=True)
        self.store = store
        self.seed = seed
        self.retrain_every = max(1, int(retrain_every))
        self.queue_size = max(2, int(queue_size))
        self._session_kw = session_kw
        self.match: RegisterMatch | None = None  # once prepared
        #: ask the open pairs even after the session says more questions will not pay off
        self.keep_asking = False
        self._lock = threading.RLock()  # the session: held by the worker while it trains
        self._state = threading.RLock()  # queue, pending labels, counters: held for microseconds
        self._queue: deque[Question] = deque()
        self._current: Question | None = None
        self._pending: list[tuple[str, str, str, bool | None, bool]] = []  # ..., label, forget
        self._answered: set[Key] = set()
        #: pairs whose answer contradicted the model: (question, first answer, due at answer count)
        self._rechecks: list[tuple[Question, bool | None, int]] = []
        self._doubted: set[Key] = set()  # pairs ever asked "are you sure?": never a second time
        self._awaiting: set[Key] = set()  # rechecks whose second answer has not come yet
        self._estimate = QuestionsLeft()
        self._contradicted = False  # the latest answer went against a confident model
        self._why: dict[Key, Why] = {}
        self._proposed: dict[tuple[str, str, str, str], float] | None = None  # as last stored
        self._proposal_version = ""
        self._linked_left: set[tuple[str, str]] = set()
        self._linked_right: set[str] = set()
        self._model_links = pd.DataFrame(columns=["register", "source_id", "m5_id", "probability"])
        self._claims = pd.DataFrame(columns=["m5_id", "register", "source_id", "probability", "linked"])
        self._explained: dict[Key, pd.DataFrame] = {}
        self._table: tuple[tuple[int, int], pd.DataFrame] | None = None
        self._version = next(_VERSIONS)  # changes whenever probabilities or links may have changed
        self.counters = _Counters()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._closed = False
        self._worker: threading.Thread | None = None
        self.worker_error: str = ""
        self.last_retrain_seconds = 0.0
        self._left_rec = {name: _records(people) for name, people in self.registers.items()}
        self._right_rec = _records(self.m5)

    @property
    def session(self) -> MatchSession:
        if self.match is None:
            raise RuntimeError("the review engine is not prepared yet (call prepare())")
        return self.match.session

    @property
    def model_lock(self) -> threading.RLock:
        """The session's lock: the worker holds it while it retrains; answers only ever try it."""
        return self._lock

    @property
    def pending(self) -> int:
        """Answers stored but not yet handed to the session (the worker was training)."""
        with self._state:
            return len(self._pending)

    @property
    def model_version(self) -> str:
        """The model's version as every stored row names it (``matching.proposals.model_version_of``)."""
        from passerlink.matching.proposals import model_version_of

        return model_version_of(self.match) if self.match is not None else f"seed{self.seed}-r0"

    # ---- building ------------------------------------------------------------------------------
    def prepare(self, progress: Progress | None = None) -> ReviewEngine:
        """Build the session (candidates, features, first model) and replay the link store."""
        from passerlink.matching import match_registers

        with self._lock:
            self.match = match_registers(self.registers, self.m5, progress=progress, seed=self.seed,
                                         **self._session_kw)
            self._replay(self.store.current())
            self._refresh_views()
            self._refill()
            self._proposal_version = self.model_version
            self._store_proposals()
        return self

    # ---- proposals in the link store -------------------------------------------------------------
    def proposal_frame(self) -> pd.DataFrame:
        """What the model proposes now (``matching.proposals.proposals_of``, as ``links propose``
        stores it): ``source, source_id, m5_id, probability, kind`` with kind ``proposed`` (its
        auto-links) or ``question`` (open pairs in the ask band)."""
        from passerlink.matching.proposals import proposals_of

        with self._lock:
            if self.match is None:
                raise RuntimeError("the review engine is not prepared yet (call prepare())")
            return proposals_of(self.match)

    def _store_proposals(self) -> dict[str, int]:
        """Write the model's proposals to the link store when their set changed (session lock
        held). A pair proposed as before keeps its stored probability, so a retrain that only
        nudges probabilities writes nothing; the store withdraws, with a reason, what the model
        no longer proposes."""
        frame = self.proposal_frame()
        keys = list(zip(frame["source"], frame["source_id"], frame["m5_id"], frame["kind"], strict=True))
        before = self._proposed
        if before is not None and set(before) == set(keys):
            return {}
        if before:
            frame["probability"] = [before.get(k, p) for k, p in zip(keys, frame["probability"], strict=True)]
        counts = self.store.propose(frame, model_version=self._proposal_version, who="model")
        self._proposed = dict(zip(keys, frame["probability"], strict=True))
        with self._state:
            self._version = next(_VERSIONS)
        return counts

    def store_proposals(self) -> dict[str, int]:
        """Store what the model proposes right now (waits for a running retrain); the sign-off calls
        this first, so what is signed off is the model's latest word."""
        with self._lock:
            self._apply_pending()
            return self._store_proposals()

    def _replay(self, decisions: pd.DataFrame) -> None:
        """Give the fresh session every operator answer the link store holds."""
        pairs, labels = [], []
        for r in decisions.itertuples(index=False):
            if r.decision not in LABEL_OF_DECISION:
                continue  # auto: the model's own proposal, not an answer
            if r.source_id not in self._left_rec.get(r.source, {}) or r.m5_id not in self._right_rec:
                continue  # a person or user that is gone from the sources
            label = LABEL_OF_DECISION[r.decision]
            pairs.append((_left_key(r.source, r.source_id), r.m5_id))
            labels.append(label)
            self._note_answer((r.source, r.source_id, r.m5_id), label)
        if pairs:
            self.session.mark_pairs(pairs, labels)
            self.session.retrain()
        self.counters.answered = len(pairs)

    def _note_answer(self, key: Key, label: bool | None) -> None:
        self._answered.add(key)
        if label is True:
            self._linked_left.add((key[0], key[1]))
            self._linked_right.add(key[2])

    def _refresh_views(self) -> None:
        """Links, cross-register claims and the stop estimate, for readers without the lock
        (caller holds the session lock)."""
        assert self.match is not None
        ln = self.match.links()
        links = pd.DataFrame({"register": ln["source"].astype(str), "source_id": ln["source_id"].astype(str),
                              "m5_id": ln["m5_id"].astype(str), "probability": ln["probability"].astype(float)})
        claims = self.match.conflicts().rename(columns={"source": "register"})
        with self._state:
            self._model_links = links
            self._claims = claims
            self._version = next(_VERSIONS)
            self._explained, self._why = {}, {}  # the retrained model has other reasons
        self._refresh_counts()

    def _refresh_counts(self) -> None:
        """Whether asking still pays off and how many questions are left (cheap; lock held)."""
        stop = self.session.should_stop()
        open_pairs = int(self.session.open_questions())
        if self.keep_asking:  # past the point where asking pays off: what is left to ask
            raw = open_pairs
        else:
            raw = 0 if stop else int(self.session.estimated_questions_left())
        with self._state:
            rechecks = len(self._rechecks)
            self.counters.open_pairs = open_pairs
            self.counters.raw_estimate = raw
            self.counters.estimated_left = self._estimate.update(
                raw, self.counters.answered, contradicted=self._contradicted,
                stopped=stop and not self.keep_asking) + rechecks
            self.counters.stop = stop

    def _refill(self) -> None:
        """The next questions from the session (caller holds the session lock)."""
        fresh: list[Question] = []
        if self.keep_asking or not self.session.should_stop():
            s = self.session
            for left_key, m5_id in s.uncertain_pairs(n=self.queue_size):
                register, source_id = _split(left_key)
                k = s.pair_index(left_key, m5_id)
                p = float(s.probability[k]) if k >= 0 else float("nan")
                fresh.append(Question(register, source_id, str(m5_id), p))
        with self._state:
            keep = self._current if self._current is not None and self._open(self._current.key) else None
            self._queue = deque(q for q in fresh if self._open(q.key) and (keep is None or q.key != keep.key))
            self._current = keep if keep is not None else self._pop()

    def _open(self, key: Key) -> bool:
        """Still worth asking: not answered, and neither side already linked by an answer."""
        return key not in self._answered and (key[0], key[1]) not in self._linked_left and key[2] not in self._linked_right

    def _pop(self) -> Question | None:
        """The next question: a recheck that is due, else the queue's next open pair, else a
        recheck not yet due (nothing else is left to ask). Caller holds ``_state``."""
        due = self._due_recheck(self.counters.answered)
        if due is not None:
            return due
        while self._queue:
            q = self._queue.popleft()
            if self._open(q.key):
                return q
        return self._due_recheck(None)

    def _due_recheck(self, answered: int | None) -> Question | None:
        for n, (q, first, at) in enumerate(self._rechecks):
            if answered is None or at <= answered:
                del self._rechecks[n]
                return replace(q, recheck=True, first_answer=first)
        return None

    # ---- the answer path -------------------------------------------------------------------------
    def current(self) -> Question | None:
        """The question on screen (the same one until it is answered or undone)."""
        with self._state:
            if self._current is None or not (self._current.recheck or self._open(self._current.key)):
                self._current = self._pop()
            if self._current is not None or (self.counters.stop and not self.keep_asking):
                return self._current
        if self._lock.acquire(blocking=False):
            try:
                self._apply_pending()
                self._refill()
            finally:
                self._lock.release()
        with self._state:
            return self._current

    def answer(self, question: Question, label: bool | None, who: str) -> Question | None:
        """Record the answer, teach the session, move on; returns the next question.

        An answer to a pair already answered (a double click, a second tab) is ignored. An
        answer that contradicts a confident model (no at >= 90 %, yes at <= 10 %) is stored but
        not yet taught: the pair comes back once, a few questions later, as "are you sure?";
        the second answer is stored too and is the one the model learns.
        """
        key = question.key
        with self._state:
            if key in self._answered and not (question.recheck and key in self._awaiting):
                return self._current
            doubt = not question.recheck and key not in self._doubted and contradicts(question.probability, label)
            if question.recheck:
                self._awaiting.discard(key)
            elif doubt:
                self._doubted.add(key)
                self._awaiting.add(key)
            self._answered.add(key)
            if not doubt:
                self._note_answer(key, label)
        note = ("contradicts the model: asked again" if doubt
                else "second answer after 'are you sure?'" if question.recheck else "")
        self.store.record(LinkDecision(question.register, question.source_id, question.m5_id,
                                       DECISION_OF_LABEL[label], question.probability, who, note,
                                       model_version=self.model_version))
        with self._state:
            if not question.recheck:
                self.counters.answered += 1
            self._contradicted = doubt or (question.recheck and label == question.first_answer)
            if doubt:
                self.counters.contradictions += 1
                self._rechecks.append((replace(question, recheck=False, first_answer=None), label,
                                       self.counters.answered + RECHECK_AFTER))
            if self._current is not None and self._current.key == key:
                self._current = None
        if doubt:  # nothing to teach yet; the estimate now counts the recheck
            if self._lock.acquire(blocking=False):
                try:
                    self._refresh_counts()
                finally:
                    self._lock.release()
        else:
            self._teach([(*key, label, False)])
        return self.current()

    def _teach(self, labelled: Sequence[tuple[str, str, str, bool | None, bool]]) -> None:
        """Hand labels to the session now if the worker is not training, else queue them."""
        with self._state:
            self._pending.extend(labelled)
            self.counters.since_retrain += sum(1 for *_, forget in labelled if not forget)
            due = self.counters.since_retrain >= self.retrain_every
        if self._lock.acquire(blocking=False):
            try:
                self._apply_pending()
                self._refill()
                self._explain_ahead(3)  # the next questions' reasons, before a retrain takes the lock
            finally:
                self._lock.release()
        if due:
            self.request_retrain()

    def _apply_pending(self) -> None:
        """Labels waiting for the session (caller holds the session lock)."""
        with self._state:
            pending, self._pending = self._pending, []
        if not pending:
            return
        s = self.session
        marks = [((_left_key(r, sid), mid), label) for r, sid, mid, label, forget in pending if not forget]
        forgets = [(_left_key(r, sid), mid) for r, sid, mid, _label, forget in pending if forget]
        if forgets:
            s.forget(forgets)
        if marks:
            s.mark_pairs([p for p, _ in marks], [lab for _, lab in marks])
        with self._state:
            self._version = next(_VERSIONS)  # the session's probabilities moved
        # links and claims are refreshed after the next retrain; until then the link store's
        # decisions override the model's links (linktable.merge_links)
        self._refresh_counts()

    def undo(self, who: str) -> LinkDecision | None:
        """Take back ``who``'s latest answer; its question comes back on screen."""
        undone = self.store.undo_last(who)
        if undone is None:
            return None
        key = (undone.source, undone.source_id, undone.m5_id)
        with self._state:
            self._answered.discard(key)
            if key in self._awaiting:  # the doubted first answer: its recheck goes too
                self._awaiting.discard(key)
                self._doubted.discard(key)
                self._rechecks = [r for r in self._rechecks if r[0].key != key]
            if LABEL_OF_DECISION.get(undone.decision) is True:
                self._linked_left.discard((key[0], key[1]))
                self._linked_right.discard(key[2])
            self.counters.answered = max(0, self.counters.answered - 1)
        self._teach([(*key, None, True)])  # the session forgets the answer
        with self._state:
            if self._current is not None and self._current.key != key:
                self._queue.appendleft(self._current)
            p = undone.probability
            self._current = Question(*key, float("nan") if p is None else float(p))
        return undone

    def apply_decisions(self, decisions: Sequence[LinkDecision]) -> int:
        """Write operator decisions (manual links, conflicts, table mode, Excel) and teach them."""
        decisions = [d for d in decisions if d.decision in LABEL_OF_DECISION]
        for d in decisions:
            if d.source not in self.registers:
                raise InputError(f"there is no register named {d.source!r}")
            if d.source_id not in self._left_rec[d.source]:
                raise InputError(f"{d.source} has no person with id {d.source_id!r}")
            if d.m5_id not in self._right_rec:
                raise InputError(f"M5 has no user with id {d.m5_id!r}")
        if not decisions:
            return 0
        self.store.record(decisions)
        labelled = []
        with self._state:
            for d in decisions:
                label = LABEL_OF_DECISION[d.decision]
                self._note_answer((d.source, d.source_id, d.m5_id), label)
                labelled.append((d.source, d.source_id, d.m5_id, label, False))
                self.counters.answered += 1
        self._teach(labelled)
        return len(decisions)

    def manual_link(self, register: str, source_id: str, m5_id: str, who: str) -> None:
        """Link a pair the model missed; ids are checked against the sources first."""
        source_id, m5_id = str(source_id).strip(), str(m5_id).strip()
        if register not in self._left_rec:
            raise InputError(f"there is no register named {register!r}")
        self.apply_decisions([LinkDecision(register, source_id, m5_id, "manual", None, who, "linked by hand",
                                       self.model_version)])

    # ---- what the pages draw ---------------------------------------------------------------------
    def view(self, question: Question, *, explain: bool = True, wait: float = 0.05) -> QuestionView:
        """Both records, which fields differ, and the model's reasons (if the model is free)."""
        left = self._left_rec.get(question.register, {}).get(question.source_id, {})
        right = self._right_rec.get(question.m5_id, {})
        differs = {f: bool(left.get(f, "") and right.get(f, "") and _fold(left[f]) != _fold(right[f]))
                   for f in PAIR_FIELDS}
        explanation = self._explained.get(question.key)
        why = self._why.get(question.key)
        if explain and (explanation is None or why is None) and self._lock.acquire(timeout=wait):
            try:
                self._explain(question)
                explanation, why = self._explained.get(question.key), self._why.get(question.key)
            finally:
                self._lock.release()
        if question.recheck:
            why = Why("why_recheck", {"first": question.first_answer, "p": question.probability})
        return QuestionView(question, dict(left), dict(right), differs, explanation, why)

    def _explain(self, q: Question) -> None:
        """The model's reasons for ``q`` and why it is asked at all (caller holds the session lock)."""
        if q.key not in self._explained:
            e = self.session.explain(_left_key(q.register, q.source_id), q.m5_id)
            with self._state:
                self._explained[q.key] = e
        if q.key not in self._why:
            why = self._why_asked(q)
            with self._state:
                self._why[q.key] = why

    def _why_asked(self, q: Question) -> Why:
        """A rival the answer decides between (a conflict hangs on it), else where the pair's
        probability stands against the auto-link threshold (caller holds the session lock)."""
        s = self.session
        k = s.pair_index(_left_key(q.register, q.source_id), q.m5_id)
        p = float(s.probability[k]) if k >= 0 else q.probability
        if k >= 0:
            i, j = s.il[k], s.ir[k]
            rivals = np.nonzero(((s.il == i) ^ (s.ir == j)) & (s.probability >= max(s.ask_threshold, 0.10)))[0]
            if len(rivals):
                r = int(rivals[np.argmax(s.probability[rivals])])
                rp = float(s.probability[r])
                if s.ir[r] == j:  # another register person could be this M5 user
                    register, source_id = _split(str(s.left_ids[s.il[r]]))
                    return Why("why_rival_m5", {"register": register, "source_id": source_id, "p": rp})
                return Why("why_rival_person", {"m5_id": str(s.right_ids[s.ir[r]]), "p": rp})
        if p >= 0.5:
            return Why("why_below_auto", {"p": p, "auto": float(s.auto_threshold)})
        return Why("why_uncertain", {"p": p})

    def _explain_ahead(self, n: int) -> None:
        """Explanations of the next questions, so the page never waits for them (lock held)."""
        with self._state:
            upcoming = ([self._current] if self._current else []) + list(self._queue)[: max(0, n - 1)]
        with self._state:
            if len(self._explained) > 500:
                self._explained = {q.key: self._explained[q.key] for q in upcoming if q.key in self._explained}
            if len(self._why) > 500:
                self._why = {q.key: self._why[q.key] for q in upcoming if q.key in self._why}
        for q in upcoming:
            self._explain(q)

    def record(self, register: str, source_id: str) -> dict[str, str]:
        return dict(self._left_rec.get(register, {}).get(source_id, {}))

    def m5_record(self, m5_id: str) -> dict[str, str]:
        return dict(self._right_rec.get(m5_id, {}))

    def ask_anyway(self) -> Question | None:
        """Go on asking about the open pairs although the session would stop here."""
        self.keep_asking = True
        with self._lock:
            self._refresh_counts()
            self._refill()
        return self.current()

    @property
    def open_pairs(self) -> int:
        """Questions the open pairs still hold (what ``ask_anyway`` would go on with)."""
        with self._state:
            return self.counters.open_pairs

    @property
    def version(self) -> int:
        """Changes whenever the session's probabilities may have (an answer handed over, a retrain);
        unique in the process, so pages can cache what they derive from ``scores()`` under it."""
        with self._state:
            return self._version

    def progress(self) -> tuple[int, int]:
        """(answers so far, estimated questions left)."""
        with self._state:
            return self.counters.answered, self.counters.estimated_left

    def model_links(self) -> pd.DataFrame:
        with self._state:
            return self._model_links.copy()

    def claims(self) -> pd.DataFrame:
        """M5 users that people of more than one register could be, not yet settled by an answer."""
        with self._state:
            c = self._claims.copy()
            settled = set(self._linked_right)
            answered = set(self._answered)
        if not len(c):
            return c
        keep = [m not in settled and (r, s, m) not in answered
                for r, s, m in zip(c["register"], c["source_id"], c["m5_id"], strict=True)]
        c = c[keep]
        n = c.groupby("m5_id")["register"].transform("nunique")
        return c[n > 1].reset_index(drop=True)

    def link_table(self) -> pd.DataFrame:
        """The store's decisions over the model's current links (see ``linktable.merge_links``);
        recomputed only when the store or the model changed."""
        with self._state:
            key = (self.store.count(), self._version)
            if self._table is not None and self._table[0] == key:
                return self._table[1].copy()
        table = merge_links(self.model_links(), self.store.current())
        with self._state:
            self._table = (key, table)
        return table.copy()

    def scores(self) -> pd.DataFrame:
        """Every candidate pair: ``register, source_id, m5_id, probability, band, decision``
        (waits for a running retrain)."""
        with self._lock:
            s = self.session.scores()
        parts = s["left_id"].str.partition(_SEP)
        return pd.DataFrame({"register": parts[0], "source_id": parts[2], "m5_id": s["right_id"],
                             "probability": s["probability"].astype(float), "band": s["band"],
                             "decision": s["decision"]})

    @property
    def training(self) -> bool:
        return not self._idle.is_set()

    # ---- the worker -------------------------------------------------------------------------------
    def request_retrain(self) -> None:
        """Ask the worker to retrain soon; returns at once."""
        with self._state:
            self.counters.since_retrain = 0
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="passerlink-retrain", daemon=True)
                self._worker.start()
            self._idle.clear()
            self._wake.set()

    def _work(self) -> None:
        while not self._closed:
            if not self._wake.wait(timeout=1.0):
                continue
            self._wake.clear()
            try:
                with self._lock:
                    t0 = time.perf_counter()
                    self._apply_pending()
                    self.session.retrain()
                    self.counters.retrains += 1
                    self.last_retrain_seconds = time.perf_counter() - t0
                    self._refresh_views()
                    self._refill()
                    self._store_proposals()
                    self._explain_ahead(self.queue_size)
            except Exception as exc:  # never kill the worker; the page shows that training failed
                self.worker_error = type(exc).__name__
                log.error("background retrain failed: %s", type(exc).__name__)
            finally:
                with self._state:
                    if not self._wake.is_set():
                        self._idle.set()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until the worker has nothing to do (tests, benchmark, the end of a session)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join(timeout=10)


def _fold(value: str) -> str:
    return " ".join(str(value).lower().split())



def _records(people: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Each person's ``PAIR_FIELDS`` by id (a field a table lacks is empty)."""
    frame = people.drop_duplicates("source_id").set_index("source_id")
    return frame.reindex(columns=PAIR_FIELDS, fill_value="").fillna("").to_dict("index")
