"""Every kind of Swedish-reality divergence is planted, recorded, and really in the data."""

from __future__ import annotations

import pandas as pd
import pytest

from passerlink.features import parse_personnummer
from passerlink.sampleworld import generate_world
from passerlink.sampleworld.names import NICKNAMES, SPELLING_VARIANTS, fold_ascii, fold_digraph

KINDS = [
    "given_names_subset", "second_given_name", "all_given_names", "nickname", "spelling_given",
    "spelling_family", "maiden_name", "old_email", "double_family_one_part",
    "double_family_separator", "diacritics_ascii", "diacritics_digraph", "typo", "case",
    "swapped_names", "personnummer_typo", "birth_date_typo", "employment_number_typo",
    "department_stale", "usergroup_stale", "inactive", "former_staff", "manual",
    "namesake_manual", "twin", "namesake", "samordningsnummer", "protected_identity",
]


@pytest.fixture(scope="module")
def world():
    return generate_world(seed=21, staff=700, pupils=900, former_staff=20)


@pytest.fixture(scope="module")
def users(world):
    return pd.DataFrame(world.m5_seed["users"]).fillna("").set_index("id")


@pytest.fixture(scope="module")
def hr(world):
    return world.hr.set_index("Anställningsnummer")


@pytest.fixture(scope="module")
def students(world):
    return world.students.set_index("Elev-ID")


def _rows(world, kind: str) -> pd.DataFrame:
    rows = world.divergences[world.divergences["kind"] == kind]
    assert len(rows), f"no {kind} divergence planted"
    return rows


def _register_row(hr, students, source: str, source_id: str) -> pd.Series:
    return hr.loc[source_id] if source == "hr" else students.loc[source_id]


def _family(row: pd.Series) -> str:
    middle = row.get("Mellannamn", "")
    return f"{middle} {row['Efternamn']}" if middle else row["Efternamn"]


def _birth(world, row: pd.Series):
    return parse_personnummer(row["Personnummer"], today=world.today).birth_date


def test_every_kind_is_present(world):
    counts = world.divergences["kind"].value_counts()
    missing = [k for k in KINDS if k not in counts]
    assert not missing
    assert set(counts.index) <= set(KINDS)


def test_nickname_pairs(world, users, hr, students):
    rows = _rows(world, "nickname")
    seen = 0
    for r in rows.itertuples():
        assert r.m5_value in NICKNAMES[r.register_value]
        reg = _register_row(hr, students, r.source, r.source_id)
        assert r.register_value in reg["Förnamn"].split(" ")
        seen += users.loc[int(r.m5_id), "firstname"] == r.m5_value
    assert seen >= len(rows) // 2  # most are not damaged further


def test_spelling_variants(world):
    groups = [set(g) for g in SPELLING_VARIANTS]
    for r in _rows(world, "spelling_given").itertuples():
        assert any({r.register_value, r.m5_value} <= g for g in groups)
        assert r.register_value != r.m5_value


def test_several_given_names_of_which_m5_has_one(world, users, hr, students):
    rows = _rows(world, "second_given_name")
    for r in rows.itertuples():
        tokens = r.register_value.split(" ")
        assert len(tokens) > 1 and r.m5_value in tokens[1:]
    assert len(_rows(world, "given_names_subset")) > len(rows)


def test_hyphenated_or_double_family_name_reduced_to_one_part(world, users, hr, students):
    hits = 0
    for r in _rows(world, "double_family_one_part").itertuples():
        reg = _register_row(hr, students, r.source, r.source_id)
        full = _family(reg)
        parts = full.replace("-", " ").split(" ")
        assert len(parts) == 2 and r.register_value.replace("-", " ").split(" ") == parts
        assert r.m5_value in parts
        hits += users.loc[int(r.m5_id), "lastname"] == r.m5_value
    assert hits >= 1


def test_swedish_letters_typed_without_them(world, users, hr, students):
    plain = _rows(world, "diacritics_ascii")
    assert any("å" in v.lower() or "ä" in v.lower() or "ö" in v.lower() for v in plain["register_value"])
    for r in plain.itertuples():
        assert fold_ascii(r.register_value) == r.m5_value != r.register_value
    for r in _rows(world, "diacritics_digraph").itertuples():
        assert fold_digraph(r.register_value) == r.m5_value != r.register_value
    # an actual M5 user whose name is the register's with å/ä/ö -> a/a/o
    found = False
    for r in plain.itertuples():
        reg = _register_row(hr, students, r.source, r.source_id)
        user = users.loc[int(r.m5_id)]
        if user["lastname"] == fold_ascii(reg["Efternamn"]) != reg["Efternamn"]:
            found = True
            break
    assert found


def test_maiden_name_kept_in_m5(world, users, hr):
    for r in _rows(world, "maiden_name").itertuples():
        assert r.source == "hr"
        assert hr.loc[r.source_id, "Efternamn"] == r.register_value != r.m5_value
    old = _rows(world, "old_email")
    for r in old.itertuples():
        assert users.loc[int(r.m5_id), "email"] == r.m5_value != r.register_value


def test_twins_share_family_name_and_birth_date(world, students):
    rows = _rows(world, "twin")
    assert len(rows) % 2 == 0
    for r in rows.itertuples():
        a = students.loc[r.source_id]
        b = students.loc[r.other.split(":", 1)[1]]
        assert a["Efternamn"] == b["Efternamn"] and a["Mellannamn"] + a["Efternamn"] != ""
        assert a["Personnummer"].replace("-", "")[:8] == b["Personnummer"].replace("-", "")[:8]
        assert a["Personnummer"] != b["Personnummer"]
        assert a["Förnamn"].split(" ")[0] != b["Förnamn"].split(" ")[0]


def test_namesakes_in_the_registers_have_other_birth_dates(world, hr, students):
    for r in _rows(world, "namesake").itertuples():
        a = _register_row(hr, students, r.source, r.source_id)
        other_source, other_id = r.other.split(":", 1)
        b = _register_row(hr, students, other_source, other_id)
        assert _family(a) == _family(b)
        assert a["Förnamn"].split(" ")[0] in b["Förnamn"] or b["Förnamn"].split(" ")[0] in a["Förnamn"]
        assert _birth(world, a) != _birth(world, b)


def test_manual_namesakes_are_not_the_register_person(world, users, hr, students):
    rows = _rows(world, "namesake_manual")
    linked = set(world.truth["m5_id"])
    with_number = 0
    for r in rows.itertuples():
        m5_id = int(r.m5_id)
        assert m5_id not in linked
        other_source, other_id = r.other.split(":", 1)
        reg = _register_row(hr, students, other_source, other_id)
        user = users.loc[m5_id]
        assert user["lastname"] == reg["Efternamn"] or user["lastname"] == _family(reg)
        assert user["firstname"] in reg["Förnamn"].split(" ")
        if user["customfield1"]:
            p = parse_personnummer(user["customfield1"], today=world.today)
            assert p is None or p.birth_date != _birth(world, reg)
            with_number += 1
    assert len(rows) >= 5 and with_number >= 1


def test_samordningsnummer(world, hr, students):
    for r in _rows(world, "samordningsnummer").itertuples():
        reg = _register_row(hr, students, r.source, r.source_id)
        p = parse_personnummer(reg["Personnummer"], today=world.today)
        assert p.is_coordination and int(p.digits12[6:8]) > 60


def test_swapped_names(world, users):
    for r in _rows(world, "swapped_names").itertuples():
        user = users.loc[int(r.m5_id)]
        assert f"{user['firstname']} {user['lastname']}" == r.m5_value != r.register_value
        assert sorted(r.m5_value.split(" ")) == sorted(r.register_value.split(" "))


def test_typos_are_one_edit_away(world):
    from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

    for r in _rows(world, "typo").itertuples():
        assert DamerauLevenshtein.distance(r.register_value, r.m5_value) == 1
    for r in _rows(world, "personnummer_typo").itertuples():
        assert Levenshtein.distance(r.register_value, r.m5_value) == 1


def test_protected_pupils_have_no_identity_numbers_in_m5(world, users):
    rows = _rows(world, "protected_identity")
    for r in rows[(rows["register_value"] == "Skyddad folkbokföring") & (rows["m5_id"] != "")].itertuples():
        user = users.loc[int(r.m5_id)]
        assert user["customfield1"] == "" and user["email"] == ""
