"""Helpers for feature and matching tests: canonical tables from a few keyword rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from passerlink.features import (
    add_frequencies,
    compare_pairs,
    default_comparisons,
    luhn_check_digit,
    prepare_people,
)
from passerlink.people import CANONICAL_COLUMNS


def people(*rows: dict) -> pd.DataFrame:
    """A canonical table; unspecified fields are "" and ids are r0, r1, ... unless given."""
    out = []
    for i, r in enumerate(rows):
        row = dict.fromkeys(CANONICAL_COLUMNS, "")
        row.update(source="t", source_id=f"r{i}")
        row.update(r)
        out.append(row)
    return pd.DataFrame(out, columns=CANONICAL_COLUMNS)


def pnr(date8: str, serial3: str) -> str:
    """A valid 12-digit personnummer for ``YYYYMMDD`` and a three-digit serial."""
    return date8 + serial3 + luhn_check_digit(date8[2:] + serial3)


def compare_one(left: dict, right: dict, *others: dict, comparisons=None) -> pd.Series:
    """Comparison row of the pair (left, right) with every level given by its *name* (tests ask
    by name, never by rank); ``others`` pad the right table (frequencies)."""
    L = prepare_people(people(left))
    R = prepare_people(people(right, *others))
    add_frequencies(L, R)
    comps = list(comparisons) if comparisons is not None else default_comparisons(L, R)
    row = compare_pairs(L, R, np.array([0]), np.array([0]), comps).iloc[0].astype(object)
    for c in comps:
        row[c.name] = c.level_name(int(row[c.name]))
    return row

