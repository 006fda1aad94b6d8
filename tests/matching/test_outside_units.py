"""M5 units no register person is in (visitors, contractors): a names-only pair there is asked.

On the Swedish sample worlds a visitor or contractor carrying a staff member's exact name was
auto-linked to that staff member; ``units_outside`` finds such units from the candidate pairs
(levels by name) and ``unsettled`` holds a names-only pair whose M5 user is in one below auto.
"""

import numpy as np
import pandas as pd

from passerlink.features import EMAIL, EMPLOYEE, FAMILY, GIVEN, ORG_UNIT, PERSONNUMMER
from passerlink.matching.model import LinkModel
from passerlink.matching.weaklabels import units_outside, unsettled

COMPARISONS = {c.name: c for c in (GIVEN, FAMILY, PERSONNUMMER, EMAIL, EMPLOYEE, ORG_UNIT)}
NOTHING = {name: "missing" for name in COMPARISONS}
SAME_NAMES = {"given_name": "exact", "family_name": "exact"}


def features(*pairs: dict[str, str]) -> pd.DataFrame:
    """A features frame (level codes) from pairs written by level name."""
    rows = [{name: COMPARISONS[name].code({**NOTHING, **pair}[name]) for name in COMPARISONS} for pair in pairs]
    return pd.DataFrame(rows, columns=list(COMPARISONS)).astype(np.int8)


def test_a_unit_that_no_candidate_pair_agrees_on_is_outside():
    f = features({"org_unit": "different"}, {"org_unit": "different"}, {"org_unit": "exact"}, {"org_unit": "different"})
    units = np.array(["besokare", "besokare", "vena skola", "vena skola"], dtype=object)
    assert units_outside(f, COMPARISONS, units) == frozenset({"besokare"})


def test_some_words_in_common_make_a_unit_the_registers_unit():
    f = features({"org_unit": "different"}, {"org_unit": "some_words"})
    units = np.array(["hultsfreds gymnasium", "hultsfreds gymnasium"], dtype=object)
    assert units_outside(f, COMPARISONS, units) == frozenset()


def test_a_missing_unit_on_the_register_side_neither_agrees_nor_makes_the_unit_outside():
    f = features({"org_unit": "missing"}, {"org_unit": "different"})
    assert units_outside(f, COMPARISONS, np.array(["besokare", ""], dtype=object)) == frozenset({"besokare"})
    assert units_outside(f, COMPARISONS, np.array(["", ""], dtype=object)) == frozenset()


def test_a_names_only_pair_in_an_outside_unit_is_held_and_one_with_an_identifier_is_not():
    f = features({**SAME_NAMES, "org_unit": "different"},
                 {**SAME_NAMES, "org_unit": "different", "email": "exact"},
                 {**SAME_NAMES, "org_unit": "different"})
    il, ir = np.array([0, 1, 2]), np.array([0, 1, 2])
    held = unsettled(f, COMPARISONS, il, ir, outside=np.array([True, True, False]))
    assert held.tolist() == [True, False, False]
    assert not unsettled(f, COMPARISONS, il, ir).any()  # nothing outside, no namesake rival


def test_the_model_reads_the_m5_users_unit_against_its_outside_units():
    model = LinkModel(list(COMPARISONS.values()))
    f = features({**SAME_NAMES, "org_unit": "different"}, {**SAME_NAMES, "org_unit": "different"})
    il, ir = np.array([0, 1]), np.array([0, 1])
    units = np.array(["besokare", "vena skola"], dtype=object)
    assert not model.unsettled(f, il, ir, right_units=units).any()  # no outside units known yet
    model.outside_units = frozenset({"besokare"})
    assert model.unsettled(f, il, ir, right_units=units).tolist() == [True, False]
