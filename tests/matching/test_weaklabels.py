"""Weak labels, rule by rule: what the classifier learns from before the operator says anything.

Each case is one pair written with level *names*; flipping any rule of ``weak_labels`` (a level
added to or dropped from a set, a posterior bar moved, an ``&`` turned into ``|``) fails one.
"""

import numpy as np
import pandas as pd
import pytest

from passerlink.features import (
    BIRTH_DATE,
    EMAIL,
    EMPLOYEE,
    FAMILY,
    GIVEN,
    ORG_UNIT,
    PERSONNUMMER,
    SWAP,
    level_in,
)
from passerlink.matching.weaklabels import UNLABELLED, weak_labels

COMPARISONS = {c.name: c for c in (GIVEN, FAMILY, SWAP, BIRTH_DATE, PERSONNUMMER, EMAIL, EMPLOYEE, ORG_UNIT)}
#: Every level missing on both sides unless a case says otherwise.
NOTHING = {name: "missing" for name in COMPARISONS}


def features(*pairs: dict[str, str], comparisons=COMPARISONS) -> pd.DataFrame:
    """A features frame (level codes) from pairs written by level name."""
    rows = []
    for pair in pairs:
        named = {**NOTHING, **pair}
        rows.append({name: comparisons[name].code(named[name]) for name in comparisons})
    return pd.DataFrame(rows, columns=list(comparisons)).astype(np.int8)


def label(pair: dict[str, str], posterior: float = 0.5) -> int:
    return int(weak_labels(features(pair), np.array([posterior]), COMPARISONS)[0])


CLOSE_NAMES = {"given_name": "exact", "family_name": "exact"}


@pytest.mark.parametrize("given", ["exact", "variant", "equal_to_other", "variant_of_other", "nearly_equal"])
def test_the_same_personnummer_and_a_close_given_name_is_a_link_whatever_the_start_says(given):
    assert label({"given_name": given, "family_name": "different", "personnummer": "exact"}, posterior=0.0) == 1


@pytest.mark.parametrize("given", ["similar", "initial_or_weak", "different", "missing"])
def test_the_same_personnummer_with_neither_name_close_is_no_sure_link(given):
    assert label({"given_name": given, "family_name": "similar", "personnummer": "exact"}) == UNLABELLED


@pytest.mark.parametrize("family", ["exact", "same_sound", "one_typo", "part_in_common"])
def test_a_close_family_name_backs_a_personnummer_too(family):
    assert label({"given_name": "different", "family_name": family, "personnummer": "exact"}, posterior=0.0) == 1


@pytest.mark.parametrize("other", [{"employee_number": "exact"}, {"email": "exact"}])
def test_an_employee_number_or_e_mail_in_common_needs_both_names_close(other):
    assert label({**CLOSE_NAMES, **other}, posterior=0.0) == 1
    assert label({"given_name": "exact", "family_name": "similar", **other}) == UNLABELLED
    assert label({"given_name": "similar", "family_name": "exact", **other}) == UNLABELLED


@pytest.mark.parametrize("numbers", ["different", "same_birth_date"])
def test_two_different_personnummer_are_no_link_even_when_everything_else_agrees(numbers):
    everything = {**CLOSE_NAMES, "birth_date": "exact", "email": "exact", "employee_number": "exact",
                  "org_unit": "exact", "personnummer": numbers}
    assert label(everything, posterior=1.0) == 0


def test_a_samordningsnummer_against_a_personnummer_of_the_same_date_is_not_two_numbers():
    pair = {**CLOSE_NAMES, "birth_date": "exact", "personnummer": "coordination_number"}
    assert label(pair, posterior=0.5) == UNLABELLED
    assert label(pair, posterior=0.995) == 1


def test_a_names_only_pair_is_never_a_weak_link_however_sure_the_start_is():
    assert label(CLOSE_NAMES, posterior=0.9999) == UNLABELLED  # a namesake, maybe: the operator decides
    assert label({**CLOSE_NAMES, "org_unit": "nearly_equal"}, posterior=0.9999) == UNLABELLED


@pytest.mark.parametrize("evidence", [{"org_unit": "exact"}, {"birth_date": "exact"}, {"birth_date": "one_digit_off"},
                                      {"personnummer": "one_digit_off"}, {"email": "same_local_part"},
                                      {"employee_number": "one_edit"}])
def test_more_than_names_and_a_sure_start_is_a_link(evidence):
    assert label({**CLOSE_NAMES, **evidence}, posterior=0.99) == 1
    assert label({**CLOSE_NAMES, **evidence}, posterior=0.98) == UNLABELLED


@pytest.mark.parametrize("weak", [{"birth_date": "swapped_digits"}, {"email": "nearly_equal_local_part"},
                                  {"org_unit": "nearly_equal"}])
def test_weaker_agreement_is_not_more_than_names(weak):
    assert label({**CLOSE_NAMES, **weak}, posterior=0.999) == UNLABELLED


def test_a_hopeless_start_is_a_non_link_unless_an_identifier_says_otherwise():
    assert label({"given_name": "different", "family_name": "different"}, posterior=0.01) == 0
    assert label({"given_name": "different", "family_name": "different"}, posterior=0.011) == UNLABELLED
    assert label({**CLOSE_NAMES, "personnummer": "exact"}, posterior=0.001) == 1


def test_a_missing_comparison_is_neither_agreement_nor_disagreement():
    names_only = {"given_name": GIVEN, "family_name": FAMILY}
    frame = features({"given_name": "exact", "family_name": "exact"}, comparisons=names_only)
    assert weak_labels(frame, np.array([0.9999]), names_only).tolist() == [UNLABELLED]
    assert weak_labels(frame, np.array([0.001]), names_only).tolist() == [0]


def test_a_rule_asking_for_a_level_that_does_not_exist_fails_loudly():
    frame = features(CLOSE_NAMES)
    with pytest.raises(KeyError, match="no level 'equal'.*known: missing, exact"):
        level_in(frame, COMPARISONS, "given_name", "equal")
