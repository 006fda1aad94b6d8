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

from collections.abc import Mapping

import numpy as np
import pandas as pd

from passerlink.features.comparisons import Comparison, level_in
from passerlink.matching.design import IDENTIFIER_AGREEMENT

__all__ = ["weak_labels", "UNLABELLED", "NAME_CLOSE", "TWO_NUMBERS", "MORE_THAN_NAMES"]

UNLABELLED = -1

#: A name "close enough" to back an identifier: nearly equal or better (by level name).
NAME_CLOSE: dict[str, tuple[str, ...]] = {
    "given_name": ("exact", "variant", "equal_to_other", "variant_of_other", "nearly_equal"),
    "family_name": ("exact", "same_sound", "one_typo", "part_in_common"),
}
#: Two different valid personnummer (twins share a birth date, not a number); a
#: samordningsnummer meeting a personnummer of the same date is *not* among them.
TWO_NUMBERS = ("different", "same_birth_date")
#: Agreement on more than names, if only the org unit: what a high posterior needs to be a link.
MORE_THAN_NAMES: dict[str, tuple[str, ...]] = {**IDENTIFIER_AGREEMENT, "org_unit": ("exact",)}


def weak_labels(features: pd.DataFrame, posterior: np.ndarray, comparisons: Mapping[str, Comparison], *,
                high: float = 0.99, low: float = 0.01) -> np.ndarray:
    """1 (link), 0 (non-link) or -1 (no idea) per candidate pair.

    ``posterior`` is the starting model's one-to-one posterior (the smaller of row and column);
    ``comparisons`` (name -> comparison) say which level code carries which name: every rule
    asks for levels by name, so a comparison may gain levels without moving a rule.
    """
    def has(column: str, *names: str) -> np.ndarray:
        return level_in(features, comparisons, column, *names)

    given_close = has("given_name", *NAME_CLOSE["given_name"])
    family_close = has("family_name", *NAME_CLOSE["family_name"])
    name_ok = given_close | family_close
    name_close = given_close & family_close
    two_numbers = has("personnummer", *TWO_NUMBERS)
    same_number = has("personnummer", "exact")
    other_id = has("employee_number", "exact") | has("email", "exact")
    strong_yes = name_ok & (same_number | other_id & name_close & ~two_numbers)
    strong_no = two_numbers
    evidence = np.zeros(len(features), dtype=bool)
    for column, names in MORE_THAN_NAMES.items():
        evidence |= has(column, *names)
    y = np.full(len(features), UNLABELLED, dtype=np.int8)
    post = np.asarray(posterior, dtype=np.float64)
    y[(post >= high) & evidence] = 1
    y[post <= low] = 0
    y[strong_no & ~strong_yes] = 0
    y[strong_yes] = 1
    return y
