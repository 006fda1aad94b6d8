"""Weak labels: what the classifier learns from before the operator has said anything.

Near-certain links: a valid personnummer, an employee number or an e-mail address in common
*and* a similar name; or a pair the unsupervised model and the one-to-one context both find
overwhelming *and* that agrees on more than names, if only the org unit (a names-only pair
without rivals may be a namesake: a contractor in M5 who shares a name with an employee who is
not there; only the operator can tell, so such pairs are left for the classifier to learn from
answers). Near-certain non-links: two different valid personnummer (not a samordningsnummer
meeting a personnummer); pairs the starting model finds hopeless; random pairs of people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["weak_labels", "UNLABELLED"]

UNLABELLED = -1


def _level(features: pd.DataFrame, name: str) -> np.ndarray:
    if name not in features.columns:
        return np.full(len(features), -1, dtype=np.int16)
    return features[name].to_numpy(dtype=np.int16)


def weak_labels(features: pd.DataFrame, posterior: np.ndarray, *, high: float = 0.99,
                low: float = 0.01) -> np.ndarray:
    """1 (link), 0 (non-link) or -1 (no idea) per candidate pair.

    ``posterior`` is the starting model's one-to-one posterior (the smaller of row and column).
    """
    given, family = _level(features, "given_name"), _level(features, "family_name")
    pnr, emp, email = _level(features, "personnummer"), _level(features, "employee_number"), _level(features, "email")
    name_ok = (given >= 3) | (family >= 3)
    name_close = (given >= 3) & (family >= 3)
    strong_yes = name_ok & ((pnr == 5) | ((emp == 2) | (email == 4)) & name_close & (pnr != 0) & (pnr != 2))
    strong_no = (pnr == 0) | (pnr == 2)  # two different numbers (both present; twins share a date)
    dob, org = _level(features, "birth_date"), _level(features, "org_unit")
    evidence = (pnr >= 4) | (dob >= 5) | (email >= 3) | (emp >= 1) | (org == 3)  # more than names agree
    y = np.full(len(features), UNLABELLED, dtype=np.int8)
    post = np.asarray(posterior, dtype=np.float64)
    y[(post >= high) & evidence] = 1
    y[post <= low] = 0
    y[strong_no & ~strong_yes] = 0
    y[strong_yes] = 1
    return y
