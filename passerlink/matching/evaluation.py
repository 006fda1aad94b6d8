"""Precision, recall and F1 of a link table against known true links."""

from __future__ import annotations

import pandas as pd

from passerlink.errors import InputError

__all__ = ["evaluate"]

_PAIR_COLUMNS = (("left_id", "right_id"), ("source_id", "m5_id"))


def _pairs(frame: pd.DataFrame, what: str) -> set[tuple[str, str]]:
    for a, b in _PAIR_COLUMNS:
        if a in frame.columns and b in frame.columns:
            return set(zip(frame[a].astype(str), frame[b].astype(str), strict=True))
    raise InputError(f"the {what} needs columns left_id,right_id (or source_id,m5_id)")


def evaluate(links: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """``precision, recall, f1, tp, fp, fn`` of ``links`` against ``truth`` (both left_id,right_id)."""
    found, true = _pairs(links, "link table"), _pairs(truth, "truth table")
    tp = len(found & true)
    fp = len(found) - tp
    fn = len(true) - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}
