"""The review engine: one matching session per register against M5, the question queue, the
link store and a background retrain worker – everything the Review page does, without Streamlit.

The operator must never wait for the model. So an answer is: one link-store INSERT (committed at
once: nothing is ever lost), a label handed to the session (or queued if the worker is training),
and the next question taken from a queue that the worker refills after each retrain. Training
runs in one daemon thread that holds the sessions' lock; the answer path only ever *tries* that
lock. The benchmark, the simulated operator and the pages all drive the same methods.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from passerlink.errors import InputError
from passerlink.matching.linkstore import Decision, LinkStore
from passerlink.workbench.linktable import LABEL_OF_DECISION, SHOWN_FIELDS, merge_links

__all__ = ["Question", "QuestionView", "ReviewEngine", "DECISION_OF_LABEL"]

log = logging.getLogger(__name__)

#: The link-store decision for an operator's answer.
DECISION_OF_LABEL: dict[bool | None, str] = {True: "confirmed", False: "rejected", None: "unsure"}

Progress = Callable[[float, str], None]
Key = tuple[str, str, str]  # (register, source_id, m5_id)


@dataclass(frozen=True)
class Question:
    """One pair to ask about: a register person and an M5 user."""

    register: str
    source_id: str
    m5_id: str
    probability: float

    @property
    def key(self) -> Key:
        return (self.register, self.source_id, self.m5_id)


@dataclass
class QuestionView:
    """Everything the Review page draws for a question (no personal data leaves through logs)."""

    question: Question
    left: dict[str, str]
    right: dict[str, str]
    differs: dict[str, bool]
    explanation: pd.DataFrame | None = None


@dataclass
class _Counters:
    answered: int = 0
    since_retrain: int = 0
    retrains: int = 0
    estimated_left: dict[str, int] = field(default_factory=dict)


def _default_session_factory(left: pd.DataFrame, right: pd.DataFrame, *, seed: int) -> Any:
    from passerlink.matching import MatchSession

    return MatchSession(left, right, seed=seed)


class ReviewEngine:
    """Owns the matching sessions (one per register vs M5), the question queue and the worker."""

    def __init__(
        self,
        registers: Mapping[str, pd.DataFrame],
        m5: pd.DataFrame,
        store: LinkStore,
        *,
        seed: int = 0,
        retrain_every: int = 5,
        queue_size: int = 12,
        session_factory: Callable[..., Any] = _default_session_factory,
    ) -> None:
        self.registers = {name: people.reset_index(drop=True) for name, people in registers.items()}
        self.m5 = m5.reset_index(drop=True)
        self.store = store
        self.seed = seed
        self.retrain_every = max(1, int(retrain_every))
        self.queue_size = max(2, int(queue_size))
        self._factory = session_factory
        self.sessions: dict[str, Any] = {}
        self._lock = threading.RLock()  # the sessions: held by the worker while it trains
        self._state = threading.RLock()  # queue, pending labels, counters: held for microseconds
        self._queue: deque[Question] = deque()
        self._current: Question | None = None
        self._pending: list[tuple[str, str, str, bool | None]] = []
        self._dirty: set[str] = set()
        self._answered: set[Key] = set()
        self._linked_left: set[tuple[str, str]] = set()
        self._linked_right: set[str] = set()
        self._prob: dict[str, dict[tuple[str, str], float]] = {}
        self._model_links = pd.DataFrame(columns=["register", "source_id", "m5_id", "probability"])
        self._explained: dict[Key, pd.DataFrame] = {}
        self._table: tuple[tuple[int, int], pd.DataFrame] | None = None
        self.counters = _Counters()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._closed = False
        self._worker: threading.Thread | None = None
        self.worker_error: str = ""
        self._left_rec = {
            name: people.drop_duplicates("source_id").set_index("source_id")[SHOWN_FIELDS].to_dict("index")
            for name, people in self.registers.items()
        }
        self._right_rec = self.m5.drop_duplicates("source_id").set_index("source_id")[SHOWN_FIELDS].to_dict("index")

    # ---- building ------------------------------------------------------------------------------
    @property
    def model_version(self) -> str:
        return f"seed{self.seed}-r{self.counters.retrains}"

    def prepare(self, progress: Progress | None = None) -> ReviewEngine:
        """Build every session (candidates, features, first model) and replay the link store."""
        names = list(self.registers)
        current = self.store.current()
        with self._lock:
            for i, name in enumerate(names):
                def sub(fraction: float, message: str, i: int = i, name: str = name) -> None:
                    if progress:
                        progress((i + max(0.0, min(1.0, fraction))) / len(names), f"{name}: {message}")

                session = self._factory(self.registers[name], self.m5, seed=self.seed)
                session.prepare(progress=sub)
                self.sessions[name] = session
                self._replay(name, session, current[current["source"] == name])
            self._after_training()
        if progress:
            progress(1.0, "")
        return self

    def _replay(self, name: str, session: Any, decisions: pd.DataFrame) -> None:
        """Give a fresh session every operator answer the link store holds for its register."""
        pairs, labels = [], []
        for r in decisions.itertuples(index=False):
            if r.decision not in LABEL_OF_DECISION:
                continue  # auto: the model's own proposal, not an answer
            if r.source_id not in self._left_rec[name] or r.m5_id not in self._right_rec:
                continue  # a person or user that is gone from the sources
            label = LABEL_OF_DECISION[r.decision]
            pairs.append((r.source_id, r.m5_id))
            labels.append(label)
            self._note_answer((name, r.source_id, r.m5_id), label)
        if pairs:
            session.mark_pairs(pairs, labels)
            session.retrain()
        self.counters.answered += len(pairs)

    def _note_answer(self, key: Key, label: bool | None) -> None:
        self._answered.add(key)
        if label is True:
            self._linked_left.add((key[0], key[1]))
            self._linked_right.add(key[2])

    def _after_training(self) -> None:
        """Refresh what the answer path reads without the sessions' lock (caller holds it)."""
        links, prob, left = [], {}, {}
        for name, session in self.sessions.items():
            s = session.scores()
            prob[name] = dict(zip(zip(s["left_id"], s["right_id"], strict=True), s["probability"].astype(float), strict=True))
            ln = session.links()
            links.append(pd.DataFrame({"register": name, "source_id": ln["left_id"].astype(str),
                                       "m5_id": ln["right_id"].astype(str), "probability": ln["probability"].astype(float)}))
            left[name] = 0 if session.should_stop() else int(session.estimated_questions_left())
        with self._state:
            self._prob = prob
        fresh = self._collect_questions()
        with self._state:
            self._model_links = pd.concat(links, ignore_index=True) if links else self._model_links
            self.counters.estimated_left = left
            self._explained = {k: v for k, v in self._explained.items() if k not in self._answered}
            keep = [q for q in self._queue if q.key not in self._answered]
            seen = {q.key for q in keep}
            if self._current is not None:
                seen.add(self._current.key)
            self._queue = deque(keep[:1] + [q for q in fresh if q.key not in seen])
            if self._current is None or self._current.key in self._answered:
                self._current = self._pop()

    def _collect_questions(self) -> list[Question]:
        """The most uncertain open pairs of every register still worth asking (caller holds the lock)."""
        out: list[Question] = []
        for name, session in self.sessions.items():
            if session.should_stop():
                continue
            prob = self._prob.get(name, {})
            for left_id, right_id in session.uncertain_pairs(n=self.queue_size):
                key = (name, str(left_id), str(right_id))
                if not self._open(key):
                    continue
                p = prob.get((left_id, right_id))
                if p is None:
                    p = _probability_of(session, left_id, right_id)
                out.append(Question(name, key[1], key[2], float(p)))
        out.sort(key=lambda q: abs(q.probability - 0.5))
        return out

    def _open(self, key: Key) -> bool:
        """Still worth asking: not answered, and neither side already linked by an answer."""
        return key not in self._answered and (key[0], key[1]) not in self._linked_left and key[2] not in self._linked_right

    def _pop(self) -> Question | None:
        while self._queue:
            q = self._queue.popleft()
            if self._open(q.key):
                return q
        return None

    # ---- the answer path -------------------------------------------------------------------------
    def current(self) -> Question | None:
        """The question on screen (the same one until it is answered)."""
        with self._state:
            if self._current is not None and not self._open(self._current.key):
                self._current = self._pop()
            if self._current is None and self._lock.acquire(blocking=False):
                try:
                    if any(not s.should_stop() for s in self.sessions.values()):
                        self._queue.extend(self._collect_questions())
                        self._current = self._pop()
                finally:
                    self._lock.release()
            return self._current

    def answer(self, question: Question, label: bool | None, who: str) -> Question | None:
        """Record the answer, teach the model, move on; returns the next question.

        An answer to a pair already answered (a double click, a second tab) is ignored.
        """
        key = question.key
        with self._state:
            if key in self._answered:
                return self.current()
            self._note_answer(key, label)
        self.store.record(Decision(question.register, question.source_id, question.m5_id,
                                   DECISION_OF_LABEL[label], question.probability, who,
                                   model_version=self.model_version))
        self._teach([(question.register, question.source_id, question.m5_id, label)])
        with self._state:
            self.counters.answered += 1
            if self._current is not None and self._current.key == key:
                self._current = self._pop()
        return self.current()

    def _teach(self, labelled: Sequence[tuple[str, str, str, bool | None]]) -> None:
        """Hand labels to the sessions now if the worker is not training, else queue them."""
        with self._state:
            self._pending.extend(labelled)
            self._dirty.update(r for r, *_ in labelled)
            self.counters.since_retrain += len(labelled)
            due = self.counters.since_retrain >= self.retrain_every
        if self._lock.acquire(blocking=False):
            try:
                self._apply_pending()
            finally:
                self._lock.release()
        if due:
            self.request_retrain()

    def _apply_pending(self) -> None:
        with self._state:
            pending, self._pending = self._pending, []
        by_register: dict[str, tuple[list, list]] = {}
        for register, sid, mid, label in pending:
            pairs, labels = by_register.setdefault(register, ([], []))
            pairs.append((sid, mid))
            labels.append(label)
        for register, (pairs, labels) in by_register.items():
            self.sessions[register].mark_pairs(pairs, labels)

    def undo(self, who: str) -> Decision | None:
        """Take back ``who``'s latest answer; its question comes back on screen."""
        undone = self.store.undo_last(who)
        if undone is None:
            return None
        key = (undone.source, undone.source_id, undone.m5_id)
        with self._state:
            self._answered.discard(key)
            if LABEL_OF_DECISION.get(undone.decision) is True:
                self._linked_left.discard((key[0], key[1]))
                self._linked_right.discard(key[2])
            self.counters.answered = max(0, self.counters.answered - 1)
            if self._current is not None:
                self._queue.appendleft(self._current)
            p = undone.probability
            if p is None:
                p = self._prob.get(key[0], {}).get((key[1], key[2]), float("nan"))
            self._current = Question(*key, float(p))
        # the session forgets the label: "unsure" teaches nothing and the pair is asked again here
        self._teach([(*key, None)])
        return undone

    def apply_decisions(self, decisions: Sequence[Decision]) -> int:
        """Write operator decisions (manual links, conflicts, table mode, Excel) and teach them."""
        decisions = [d for d in decisions if d.decision in LABEL_OF_DECISION]
        for d in decisions:
            if d.source not in self.registers:
                raise InputError(f"there is no register named {d.source!r}")
        if not decisions:
            return 0
        self.store.record(decisions)
        labelled = []
        with self._state:
            for d in decisions:
                label = LABEL_OF_DECISION[d.decision]
                self._note_answer((d.source, d.source_id, d.m5_id), label)
                labelled.append((d.source, d.source_id, d.m5_id, label))
                self.counters.answered += 1
        self._teach(labelled)
        return len(decisions)

    def manual_link(self, register: str, source_id: str, m5_id: str, who: str) -> None:
        """Link a pair the model missed; ids are checked against the sources first."""
        source_id, m5_id = str(source_id).strip(), str(m5_id).strip()
        if register not in self._left_rec:
            raise InputError(f"there is no register named {register!r}")
        if source_id not in self._left_rec[register]:
            raise InputError(f"{register} has no person with id {source_id!r}")
        if m5_id not in self._right_rec:
            raise InputError(f"M5 has no user with id {m5_id!r}")
        p = self._prob.get(register, {}).get((source_id, m5_id))
        self.apply_decisions([Decision(register, source_id, m5_id, "manual", p, who, "linked by hand", self.model_version)])

    # ---- what the page draws ---------------------------------------------------------------------
    def view(self, question: Question, *, explain: bool = True, wait: float = 0.25) -> QuestionView:
        """Both records, which fields differ, and the model's reasons (if the model is free)."""
        left = self._left_rec[question.register].get(question.source_id, {})
        right = self._right_rec.get(question.m5_id, {})
        differs = {f: bool(left.get(f, "") and right.get(f, "") and _fold(left[f]) != _fold(right[f])) for f in SHOWN_FIELDS}
        explanation = self._explained.get(question.key)
        if explain and explanation is None and self._lock.acquire(timeout=wait):
            try:
                explanation = self.sessions[question.register].explain(question.source_id, question.m5_id)
                self._explained[question.key] = explanation
            finally:
                self._lock.release()
        return QuestionView(question, dict(left), dict(right), differs, explanation)

    def record(self, register: str, source_id: str) -> dict[str, str]:
        return dict(self._left_rec.get(register, {}).get(source_id, {}))

    def m5_record(self, m5_id: str) -> dict[str, str]:
        return dict(self._right_rec.get(m5_id, {}))

    def progress(self) -> tuple[int, int]:
        """(answers so far, estimated questions left)."""
        with self._state:
            return self.counters.answered, sum(self.counters.estimated_left.values())

    def model_links(self) -> pd.DataFrame:
        with self._state:
            return self._model_links.copy()

    def link_table(self) -> pd.DataFrame:
        """The store's decisions over the model's current links (see ``linktable.merge_links``);
        recomputed only when the store or the model changed."""
        key = (self.store.count(), self.counters.retrains)
        with self._state:
            if self._table is not None and self._table[0] == key:
                return self._table[1].copy()
        table = merge_links(self.model_links(), self.store.current())
        with self._state:
            self._table = (key, table)
        return table.copy()

    def scores(self) -> dict[str, pd.DataFrame]:
        """Every register's candidate scores (waits for a running retrain)."""
        with self._lock:
            return {name: s.scores() for name, s in self.sessions.items()}

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
                    self._apply_pending()
                    with self._state:
                        dirty, self._dirty = self._dirty, set()
                    for name in sorted(dirty):
                        self.sessions[name].retrain()
                    self.counters.retrains += 1
                    self._after_training()
            except Exception as exc:  # never kill the worker; the page shows that training failed
                self.worker_error = type(exc).__name__
                log.exception("background retrain failed")
            finally:
                with self._state:
                    if not self._wake.is_set():
                        self._idle.set()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until the worker has nothing to do (tests, benchmark, the end of a session)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=5)


def _fold(value: str) -> str:
    return " ".join(str(value).lower().split())


def _probability_of(session: Any, left_id: str, right_id: str) -> float:
    s = session.scores()
    hit = s[(s["left_id"] == left_id) & (s["right_id"] == right_id)]
    return float(hit["probability"].iloc[0]) if len(hit) else float("nan")
