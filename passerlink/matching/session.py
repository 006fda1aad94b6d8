"""One go-live matching of a left table (a register) against a right table (M5 users).

``prepare()`` does the heavy part once: folding, candidate pairs, comparison levels, the
unsupervised Fellegi-Sunter start, weak labels and the first classifier. After that the operator
loop only touches arrays of one row per candidate pair:

* ``mark_pairs`` records answers and refreshes probabilities and links *without* retraining
  (clamps the answered pairs, recomputes the one-to-one posteriors and the assignment: tens of
  milliseconds on 5,000 x 5,000). It retrains by itself only every ``retrain_every`` answers when
  that is set (the CLI does it per batch; the workbench retrains in the background).
* ``retrain`` refits the logistic regression on weak labels plus every answer (a fraction of a
  second on 5,000 x 5,000).

Probabilities are one-to-one posteriors: the classifier's pair log-odds normalised over the
other candidates of both people, so a pair with a strong rival is never a confident link.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from passerlink.errors import InputError
from passerlink.features.comparisons import Comparison, compare_pairs, default_comparisons
from passerlink.features.prepare import PreparedPeople, add_frequencies, prepare_people
from passerlink.matching.active import (
    expected_errors,
    pick_questions,
    questions_left,
    questions_to_stop,
    stop_paying_off,
)
from passerlink.matching.assignment import assign_one_to_one
from passerlink.matching.candidates import CandidatePairs, generate_candidates
from passerlink.matching.classifier import LinkClassifier, logit
from passerlink.matching.context import Groups, estimate_coverage, group_posterior, rival_posterior
from passerlink.matching.fellegi_sunter import FellegiSunter, tf_adjustment
from passerlink.matching.weaklabels import UNLABELLED, weak_labels

__all__ = ["MatchSession", "Progress"]

Progress = Callable[[float, str], None]

_DECISION_NONE, _DECISION_YES, _DECISION_NO, _DECISION_UNSURE = 0, 1, 2, 3
_DECISION_NAMES = {_DECISION_NONE: None, _DECISION_YES: "confirmed", _DECISION_NO: "rejected",
                   _DECISION_UNSURE: "unsure"}


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
    """Candidates, features, model, answers and links for one left table against one right table."""

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
        self.left_ids = _ids(self.left, "left")
        self.right_ids = _ids(self.right, "right")
        self._prepared = False
        self.timings: dict[str, float] = {}
        self.n_candidates = 0
        self.answers_since_retrain = 0
        self.n_retrains = 0
        self.history: list[tuple[int, bool, float]] = []  # (pair, answer, probability before)
        self.errors_at_start = 0.0  # expected wrong entries among open pairs before any answer

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
        self.features = compare_pairs(self.L, self.R, self.il, self.ir, self.comparisons)
        self.level_columns = [c.name for c in self.comparisons]
        self.n_levels = {c.name: max(c.labels) + 1 for c in self.comparisons}
        t3 = time.perf_counter()
        say(0.6, "fitting the starting model")
        self._fit_start()
        t4 = time.perf_counter()
        say(0.75, "training the classifier on weak labels")
        self.decision = np.zeros(self.n_candidates, dtype=np.int8)
        self.manual = np.zeros(self.n_candidates, dtype=bool)
        self._prepared = True
        self.retrain()
        t5 = time.perf_counter()
        self.timings.update(prepare=t1 - t0, candidates=t2 - t1, features=t3 - t2, start_model=t4 - t3,
                            classifier=t5 - t4)
        say(1.0, "ready")
        return self

    def _tf_adjust(self, features: pd.DataFrame) -> np.ndarray:
        total = np.zeros(len(features))
        for col, ref in self.tf_reference_.items():
            if col in features.columns:
                total += tf_adjustment(features[col].to_numpy(dtype=np.float64), ref)
        return total

    def _fit_start(self) -> None:
        lv = self.features[self.level_columns]
        self.tf_reference_: dict[str, float] = {}
        for col in ("family_tf", "given_tf"):
            if col in self.features.columns:
                v = self.features[col].to_numpy(dtype=np.float64)
                v = v[~np.isnan(v)]
                if len(v):
                    self.tf_reference_[col] = float(np.mean(np.power(10.0, -v)))
        if self.n_candidates == 0:
            self.fs = None
            self.z0 = np.zeros(0)
            self.coverage0 = (0.0, 0.0)
            return
        self.fs = FellegiSunter().fit(lv, self.n_levels)
        self.z0 = self.fs.logit(lv, self._tf_adjust(self.features))
        start = min(1.0, float((1 / (1 + np.exp(-self.z0))).sum()) / max(len(self.L), 1))
        cl = estimate_coverage(self.z0, self.il, len(self.L), start=start)
        start = min(1.0, float((1 / (1 + np.exp(-self.z0))).sum()) / max(len(self.R), 1))
        cr = estimate_coverage(self.z0, self.ir, len(self.R), start=start)
        self.coverage0 = (cl, cr)
        self._random_pairs()

    def _random_pairs(self) -> None:
        """Random people pairs (not candidates): near-certain non-links for the weak labels."""
        rng = np.random.default_rng(self.seed)
        n = min(self.random_negatives, max(len(self.L) * len(self.R) - self.n_candidates, 0))
        if n == 0 or len(self.L) == 0 or len(self.R) == 0:
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
        self.rand_features = compare_pairs(self.L, self.R, self.rand_il, self.rand_ir, self.comparisons)
        z = self.fs.logit(self.rand_features[self.level_columns], self._tf_adjust(self.rand_features))
        self.rand_context = self._context_for_outsiders(z, self.rand_il, self.rand_ir)

    def _context_for_outsiders(self, z: np.ndarray, il: np.ndarray, ir: np.ndarray) -> np.ndarray:
        """Context of pairs that are not candidates: as if each joined its people's candidate rows."""
        zc = self._start_scores()
        out = np.zeros((len(z), 3))
        out[:, 0] = z
        for k, (groups, own, cov, n) in enumerate(
            ((self.il, il, self.coverage0[0], len(self.L)), (self.ir, ir, self.coverage0[1], len(self.R)))
        ):
            sums = np.zeros(n)
            np.add.at(sums, groups, np.exp(np.clip(zc, -700, 700)))
            e = np.exp(np.clip(z, -700, 700))
            post = e / ((1 - cov) + sums[own] + e)
            out[:, k + 1] = logit(post)
        return out

    # ---- model ---------------------------------------------------------------------------------
    def _groups(self) -> tuple[Groups, Groups]:
        """Left and right group indices of the candidate pairs (rebuilt when pairs are added)."""
        cached = getattr(self, "_group_cache", None)
        if cached is None or len(cached[0].ids) != len(self.il):
            cached = self._group_cache = (Groups(self.il), Groups(self.ir))
        return cached

    def _start_scores(self) -> np.ndarray:
        """The starting model's log-odds with the operator's decisions applied."""
        z = self.z0.copy()
        if hasattr(self, "decision"):
            z[self.decision == _DECISION_YES] = 50.0
            z[self.decision == _DECISION_NO] = -700.0
        return z

    def _context(self) -> np.ndarray:
        """(starting log-odds, row posterior logit, column posterior logit) of every candidate.

        The operator's answers change the rivals of a pair, never the pair's own context.
        """
        z = self._start_scores()
        gl, gr = self._groups()
        row = rival_posterior(self.z0, z, gl, self.coverage0[0])
        col = rival_posterior(self.z0, z, gr, self.coverage0[1])
        return np.stack([self.z0, logit(row), logit(col)], axis=1)

    def retrain(self) -> None:
        """Refit the classifier on weak labels and every answer; refresh probabilities and links."""
        self._require()
        self.answers_since_retrain = 0
        self.n_retrains += 1
        if self.n_candidates == 0:
            self.z1 = np.zeros(0)
            self._refresh()
            return
        context = self._context()
        self.context = context
        if not self.use_context:
            context = np.zeros_like(context)
        start_post = np.minimum(1 / (1 + np.exp(-context[:, 1])), 1 / (1 + np.exp(-context[:, 2])))
        y = weak_labels(self.features, start_post).astype(np.int8)
        w = np.ones(self.n_candidates)
        yes, no = self.decision == _DECISION_YES, self.decision == _DECISION_NO
        y[yes], y[no] = 1, 0
        previous = getattr(self, "clf", None)
        self.clf = LinkClassifier()
        self.clf.set_layout(self.features, self.level_columns, self.n_levels)
        static_cand, static_rand = self._static_designs(self.clf)
        train = np.nonzero(y != UNLABELLED)[0]
        rng = np.random.default_rng(self.seed + self.n_retrains)
        # keep every answer and every weak link; thin out the (plentiful) weak non-links
        answered = yes | no
        neg = train[(y[train] == 0) & ~answered[train]]
        budget = max(self.max_training_rows - (len(train) - len(neg)) - len(self.rand_il), 10_000)
        if len(neg) > budget:
            keep = rng.choice(neg, size=budget, replace=False)
            w[neg] = len(neg) / budget
            train = np.union1d(train[(y[train] == 1) | answered[train]], keep)
        w[answered] = self.clf.answer_weight
        train_part = (static_cand[0][train], static_cand[1][train]) if static_cand is not None \
            else self.clf.static_part(self.features.iloc[train])
        static = (sparse.vstack([train_part[0], static_rand[0]], format="csr"),
                  np.concatenate([train_part[1], static_rand[1]]))
        ctx = np.concatenate([context[train], self.rand_context])
        yy = np.concatenate([y[train], np.zeros(len(self.rand_il), np.int8)])
        ww = np.concatenate([w[train], np.ones(len(self.rand_il))])
        if len(np.unique(yy)) < 2:  # too little data to learn from: keep the starting model
            self.clf = None
            self.z1 = self.z0.copy()
        else:
            self.clf.fit(None, ctx, yy, level_columns=self.level_columns, n_levels=self.n_levels, sample_weight=ww,
                         warm_start_from=previous, static=static)
            self.clf.remember_level_means(self.features)
            if static_cand is not None:
                self.z1 = self.clf.decision_function(None, context, static=static_cand)
            else:  # millions of pairs: build the design chunk by chunk instead of keeping it
                self.z1 = self.clf.decision_function(self.features, context)
        gl, gr = self._groups()
        # the fixed point moves little between retrains: start from the last one (fewer rounds)
        start = getattr(self, "coverage", self.coverage0)
        self.coverage = (
            estimate_coverage(self.z1, gl, len(self.L), start=start[0]),
            estimate_coverage(self.z1, gr, len(self.R), start=start[1]),
        )
        self._refresh()

    def _static_designs(self, clf: LinkClassifier):
        """The answer-independent part of the design for candidates and random pairs (cached;
        for more than ``design_cache_limit`` candidates only the random pairs' part is kept)."""
        key = (self.n_candidates, len(self.rand_il))
        cached = getattr(self, "_static_cache", None)
        if cached is None or cached[0] != key:
            cand = clf.static_part(self.features) if self.n_candidates <= self.design_cache_limit else None
            cached = self._static_cache = (key, cand, clf.static_part(self.rand_features))
        return cached[1], cached[2]

    def _refresh(self) -> None:
        """Probabilities (one-to-one posteriors with answers applied) and the link assignment."""
        if self.n_candidates == 0:
            self.probability = np.zeros(0)
            self.linked = np.zeros(0, bool)
            return
        z = self.z1.copy()
        yes, no = self.decision == _DECISION_YES, self.decision == _DECISION_NO
        z[yes], z[no] = 50.0, -700.0
        gl, gr = self._groups()
        row = group_posterior(z, gl, self.coverage[0])
        col = group_posterior(z, gr, self.coverage[1])
        p = np.minimum(row, col)
        p[yes], p[no] = 1.0, 0.0
        self.probability = p
        weight = logit(p) - logit(np.full(len(p), self.auto_threshold))
        self.linked = assign_one_to_one(self.il, self.ir, weight, confirmed=yes, rejected=no)
        if not self.history:  # the yardstick for the pace of the answers (estimated_questions_left)
            self.errors_at_start = expected_errors(self)

    def _require(self) -> None:
        if not self._prepared:
            raise RuntimeError("call prepare() first")

    # ---- the operator loop ---------------------------------------------------------------------
    def _index_of(self, pairs: Sequence[tuple[str, str]], *, add_missing: bool) -> np.ndarray:
        lpos = getattr(self, "_lpos", None)
        if lpos is None:
            self._lpos = lpos = {v: i for i, v in enumerate(self.left_ids)}
            self._rpos = {v: i for i, v in enumerate(self.right_ids)}
            self._pair_pos = {}
        if len(self._pair_pos) != self.n_candidates:
            width = np.int64(max(len(self.R), 1))
            self._pair_pos = dict(zip((self.il * width + self.ir).tolist(), range(self.n_candidates), strict=True))
        out = []
        width = int(max(len(self.R), 1))
        for left_id, right_id in pairs:
            i, j = lpos.get(str(left_id)), self._rpos.get(str(right_id))
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

    def _add_pair(self, i: int, j: int) -> int:
        """A pair the operator named that blocking did not propose: compare it and append it."""
        il, ir = np.array([i], np.int64), np.array([j], np.int64)
        feats = compare_pairs(self.L, self.R, il, ir, self.comparisons)
        z0 = self.fs.logit(feats[self.level_columns], self._tf_adjust(feats)) if self.fs else np.zeros(1)
        ctx = self._context_for_outsiders(z0, il, ir)
        z1 = self.clf.decision_function(feats, ctx) if self.clf is not None else z0
        self.il, self.ir = np.append(self.il, i), np.append(self.ir, j)
        self.features = pd.concat([self.features, feats], ignore_index=True)
        self.z0, self.z1 = np.append(self.z0, z0), np.append(self.z1, z1)
        self.context = np.concatenate([self.context, ctx]) if hasattr(self, "context") else ctx
        self.decision = np.append(self.decision, np.int8(_DECISION_NONE))
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
                self.decision[k] = _DECISION_UNSURE
                continue
            self.decision[k] = _DECISION_YES if label else _DECISION_NO
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
        self.decision[idx] = _DECISION_NONE
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
            "decision": pd.Series([_DECISION_NAMES[int(d)] for d in self.decision], dtype=object),
        })

    def links(self) -> pd.DataFrame:
        """The one-to-one link table: auto links and the operator's confirmed (or manual) pairs."""
        self._require()
        k = np.nonzero(self.linked)[0]
        status = np.where(self.decision[k] == _DECISION_YES, np.where(self.manual[k], "manual", "confirmed"), "auto")
        return pd.DataFrame({
            "left_id": self.left_ids[self.il[k]].astype(str),
            "right_id": self.right_ids[self.ir[k]].astype(str),
            "probability": self.probability[k],
            "status": status,
        }).sort_values(["left_id", "right_id"], ignore_index=True)

    def explain(self, left_id: str, right_id: str) -> pd.DataFrame:
        """Which comparisons pushed this pair's probability up or down (``attrs['summary']``: a sentence)."""
        from passerlink.matching.explain import explain_pair

        self._require()
        return explain_pair(self, str(left_id), str(right_id))

    def pair_index(self, left_id: str, right_id: str) -> int:
        """Position of a candidate pair in the arrays (-1 if it is not a candidate)."""
        return int(self._index_of([(left_id, right_id)], add_missing=False)[0])
