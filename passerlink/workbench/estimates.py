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

__all__ = ["THRESHOLDS", "threshold_table", "histogram"]

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
