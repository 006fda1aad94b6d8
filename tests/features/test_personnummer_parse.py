"""Every written form of a personnummer parses to the same 12 digits; invalid ones never do."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passerlink.features import (
    birth_date_from_personnummer,
    luhn_ok,
    mask_personnummer,
    normalize_personnummer,
    parse_personnummer,
)

TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(
    "written",
    ["811218-9876", "8112189876", "198112189876", "19811218-9876", " 811218 - 9876 ".replace(" - ", "-")],
)
def test_written_forms_agree(written):
    assert normalize_personnummer(written, today=TODAY) == "198112189876"


def test_plus_means_a_hundred_years_older():
    assert normalize_personnummer("121212+1212", today=TODAY) == "191212121212"
    assert normalize_personnummer("121212-1212", today=TODAY) == "201212121212"


def test_samordningsnummer_day_plus_sixty():
    p = parse_personnummer("701063-2391", today=TODAY)
    assert p is not None and p.is_coordination
    assert p.birth_date == dt.date(1970, 10, 3)
    assert birth_date_from_personnummer("197010632391") == "1970-10-03"


@pytest.mark.parametrize(
    "bad",
    ["811218-9875", "811318-9876", "20230230-0000", "abc", "", None, "81121-9876", "811218-0000"],
)
def test_invalid_is_none(bad):
    assert parse_personnummer(bad, today=TODAY) is None
    assert normalize_personnummer(bad, today=TODAY) == ""


def test_ten_digit_year_is_not_in_the_future():
    # born later in the year than "today" with a two-digit year that would be this century
    assert normalize_personnummer("261231-0017", today=dt.date(2026, 1, 1))[:4] == "1926"


def test_mask_hides_the_serial():
    assert mask_personnummer("198112189876") == "19811218-****"
    assert "9876" not in mask_personnummer("811218-9876")
    assert mask_personnummer("") == ""


def _with_check(nine: str) -> str:
    for d in "0123456789":
        if luhn_ok(nine + d):
            return nine + d
    raise AssertionError("no Luhn digit")


@given(
    st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2020, 12, 31)),
    st.integers(min_value=1, max_value=999),
    st.booleans(),
)
def test_round_trip_through_every_form(birth, serial, coordination):
    day = birth.day + (60 if coordination else 0)
    nine = f"{birth:%y%m}{day:02d}{serial:03d}"
    ten = _with_check(nine)
    twelve = f"{birth.year // 100}{ten}"
    for written in (twelve, f"{twelve[:8]}-{twelve[8:]}", ten, f"{ten[:6]}-{ten[6:]}"):
        p = parse_personnummer(written, today=TODAY)
        assert p is not None, written
        assert p.digits12 == twelve
        assert p.birth_date == birth
        assert p.is_coordination == coordination
    # one changed digit in the serial always breaks Luhn
    broken = twelve[:-1] + str((int(twelve[-1]) + 1) % 10)
    assert parse_personnummer(broken, today=TODAY) is None
