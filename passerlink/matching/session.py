"""One go-live matching of a left table (a register) against a right table (M5 users): the conversation.

``prepare()`` does the heavy part once: folding, candidate pairs, comparison levels, the
unsupervised Fellegi-Sunter start, weak labels and the first classifier. After that the operator
loop only touches arrays of one row per candidate pair:

* ``mark_pairs`` records answers and refreshes probabilities and links *without* retraining
  (clamps the answered pairs, recomputes the one-to-one posteriors and the assignment: tens of
  milliseconds on 5,000 x 5,000). It retrains by itself only every ``retrain_every`` answers when
  that is set (the CLI does it per batch; the workbench retrains in the background).
* ``retrain`` refits the classifier on weak labels plus every answer (a fraction of a second on
  5,000 x 5,000).

The session keeps the conversation (candidates, answers, questions, when to retrain); the
mathematics (start, context, classifier, one-to-one probabilities) is the ``LinkModel`` in
``self.model``, the same object that scores new people at night and explains a pair.
Probabilities are one-to-one posteriors: the classifier's pair log-odds normalised over the
other candidates of both people, so a pair with a strong rival is never a confident link.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from passerlink.errors import InputError
from passerlink.features.comparisons import Comparison, compare_pairs, default_comparisons, level_in
from passerlink.features.prepare import PreparedPeople, add_frequencies, prepare_people
from passerlink.matching.active import (
    expected_errors,
    pick_questions,
    questions_left,
    questions_to_stop,
    stop_paying_off,
)
from passerlink.matching.answers import DECISION_OF_ANSWER, Answer
from passerlink.matching.assignment import assign_one_to_one
from passerlink.matching.candidates import CandidatePairs, generate_candidates
from passerlink.matching.classifier import logit, sigmoid
from passerlink.matching.context import Groups, competitor_scores
from passerlink.matching.design import StaticDesign
from passerlink.matching.explain import explain_pair
from passerlink.matching.linkstore import Decision
from passerlink.matching.model import Estimator, LinkModel, Pairs, PairScores, default_estimator
from passerlink.matching.weaklabels import (
    NAME_CLOSE,
    UNLABELLED,
    identifiers_disagree,
    name_rivals,
    units_outside,
    weak_labels,
)

__all__ = ["MatchSession", "Progress"]

Progress = Callable[[float, str], None]

_YES_LOGIT, _NO_LOGIT = 50.0, -700.0  # an answered pair's log-odds: certain either way


def _ids(df: pd.DataFrame, side: str) -> np.ndarray:
    if "source_id" not in df.columns:
        raise InputError(f"the {side} table has no 'source_id' column")
    ids = df["source_id"].fillna("").astype(str).to_numpy(dtype=object)
    if (ids == "").any():
        row = int(np.nonzero(ids == "")[0][0]) + 1
        raise InputError(f"the {side} table has an empty id in row {row}")
    dup = pd.Series(ids).duplicated()
    if dup.any():
        raise InputError(f"the {side} table has the id {ids[int(np.nonzero(dup.to_numpy())[0][0])]!r} more than once")
    return ids


class MatchSession:
    """Candidates, answers, questions and links for one left table against one right table."""

    def __init__(
        self,
        left: pd.DataFrame,
        right: pd.DataFrame,
        *,
        seed: int = 0,
        auto_threshold: float = 0.95,
        ask_threshold: float = 0.05,
        verify_below: float = 0.99,
        fp_cost: float = 5.0,
        extra_fields: Sequence[str] = (),
        retrain_every: int | None = None,
        random_negatives: int = 20_000,
        use_context: bool = True,
        max_training_rows: int = 400_000,
        design_cache_limit: int = 1_000_000,
        answer_weight: float = 20.0,
        explained_margin: float = 1.0,
        estimator: Callable[[], Estimator] | None = None,
    ) -> None:
        if not 0.0 < ask_threshold < auto_threshold < 1.0:
            raise InputError("thresholds must satisfy 0 < ask_threshold < auto_threshold < 1")
        self.left = left.reset_index(drop=True)
        self.right = right.reset_index(drop=True)
        self.seed = seed
        self.auto_threshold = float(auto_threshold)
        self.ask_threshold = float(ask_threshold)
        self.verify_below = float(verify_below)
        self.fp_cost = float(fp_cost)
        self.extra_fields = tuple(extra_fields)
        self.retrain_every = retrain_every
        self.random_negatives = random_negatives
        self.use_context = use_context
        self.max_training_rows = max_training_rows
        self.design_cache_limit = design_cache_limit
        self.answer_weight = float(answer_weight)  # an answer counts as this many weak labels
        #: a "no" whose pair has an unrejected rival within this many nats is not learnt from
        self.explained_margin = float(explained_margin)
        self.explained_rejections = np.zeros(0, dtype=bool)
        self.contradicted_answers = np.zeros(0, dtype=bool)
        self._unsettled_cache: tuple[bytes, np.ndarray, np.ndarray] | None = None
        self._disagree: np.ndarray | None = None
        #: makes a fresh classifier (scikit-learn's binary interface); default ``LinkClassifier``
        self.estimator = estimator or default_estimator
        self.left_ids = _ids(self.left, "left")
        self.right_ids = _ids(self.right, "right")
        self.prepared = False
        self.timings: dict[str, float] = {}
        self.n_candidates = 0
        self.answers_since_retrain = 0
        self.n_retrains = 0
        self.history: list[tuple[int, bool, float]] = []  # (pair, answer, probability before)
        self.errors_at_start = 0.0  # expected wrong entries among open pairs before any answer
        self._lpos = {v: i for i, v in enumerate(self.left_ids)}
        self._rpos = {v: i for i, v in enumerate(self.right_ids)}
        self._pair_pos: dict[int, int] = {}
        self._static_cache: tuple[tuple[int, int], StaticDesign | None, StaticDesign] | None = None
        self._group_cache: tuple[Groups, Groups] | None = None

    # ---- preparation ---------------------------------------------------------------------------
    def prepare(self, progress: Progress | None = None) -> MatchSession:
        """Candidates, comparison levels, the unsupervised start and the first classifier."""
        say = progress or (lambda f, m: None)
        t0 = time.perf_counter()
        say(0.0, "folding names and parsing numbers")
        self.L: PreparedPeople = prepare_people(self.left, extra_fields=self.extra_fields)
        self.R: PreparedPeople = prepare_people(self.right, extra_fields=self.extra_fields)
        add_frequencies(self.L, self.R)
        t1 = time.perf_counter()
        say(0.2, "generating candidate pairs")
        self.candidates: CandidatePairs = generate_candidates(self.L, self.R)
        self.il, self.ir = self.candidates.il, self.candidates.ir
        self.n_candidates = len(self.il)
        t2 = time.perf_counter()
        say(0.35, f"comparing {self.n_candidates} candidate pairs")
        self.comparisons: list[Comparison] = default_comparisons(self.L, self.R)
        self.features = self._compare(self.il, self.ir)
        self.level_columns = [c.name for c in self.comparisons]
        t3 = time.perf_counter()
        say(0.6, "fitting the starting model")
        self.model = LinkModel(self.comparisons, tf_columns=[c for c in self.features.columns if c.endswith("_tf")],
                               use_context=self.use_context, estimator_factory=self.estimator)
        # an unsettled pair (a namesake nothing but the names tells apart) is held just below auto: asked
        self.model.unsettled_cap = max(0.99 * self.auto_threshold, self.ask_threshold)
        self.model.outside_units = units_outside(self.features, self.model.design.comparisons, self.R.org_unit[self.ir])
        self.model.fit_start(self.features, self.il, self.ir, len(self.L), len(self.R))
        self.z0 = self.model.start_logit(self.features)
        self.z1 = self.z0.copy()
        self.context = np.zeros((self.n_candidates, 3))
        self.decision = np.zeros(self.n_candidates, dtype=np.int8)
        self.manual = np.zeros(self.n_candidates, dtype=bool)
        self._random_pairs()
        t4 = time.perf_counter()
        say(0.75, "training the classifier on weak labels")
        self.prepared = True
        self.retrain()
        t5 = time.perf_counter()
        self.timings.update(prepare=t1 - t0, candidates=t2 - t1, features=t3 - t2, start_model=t4 - t3,
                            classifier=t5 - t4)
        say(1.0, "ready")
        return self

    def _compare(self, il: np.ndarray, ir: np.ndarray) -> pd.DataFrame:
        return compare_pairs(self.L, self.R, il, ir, self.comparisons)

    def _pairs(self, il: np.ndarray, ir: np.ndarray) -> Pairs:
        return Pairs(self.L, self.R, il, ir)

    def _random_pairs(self) -> None:
        """Random people pairs (not candidates): near-certain non-links for the weak labels."""
        rng = np.random.default_rng(self.seed)
        n = min(self.random_negatives, max(len(self.L) * len(self.R) - self.n_candidates, 0))
        if n == 0 or len(self.L) == 0 or len(self.R) == 0 or self.n_candidates == 0:
            self.rand_il = self.rand_ir = np.zeros(0, np.int64)
            self.rand_features = self.features.iloc[:0]
            self.rand_context = np.zeros((0, 3))
            return
        il = rng.integers(0, len(self.L), n)
        ir = rng.integers(0, len(self.R), n)
        width = np.int64(len(self.R))
        code = np.unique(il * width + ir)
        code = code[~np.isin(code, self.il * width + self.ir)]
        self.rand_il, self.rand_ir = code // width, code % width
        scored = self.model.score_outsiders(self._pairs(self.rand_il, self.rand_ir), self._pairs(self.il, self.ir),
                                            self._start_scores())
        self.rand_features, self.rand_context = scored.features, scored.context

    # ---- the conversation's view of the model -------------------------------------------------
    def _groups(self) -> tuple[Groups, Groups]:
        """Left and right group indices of the candidate pairs (rebuilt when pairs are added)."""
        cached = self._group_cache
        if cached is None or len(cached[0].ids) != len(self.il):
            cached = self._group_cache = (Groups(self.il), Groups(self.ir))
        return cached

    def _start_scores(self) -> np.ndarray:
        """The starting model's log-odds with the operator's decisions applied."""
        z = self.z0.copy()
        z[self.decision == Answer.YES] = _YES_LOGIT
        z[self.decision == Answer.NO] = _NO_LOGIT
        return z

    def _rival_gap(self) -> np.ndarray:
        """Per pair: the start's log-odds minus that of its best other candidate on either side,
        answers applied to the others (a rejected rival is no rival, a confirmed one is certain)."""
        rivals = self._start_scores()
        best = np.maximum(competitor_scores(rivals, self.il), competitor_scores(rivals, self.ir))
        return self.z0 - best

    def _name_rivals(self) -> np.ndarray:
        """Per pair: other candidates of its people with close given and family names
        (``NAME_CLOSE``) that nothing tells apart (no birth date years apart, no two personnummer)
        and that are not rejected."""
        comparisons = self.model.design.comparisons
        if self._disagree is None or len(self._disagree) != self.n_candidates:
            self._disagree = identifiers_disagree(self.features, comparisons)
        ignore = (self.decision == Answer.NO) | self._disagree
        return name_rivals(self.features, comparisons, self.il, self.ir, ignore=ignore)

    def _unsettled(self) -> np.ndarray:
        """Open pairs the model holds below the auto threshold (``weaklabels.unsettled``:
        namesakes nothing but the names tells apart); a rejected rival is no rival. Cached per set of answers: ``mark_pairs`` refreshes often."""
        key = self.decision.tobytes()
        if self._unsettled_cache is None or self._unsettled_cache[0] != key:
            units = self.R.org_unit[self.ir]
            held = self.model.unsettled(self.features, self.il, self.ir, ignore=self.decision == Answer.NO,
                                        right_units=units)
            held &= self.decision == Answer.OPEN
            self._unsettled_cache = (key, held, self.model.held_caps(self.features, held, units))
        return self._unsettled_cache[1]

    def _held_caps(self) -> np.ndarray:
        """Per pair, the highest probability it may show (``LinkModel.held_caps`` of ``_unsettled``)."""
        self._unsettled()
        assert self._unsettled_cache is not None
        return self._unsettled_cache[2]

    def _labels(self, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weak labels with the answers on top, and the training weight of each candidate.

        A "no" to a pair that another, unrejected candidate of the same person matches as well
        (a close name that nothing tells apart, or start log-odds within ``explained_margin``)
        is explained by the one-to-one competition: it is kept as an answer (the pair is clamped)
        but not learnt from, weight 0 (``explained_rejections``). Learnt with an answer's weight,
        it taught the classifier that the agreement such a namesake shares with the real
        counterpart (same name, same school) is weak evidence for every pair that has it: on the
        pupil worlds recall fell as answers came in. An answer against the weak labels where the
        names say so too (``contradicted_answers``) weighs one weak label: a "no" to a pair whose
        full names agree and that nobody else comes close to (a namesake the data cannot tell
        apart, or a slip), a "yes" to a names-only pair whose names are not close (a slip, or a
        lesson the next answers must confirm). At an answer's weight, one such slip moved
        untouched true pairs below the auto threshold on the pupil worlds.
        """
        start_post = np.minimum(sigmoid(context[:, 1]), sigmoid(context[:, 2]))
        if not self.use_context:
            start_post = np.full(len(context), 0.5)  # no context: the start's posterior says nothing
        yes, no = self.decision == Answer.YES, self.decision == Answer.NO
        rivals = self._name_rivals()
        y = weak_labels(self.features, start_post, self.model.design.comparisons, alone=rivals == 0).astype(np.int8)
        comparisons = self.model.design.comparisons
        close = level_in(self.features, comparisons, "given_name", *NAME_CLOSE["given_name"]) & level_in(
            self.features, comparisons, "family_name", *NAME_CLOSE["family_name"])
        names_only = self.model.design.names_only(self.features)
        self.contradicted_answers = (no & (y == 1)) | (yes & (y == 0) & ~close & names_only)
        y[yes], y[no] = 1, 0
        w = np.ones(self.n_candidates)
        self.explained_rejections = no & ((rivals > 0) | (self._rival_gap() <= self.explained_margin))
        return y, w

    def retrain(self) -> None:
        """Refit the classifier on weak labels and every answer; refresh probabilities and links."""
        self._require()
        self.answers_since_retrain = 0
        self.n_retrains += 1
        if self.n_candidates == 0:
            self.z1 = np.zeros(0)
            self._refresh()
            return
        gl, gr = self._groups()
        context = self.model.context(self.z0, gl, gr, rivals=self._start_scores())
        self.context = context
        y, w = self._labels(context)
        static_cand, static_rand = self._static_designs()
        train = np.nonzero(y != UNLABELLED)[0]
        rng = np.random.default_rng(self.seed + self.n_retrains)
        # keep every answer and every weak link; thin out the (plentiful) weak non-links
        answered = (self.decision == Answer.YES) | (self.decision == Answer.NO)
        neg = train[(y[train] == 0) & ~answered[train]]
        budget = max(self.max_training_rows - (len(train) - len(neg)) - len(self.rand_il), 10_000)
        if len(neg) > budget:
            keep = rng.choice(neg, size=budget, replace=False)
            w[neg] = len(neg) / budget
            train = np.union1d(train[(y[train] == 1) | answered[train]], keep)
        w[answered] = self.answer_weight
        w[self.contradicted_answers] = 1.0
        w[self.explained_rejections] = 0.0
        train_part = static_cand.take(train) if static_cand is not None \
            else self.model.static_part(self.features.iloc[train])
        self.model.fit_classifier(
            StaticDesign.stack([train_part, static_rand]),
            np.concatenate([context[train], self.rand_context]),
            np.concatenate([y[train], np.zeros(len(self.rand_il), np.int8)]),
            sample_weight=np.concatenate([w[train], np.ones(len(self.rand_il))]),
        )
        if self.model.has_classifier:
            self.model.remember_centres(self.features)
            # millions of pairs (no cached design): the model builds it chunk by chunk
            self.z1 = self.model.pair_logit(self.features, context, static=static_cand)
        else:  # too little data to learn from: the starting model
            self.z1 = self.z0.copy()
        self.model.fit_coverage(self.z1, gl, gr, len(self.L), len(self.R))
        self._refresh()

    def _static_designs(self) -> tuple[StaticDesign | None, StaticDesign]:
        """The answer-independent part of the design for candidates and random pairs (cached;
        for more than ``design_cache_limit`` candidates only the random pairs' part is kept)."""
        key = (self.n_candidates, len(self.rand_il))
        cached = self._static_cache
        if cached is None or cached[0] != key:
            cand = self.model.static_part(self.features) if self.n_candidates <= self.design_cache_limit else None
            cached = self._static_cache = (key, cand, self.model.static_part(self.rand_features))
        return cached[1], cached[2]

    def _refresh(self) -> None:
        """Probabilities (one-to-one posteriors with answers applied) and the link assignment."""
        if self.n_candidates == 0:
            self.probability = np.zeros(0)
            self.linked = np.zeros(0, bool)
            return
        z = self.z1.copy()
        yes, no = self.decision == Answer.YES, self.decision == Answer.NO
        z[yes], z[no] = _YES_LOGIT, _NO_LOGIT
        gl, gr = self._groups()
        p = self.model.probability(z, gl, gr, self._held_caps())
        p[yes], p[no] = 1.0, 0.0
        self.probability = p
        weight = logit(p) - logit(np.full(len(p), self.auto_threshold))
        self.linked = assign_one_to_one(self.il, self.ir, weight, confirmed=yes, rejected=no)
        if not self.history:  # the yardstick for the pace of the answers (estimated_questions_left)
            self.errors_at_start = expected_errors(self)

    def _require(self) -> None:
        if not self.prepared:
            raise RuntimeError("call prepare() first")

    # ---- the operator loop ---------------------------------------------------------------------
    def _index_of(self, pairs: Sequence[tuple[str, str]], *, add_missing: bool) -> np.ndarray:
        if len(self._pair_pos) != self.n_candidates:
            codes = self.il * np.int64(max(len(self.R), 1)) + self.ir
            self._pair_pos = dict(zip(codes.tolist(), range(self.n_candidates), strict=True))
        out = []
        width = int(max(len(self.R), 1))
        for left_id, right_id in pairs:
            i, j = self._lpos.get(str(left_id)), self._rpos.get(str(right_id))
            if i is None:
                raise InputError(f"unknown left id {left_id!r}")
            if j is None:
                raise InputError(f"unknown right id {right_id!r}")
            k = self._pair_pos.get(i * width + j)
            if k is None:
                if not add_missing:
                    out.append(-1)
                    continue
                k = self._add_pair(i, j)
            out.append(k)
        return np.asarray(out, dtype=np.int64)

    def _outsider(self, i: int, j: int) -> PairScores:
        """The model's scores of one pair that is not a candidate (context against the candidates)."""
        il, ir = np.array([i], np.int64), np.array([j], np.int64)
        return self.model.score_outsiders(self._pairs(il, ir), self._pairs(self.il, self.ir), self._start_scores())

    def _add_pair(self, i: int, j: int) -> int:
        """A pair the operator named that blocking did not propose: compare it and append it."""
        scored = self._outsider(i, j)
        self.il, self.ir = np.append(self.il, i), np.append(self.ir, j)
        self.features = pd.concat([self.features, scored.features], ignore_index=True)
        self.z0, self.z1 = np.append(self.z0, scored.start_logit), np.append(self.z1, scored.logit)
        self.context = np.concatenate([self.context, scored.context])
        self.decision = np.append(self.decision, np.int8(Answer.OPEN))
        self.manual = np.append(self.manual, True)
        self.n_candidates += 1
        k = self.n_candidates - 1
        self._pair_pos[i * int(max(len(self.R), 1)) + j] = k
        return k

    def mark_pairs(self, pairs: Sequence[tuple[str, str]], labels: Sequence[bool | None]) -> None:
        """Record answers (True = same person, False = not, None = unsure) and refresh the links.

        Cheap: no retraining unless ``retrain_every`` answers have piled up since the last one.
        A pair that is not a candidate is added (the operator linked it by hand).
        """
        self._require()
        if len(pairs) != len(labels):
            raise InputError("mark_pairs needs one label per pair")
        idx = self._index_of(pairs, add_missing=True)
        for k, label in zip(idx, labels, strict=True):
            before = float(self.probability[k]) if k < len(self.probability) else float("nan")
            if label is None:
                self.decision[k] = Answer.UNSURE
                continue
            self.decision[k] = Answer.YES if label else Answer.NO
            self.history.append((int(k), bool(label), before))
            self.answers_since_retrain += 1
        if self.retrain_every and self.answers_since_retrain >= self.retrain_every:
            self.retrain()
        else:
            self._refresh()

    def forget(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Take answers back (an undo): the pairs are undecided again."""
        self._require()
        idx = self._index_of(pairs, add_missing=False)
        idx = idx[idx >= 0]
        self.decision[idx] = Answer.OPEN
        self.history = [h for h in self.history if h[0] not in set(idx.tolist())]
        self._refresh()

    def uncertain_pairs(self, n: int = 1) -> list[tuple[str, str]]:
        """The next questions: uncertain pairs whose answer can change the links, diverse."""
        self._require()
        picked = pick_questions(self, n)
        return [(str(self.left_ids[self.il[k]]), str(self.right_ids[self.ir[k]])) for k in picked]

    def estimated_questions_left(self) -> int:
        """About how many more answers before ``should_stop()`` says asking no longer pays off.

        0 exactly when ``should_stop()`` is true. Otherwise a blend of the open questions worth
        asking on their own and the pace at which the answers so far brought the expected wrong
        entries down towards the one ``should_stop()`` stops at; see
        ``active.questions_to_stop``. Not the number of open pairs: most of those are settled by
        the retraining that other answers bring, never by a question of their own.
        """
        self._require()
        return questions_to_stop(self)

    def open_questions(self) -> int:
        """How many questions the open pairs still hold (one per person, at most), whether or not
        asking them still pays off: what an operator who wants to go on anyway can answer."""
        self._require()
        return questions_left(self)

    def should_stop(self) -> bool:
        self._require()
        return stop_paying_off(self)

    # ---- results -------------------------------------------------------------------------------
    def band_of(self, p: np.ndarray) -> np.ndarray:
        return np.where(p >= self.auto_threshold, "auto", np.where(p >= self.ask_threshold, "ask", "none"))

    def scores(self) -> pd.DataFrame:
        """Every candidate pair: ids, probability, band and the operator's decision (or None)."""
        self._require()
        p = self.probability
        return pd.DataFrame({
            "left_id": self.left_ids[self.il].astype(str),
            "right_id": self.right_ids[self.ir].astype(str),
            "probability": p,
            "band": self.band_of(p),
            "decision": pd.Series([DECISION_OF_ANSWER[Answer(int(d))] for d in self.decision], dtype=object),
        })

    def links(self) -> pd.DataFrame:
        """The one-to-one link table: auto links and the operator's confirmed (or manual) pairs."""
        self._require()
        k = np.nonzero(self.linked)[0]
        status = np.where(self.decision[k] == Answer.YES,
                          np.where(self.manual[k], Decision.MANUAL.value, Decision.CONFIRMED.value), Decision.AUTO.value)
        return pd.DataFrame({
            "left_id": self.left_ids[self.il[k]].astype(str),
            "right_id": self.right_ids[self.ir[k]].astype(str),
            "probability": self.probability[k],
            "status": status,
        }).sort_values(["left_id", "right_id"], ignore_index=True)

    def pair_scores(self, left_id: str, right_id: str) -> PairScores:
        """The model's intermediate values for one pair, as the session holds them: a candidate's
        own row (its probability with the answers applied), or a pair blocking did not propose
        scored against the candidates (its probability the plain sigmoid of its log-odds)."""
        self._require()
        k = self.pair_index(left_id, right_id)
        if k < 0:
            return self._outsider(self._lpos[str(left_id)], self._rpos[str(right_id)])
        return PairScores(self.features.iloc[[k]].reset_index(drop=True), self.z0[[k]], self.context[[k]],
                          self.z1[[k]], self.probability[[k]])

    def explain(self, left_id: str, right_id: str) -> pd.DataFrame:
        """Which comparisons pushed this pair's probability up or down (``attrs['summary']``: a
        sentence); see ``matching.explain.explain_pair`` for the columns."""
        scores = self.pair_scores(left_id, right_id)
        return explain_pair(self.model, scores, self.left.iloc[self._lpos[str(left_id)]],
                            self.right.iloc[self._rpos[str(right_id)]])

    def pair_index(self, left_id: str, right_id: str) -> int:
        """Position of a candidate pair in the arrays (-1 if it is not a candidate)."""
        return int(self._index_of([(left_id, right_id)], add_missing=False)[0])
