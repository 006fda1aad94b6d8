"""The generated municipality: determinism, sizes, file formats, personnummer, truth, M5 seed."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest

from passerlink.errors import InputError
from passerlink.features import luhn_ok, parse_personnummer
from passerlink.sampleworld import (
    DIVERGENCE_COLUMNS,
    FILE_NAMES,
    HR_COLUMNS,
    STUDENT_COLUMNS,
    TRUTH_COLUMNS,
    generate_world,
)
from passerlink.sampleworld._personnummer import assign_personnummer, format_personnummer

SMALL = {"seed": 11, "staff": 200, "pupils": 300, "former_staff": 10}


@pytest.fixture(scope="module")
def world():
    return generate_world(**SMALL)


def _users(world) -> pd.DataFrame:
    return pd.DataFrame(world.m5_seed["users"])


def test_same_seed_gives_the_same_bytes(world):
    again = generate_world(**SMALL)
    assert again.files(divergences=True) == world.files(divergences=True)


def test_another_seed_gives_another_register(world):
    other = generate_world(**{**SMALL, "seed": 12})
    assert other.files()[FILE_NAMES["hr"]] != world.files()[FILE_NAMES["hr"]]
    assert set(other.students["Personnummer"]) != set(world.students["Personnummer"])


def test_write_puts_the_same_bytes_on_disk(world, tmp_path):
    paths = world.write(tmp_path / "out")
    assert sorted(p.name for p in paths) == sorted(
        [FILE_NAMES["hr"], FILE_NAMES["students"], FILE_NAMES["m5_seed"], FILE_NAMES["truth"]])
    files = world.files()
    for p in paths:
        assert p.read_bytes() == files[p.name]
    assert not list((tmp_path / "out").glob("*.tmp"))
    assert (tmp_path / "div").exists() is False
    world.write(tmp_path / "div", divergences=True)
    assert (tmp_path / "div" / FILE_NAMES["divergences"]).read_bytes() == world.files(
        divergences=True)[FILE_NAMES["divergences"]]


def test_sizes_follow_the_arguments(world):
    users = _users(world)
    assert len(world.hr) == 200 and len(world.students) == 300
    linked_staff = (world.truth["source"] == "hr").sum()
    linked_pupils = (world.truth["source"] == "students").sum()
    assert 0.85 * 200 <= linked_staff <= 0.99 * 200
    assert 0.82 * 300 <= linked_pupils <= 0.97 * 300
    manual = users["usergroup"].isin(["Entreprenör", "Besökare"]) | (
        (users["usergroup"] == "Vikarie") & ~users["id"].isin(world.truth["m5_id"]))
    assert 0.06 <= manual.mean() <= 0.14
    former = world.divergences[world.divergences["kind"] == "former_staff"]
    assert len(former) == 10


def test_hr_file_is_excel_style_cp1252_with_swedish_headers(world):
    raw = world.files()[FILE_NAMES["hr"]]
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # å/ä/ö are single cp1252 bytes
    text = raw.decode("cp1252")
    assert text.startswith(";".join(HR_COLUMNS) + "\r\n")
    assert text.count("\r\n") == len(world.hr) + 1 and "\n" not in text.replace("\r\n", "")
    back = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(back, world.hr)


def test_student_file_is_utf8_with_bom(world):
    raw = world.files()[FILE_NAMES["students"]]
    assert raw.startswith(b"\xef\xbb\xbf" + ",".join(STUDENT_COLUMNS).encode())
    back = pd.read_csv(io.BytesIO(raw), sep=",", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    pd.testing.assert_frame_equal(back, world.students)


def test_hr_register_looks_like_an_hr_export(world):
    hr = world.hr
    assert hr["Anställningsnummer"].is_unique and hr["Anställningsnummer"].str.isdigit().all()
    assert (hr["Förnamn"].str.contains(" ")).mean() > 0.3  # often every given name
    assert (hr["Tilltalsnamn"] == "").mean() > 0.2  # and the name in use often missing
    assert set(hr["Anställningsform"]) == {"FAST", "VISSTID", "PROV", "TIM"}
    today = world.today.isoformat()
    assert (hr["Anställningsdatum"] > today).any()  # some start later
    ends = hr[hr["Slutdatum"] != ""]
    assert len(ends) and (ends["Slutdatum"] > ends["Anställningsdatum"]).all()
    assert (ends["Slutdatum"] < today).any() and (ends["Slutdatum"] > today).any()
    assert 20 <= hr["Enhet"].nunique() <= 50
    mail = hr.loc[hr["E-post"] != "", "E-post"]
    assert mail.str.fullmatch(r"[a-z0-9.-]+@hultsfred\.se").all() and mail.is_unique


def test_student_register_looks_like_a_school_export(world):
    st = world.students
    assert st["Elev-ID"].str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").all()
    assert (st["Personnummer"].str.fullmatch(r"\d{12}")).mean() > 0.85
    ages = [(world.today - parse_personnummer(p, today=world.today).birth_date).days / 365.25
            for p in st["Personnummer"]]
    assert min(ages) >= 5.5 and max(ages) < 20
    mail = st.loc[st["E-post"] != "", "E-post"]
    assert mail.str.endswith("@edu.hultsfred.se").all() and mail.is_unique
    assert set(st["Skyddad"]) <= {"", "Skyddad folkbokföring", "Sekretessmarkering"}


def test_every_register_personnummer_is_valid_and_unique(world):
    written = list(world.hr["Personnummer"]) + list(world.students["Personnummer"])
    parsed = [parse_personnummer(p, today=world.today) for p in written]
    assert all(parsed), [w for w, p in zip(written, parsed, strict=True) if p is None][:3]
    assert all(luhn_ok(p.digits12[2:]) for p in parsed)
    digits = [p.digits12 for p in parsed]
    assert len(set(digits)) == len(digits)
    forms = {("-" in w, len(w.replace("-", ""))) for w in world.hr["Personnummer"]}
    assert {(True, 10), (False, 12), (True, 12)} <= forms  # YYMMDD-NNNN, YYYYMMDDNNNN, YYYYMMDD-NNNN


def test_personnummer_builder_matches_the_reference_rules():
    rng = np.random.default_rng(3)
    births = np.array(["1926-03-01", "1981-12-18", "2016-02-29", "2000-01-01"] * 50, dtype="datetime64[D]")
    male = np.array([True, False] * 100)
    coordination = np.array([False] * 150 + [True] * 50)
    numbers = assign_personnummer(rng, births, male, coordination)
    assert len(set(numbers)) == len(numbers)
    today = dt.date(2026, 11, 1)
    for digits, birth, is_male, coord in zip(numbers, births.tolist(), male, coordination, strict=True):
        assert luhn_ok(digits[2:])
        assert int(digits[10]) % 2 == (1 if is_male else 0)  # ninth digit of the ten: odd for men
        p = parse_personnummer(digits, today=today)
        assert p is not None and p.birth_date == birth and p.is_coordination == coord
        centenarian = today.year - birth.year >= 100  # without a separator the century is lost
        forms = ("short_dash", "long", "long_dash") + (() if centenarian else ("short", "short_space"))
        for form in forms:
            written = format_personnummer(digits, form, today)
            assert parse_personnummer(written, today=today).digits12 == digits, written
    assert format_personnummer(numbers[0], "short_dash", today)[6] == "+"  # born 1926: 100 this year


def test_truth_links_exist_on_both_sides_one_to_one(world):
    truth = world.truth
    assert list(truth.columns) == TRUTH_COLUMNS
    assert set(truth["source"]) == {"hr", "students"}
    users = _users(world)
    assert set(truth["m5_id"]) <= set(users["id"])
    assert truth["m5_id"].is_unique
    assert not truth.duplicated(["source", "source_id"]).any()
    hr_ids = set(world.hr["Anställningsnummer"])
    st_ids = set(world.students["Elev-ID"])
    assert set(truth.loc[truth["source"] == "hr", "source_id"]) <= hr_ids
    assert set(truth.loc[truth["source"] == "students", "source_id"]) <= st_ids
    linked = users[users["id"].isin(truth["m5_id"])]
    by_id = linked.set_index("id")
    hr_linked = truth[truth["source"] == "hr"]
    assert (by_id.loc[hr_linked["m5_id"], "usergroup"].isin(["Personal", "Vikarie"])).all()
    st_linked = truth[truth["source"] == "students"]
    assert (by_id.loc[st_linked["m5_id"], "usergroup"] == "Elev").all()


def test_manual_and_former_records_are_not_in_truth(world):
    div = world.divergences
    outsiders = div[div["kind"].isin(["manual", "former_staff", "namesake_manual"])]["m5_id"].astype(int)
    assert len(outsiders) > 10
    assert not set(outsiders) & set(world.truth["m5_id"])
    users = _users(world)
    manual = users[users["id"].isin(div.loc[div["kind"] == "manual", "m5_id"].astype(int))]
    assert set(manual["usergroup"]) <= {"Entreprenör", "Besökare", "Vikarie"}
    assert set(manual["createdby"]) <= {"admin", "reception", "kansliet"}


def test_m5_seed_is_complete_and_loads_into_the_simulator(world, tmp_path):
    seed = world.m5_seed
    assert list(seed) == ["departments", "usergroups", "accessgroups", "users", "cards"]
    users = _users(world)
    assert users["id"].is_unique and (users["apireference"] == "").all()
    assert set(users["department"]) <= {d["departmentname"] for d in seed["departments"]}
    assert set(users["usergroup"]) <= {g["groupname"] for g in seed["usergroups"]}
    assert {c["fkusernumber"] for c in seed["cards"]} <= set(users["id"])
    assert len({c["cardidentity"] for c in seed["cards"]}) == len(seed["cards"])
    assert (users["createddate"] <= users["changeddate"]).all()
    assert (users["createddate"].str[:10] <= world.today.isoformat()).all()
    cf1 = users["customfield1"].fillna("")
    cf2 = users["customfield2"].fillna("")
    assert 0.15 <= (cf1 != "").mean() <= 0.35 and 0.25 <= (cf2 != "").mean() <= 0.45
    from passerlink.m5sim import Store

    counts = Store(tmp_path / "m5.sqlite").load_seed(seed)
    assert counts["users"] == len(users) and counts["cards"] == len(seed["cards"])


def test_divergence_table_shape(world):
    assert list(world.divergences.columns) == DIVERGENCE_COLUMNS
    assert world.divergences.map(lambda v: isinstance(v, str)).all().all()


@pytest.mark.parametrize(
    "kwargs",
    [{"staff": -1}, {"pupils": 2.5}, {"former_staff": "60"}, {"manual_share": 1.0}, {"manual_share": -0.1}],
)
def test_bad_arguments_are_one_sentence_input_errors(kwargs):
    with pytest.raises(InputError, match=r"^[a-z_]+ must be .*\.$"):
        generate_world(**kwargs)


def test_empty_world_is_fine():
    w = generate_world(seed=1, staff=0, pupils=0, former_staff=0, manual_share=0.0)
    assert w.hr.empty and list(w.hr.columns) == HR_COLUMNS
    assert w.students.empty and w.truth.empty and w.m5_seed["users"] == []
