"""Birth dates, personnummer (twins, samordningsnummer, '+'), e-mail, employee numbers, org units."""

import pytest
from _featurecases import compare_one, people, pnr

from passerlink.features import (
    BIRTH_DATE,
    EMAIL,
    EMPLOYEE,
    FAMILY,
    GIVEN,
    ORG_UNIT,
    PERSONNUMMER,
    fold_org_unit,
    prepare_people,
)


def bd(a: str, b: str) -> str:
    return compare_one({"birth_date": a}, {"birth_date": b})["birth_date"]


@pytest.mark.parametrize("a,b,level", [
    ("1985-03-12", "1985-03-12", "exact"),
    ("1985-03-12", "1985-03-13", "one_digit_off"),  # one digit off
    ("1985-03-12", "1975-03-12", "one_digit_off"),  # year off by ten is one digit too
    ("1985-03-12", "1985-12-03", "swapped_digits"),  # day and month swapped
    ("1985-03-12", "1985-03-21", "swapped_digits"),  # two digits transposed
    ("1979-05-05", "1980-05-05", "year_off"),  # year off by one across a decade
    ("1985-03-12", "1985-03-28", "partial"),  # same year and month
    ("1985-03-12", "1987-07-30", "within_five_years"),  # different, close
    ("1985-03-12", "2015-07-30", "different"),  # a generation apart
])
def test_birth_date_levels(a, b, level):
    assert bd(a, b) == level


def test_missing_birth_date_is_not_a_disagreement():
    row = compare_one({"birth_date": "1985-03-12"}, {"birth_date": ""}, {"birth_date": "1990-01-01"},
                      comparisons=[BIRTH_DATE])
    assert row["birth_date"] == "missing_right"
    assert BIRTH_DATE.level("different").label != BIRTH_DATE.level("missing").label


def test_equal_valid_personnummer():
    a = pnr("19850312", "123")
    assert compare_one({"personnummer": a}, {"personnummer": a[2:8] + "-" + a[8:]})["personnummer"] == "exact"


def test_twins_same_birth_date_different_serial():
    a, b = pnr("20100604", "241"), pnr("20100604", "263")
    assert compare_one({"personnummer": a}, {"personnummer": b})["personnummer"] == "same_birth_date"
    assert PERSONNUMMER.level("same_birth_date").label.startswith("same birth date")


def test_samordningsnummer_against_personnummer_of_the_same_birth_date():
    regular = pnr("19900115", "382")
    coordination = pnr("19900175", "117")  # day + 60
    row = compare_one({"personnummer": coordination}, {"personnummer": regular})
    assert row["personnummer"] == "coordination_number"
    # and its birth date counts as the real one
    assert prepare_people(people({"personnummer": coordination})).dob[0] == "19900115"


def test_a_typo_in_the_personnummer_is_one_digit_off():
    a = pnr("19850312", "123")
    typo = a[:9] + str((int(a[9]) + 1) % 10) + a[10:]
    assert compare_one({"personnummer": a}, {"personnummer": typo})["personnummer"] == "one_digit_off"


def test_plus_personnummer_of_a_centenarian():
    prepared = prepare_people(people({"personnummer": "121212+1212"}))
    assert prepared.pnr[0] == "191212121212" and prepared.pnr_valid[0]
    assert prepared.dob[0] == "19121212"


def test_birth_date_comes_from_the_personnummer_when_missing():
    row = compare_one({"personnummer": pnr("19850312", "123")}, {"birth_date": "1985-03-12"})
    assert row["birth_date"] == "exact"


def test_email_levels():
    same = compare_one({"email": "Anna.Berg@hultsfred.se"}, {"email": "anna.berg@HULTSFRED.se"})
    assert same["email"] == "exact"
    other_domain = compare_one({"email": "anna.berg@edu.hultsfred.se"}, {"email": "anna.berg@hultsfred.se"})
    assert other_domain["email"] == "same_local_part"
    folded = compare_one({"email": "åsa.björk@x.se"}, {"email": "asa.bjork@x.se"})
    assert folded["email"] == "exact"


def test_employee_number_exact_and_one_edit():
    assert compare_one({"employee_number": "012345"}, {"employee_number": "12345"})["employee_number"] == "exact"
    assert compare_one({"employee_number": "12345"}, {"employee_number": "12346"})["employee_number"] == "one_edit"
    assert compare_one({"employee_number": "12345"}, {"employee_number": "98765"})["employee_number"] == "different"


def test_org_unit_abbreviations():
    assert fold_org_unit("Vena skolan") == fold_org_unit("Vena skola")
    assert fold_org_unit("Norrskolan") == "norr skola"
    assert compare_one({"org_unit": "Vena skolan"}, {"org_unit": "VENA SKOLA"})["org_unit"] == "exact"
    assert compare_one({"org_unit": "Norrskolan"}, {"org_unit": "Norrskolan F-6"})["org_unit"] in ("exact", "nearly_equal")
    assert compare_one({"org_unit": "Norrskolan"}, {"org_unit": "Räddningstjänsten"})["org_unit"] == "different"


def test_every_comparison_copes_with_missing_values_on_either_side():
    full = {"given_names": "Eva", "family_name": "Berg", "birth_date": "1985-03-12",
            "personnummer": pnr("19850312", "123"), "email": "eva@x.se", "org_unit": "Vena skola",
            "employee_number": "1"}
    empty = {k: "" for k in full}
    comps = [GIVEN, FAMILY, BIRTH_DATE, PERSONNUMMER, EMAIL, EMPLOYEE, ORG_UNIT]
    for a, b in ((full, empty), (empty, full), (empty, empty)):
        row = compare_one(a, b, comparisons=comps)
        for c in comps:
            assert row[c.name] in ("missing", "missing_left", "missing_right"), c.name
