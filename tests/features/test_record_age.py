"""The M5 user's age against the person's: a record created before a pupil could go to school is
somebody else's (an older sibling's, a graduate's), whichever side carries which date."""

import numpy as np
import pytest
from _featurecases import compare_one, people, pnr

from passerlink.features import (
    RECORD_AGE,
    add_frequencies,
    compare_pairs,
    default_comparisons,
    prepare_people,
)
from passerlink.matching.weaklabels import identifiers_disagree, record_too_old, weak_labels


def age(person: dict, user: dict) -> str:
    return compare_one(person, user, comparisons=[RECORD_AGE])["record_age"]


@pytest.mark.parametrize("born,created,level", [
    ("2012-05-01", "2018-08-15", "school_age"),  # created the August the pupil turned six
    ("2012-12-31", "2018-01-01", "school_age"),  # a card made in the spring before school starts
    ("2012-12-31", "2017-12-31", "before_school_age"),
    ("2012-05-01", "2013-08-15", "before_school_age"),  # an older sibling's record
    ("2019-01-17", "2013-08-12", "before_birth"),  # created six years before the pupil was born
    ("1975-02-01", "2013-03-01", "school_age"),  # staff: any record is younger than they are
])
def test_record_age_levels(born: str, created: str, level: str) -> None:
    assert age({"birth_date": born}, {"created": created}) == level


def test_the_birth_date_may_come_from_the_personnummer_and_either_side_may_hold_the_record() -> None:
    assert age({"personnummer": pnr("20190117", "024")}, {"created": "2013-08-12"}) == "before_birth"
    assert age({"created": "2013-08-12"}, {"birth_date": "2019-01-17"}) == "before_birth"


@pytest.mark.parametrize("person,user", [
    ({"birth_date": "2019-01-17"}, {"created": ""}),
    ({"birth_date": ""}, {"created": "2013-08-12"}),
])
def test_without_both_dates_the_age_says_nothing(person: dict, user: dict) -> None:
    assert age(person, user) == "missing"


def test_compared_only_when_one_side_has_births_and_the_other_creation_days() -> None:
    registers = prepare_people(people({"birth_date": "2010-01-01"}))
    m5 = prepare_people(people({"created": "2013-08-12"}))
    assert RECORD_AGE in default_comparisons(registers, m5)
    assert RECORD_AGE not in default_comparisons(registers, registers)


def test_a_record_older_than_the_pupils_schooling_is_a_near_certain_non_link() -> None:
    """Same names, same school, nothing else on the M5 user: the names-only rule would call it a
    link, but the user was created before the pupil was born."""
    L = prepare_people(people({"given_names": "Ronja", "family_name": "Alfors", "birth_date": "2019-01-17",
                               "org_unit": "Vena skola"}))
    R = prepare_people(people(
        {"given_names": "Ronja", "family_name": "Alfors", "org_unit": "Vena skola", "created": "2013-08-12"},
        {"given_names": "Ronja", "family_name": "Alfors", "org_unit": "Vena skola", "created": "2025-08-12"}))
    add_frequencies(L, R)
    comps = default_comparisons(L, R)
    features = compare_pairs(L, R, np.array([0, 0]), np.array([0, 1]), comps)
    by_name = {c.name: c for c in comps}
    assert record_too_old(features, by_name).tolist() == [True, False]
    assert identifiers_disagree(features, by_name).tolist() == [True, False]
    y = weak_labels(features, np.array([0.999, 0.999]), by_name, alone=np.array([True, True]))
    assert y.tolist() == [0, 1]
