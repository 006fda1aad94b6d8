"""What a threshold would give, estimated from the model's own probabilities (no truth needed).

On go-live day there are no labels to measure precision against, but a calibrated probability
is an expected value: above threshold ``t`` the expected share of true links is the mean
probability there (precision), and the expected share of all true links captured is the sum
above ``t`` over the sum everywhere (recall). Good enough to choose a threshold; the matching
notebooks measure the real figures on the sample world.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["THRESHOLDS", "threshold_table", "histogram", "QuestionsLeft", "contradicts", "CONFIDENT"]

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def threshold_table(probability: Sequence[float] | np.ndarray, thresholds: Sequence[float] = THRESHOLDS) -> pd.DataFrame:
    """``threshold, links, precision, recall`` for each threshold."""
    p = np.asarray(probability, dtype=float)
    p = p[np.isfinite(p)]
    total = float(p.sum())
    rows = []
    for th in thresholds:
        above = p[p >= th]
        rows.append({
            "threshold": float(th),
            "links": int(above.size),
            "precision": float(above.mean()) if above.size else float("nan"),
            "recall": float(above.sum() / total) if total > 0 else float("nan"),
        })
    return pd.DataFrame(rows, columns=["threshold", "links", "precision", "recall"])


def histogram(probability: Sequence[float] | np.ndarray, bins: int = 20) -> pd.DataFrame:
    """Counts of pairs per probability bin: ``bin`` (lower edge), ``pairs``."""
    p = np.asarray(probability, dtype=float)
    counts, edges = np.histogram(p[np.isfinite(p)], bins=bins, range=(0.0, 1.0))
    return pd.DataFrame({"bin": np.round(edges[:-1], 3), "pairs": counts.astype(int)})


# ---- questions left ---------------------------------------------------------------------------------
#: Answers after which the estimate is held steady (before that it follows the model freely).
SETTLE_AFTER = 20
#: The most the estimate may move between two consecutive answers (a share of the last value),
#: unless the answer contradicted the model.
MAX_STEP = 0.30
#: How much of the gap between the smoothed estimate and the model's raw one each answer closes.
PULL = 0.25
#: A confident model: an answer "no" at or above this, or "yes" at or below 1 - this, contradicts it.
CONFIDENT = 0.90


def contradicts(probability: float, label: bool | None) -> bool:
    """True when an answer goes against a confident model (no at >= 90 %, yes at <= 10 %)."""
    if label is None or probability != probability:  # unsure, or no probability (NaN)
        return False
    return (label is False and probability >= CONFIDENT) or (label is True and probability <= 1 - CONFIDENT)


class QuestionsLeft:
    """The "about N questions left" an operator plans by: the model's raw estimate, held steady.

    The session's own estimate (``MatchSession.estimated_questions_left``) jumps after every
    retrain, because a retrain moves many probabilities at once; an operator who reads 276, then
    601, then 476 cannot plan by it. This keeps one number per engine (every page reads the same
    one): it follows the raw estimate freely for the first ``SETTLE_AFTER`` answers, then moves a
    quarter of the way towards it per answer (at least one question), never more than
    ``MAX_STEP`` of the value shown after the previous answer, except after an answer that
    contradicted the model (the model was wrong: the raw estimate is taken as it is) and when the
    model stops (0: nothing is left to ask). Whole questions throughout.
    """

    def __init__(self) -> None:
        self.value: int | None = None
        self._base: int | None = None  # the value shown after the previous answer
        self._answered = -1

    def update(self, raw: int, answered: int, *, contradicted: bool = False, stopped: bool = False) -> int:
        """The estimate after ``answered`` answers, given the model's raw one.

        Called again with the same ``answered`` (a retrain between two answers), it keeps the value
        that answer gave: the operator sees one step per answer, the retrain's news comes with the
        next one.
        """
        raw = max(0, int(raw))
        settled = answered >= SETTLE_AFTER and not stopped and not contradicted and raw > 0
        if settled and answered == self._answered and self.value:
            return self.value  # one step per answer: a retrain between two answers waits for the next
        if answered != self._answered:
            self._base, self._answered = self.value, answered
        base = self._base
        if stopped or raw == 0 or base is None or base == 0 or answered < SETTLE_AFTER or contradicted:
            self.value = 0 if stopped else raw
            if contradicted:
                self._base = self.value  # a contradiction resets the reference as well
            return self.value
        gap = raw - base
        move = 0 if gap == 0 else max(1, int(round(PULL * abs(gap))))
        step = max(1, int(MAX_STEP * base))
        self.value = base + (1 if gap > 0 else -1) * min(move, step)
        return self.value

    def shown(self) -> int:
        """The value as an operator reads it (0 before the first estimate)."""
        return self.value or 0
