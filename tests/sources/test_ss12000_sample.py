"""The sample world's pupil register as SS 12000: committed, up to date, and read like students.csv."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from ss12000_standin import Running, Settings, StandIn, serve

from passerlink.config import Ss12000SourceConfig, load_config
from passerlink.sampleworld import DEFAULT_TODAY, SS12000_FILE, render_ss12000, ss12000_bytes
from passerlink.sources import read_source

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.fixture(scope="module")
def students() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "students.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def committed() -> dict:
    return json.loads((SAMPLES / SS12000_FILE).read_text(encoding="utf-8"))


def test_committed_file_is_the_rendering_of_students_csv(students: pd.DataFrame) -> None:
    rendered = ss12000_bytes(render_ss12000(students, DEFAULT_TODAY, seed=0))
    assert (SAMPLES / SS12000_FILE).read_bytes() == rendered, "ss12000.json is stale: run data/samples/generate.py"


def test_it_holds_every_kind_of_person_and_reference(committed: dict, students: pd.DataFrame) -> None:
    persons = committed["persons"]
    pupils = [p for p in persons if p.get("enrolments")]
    guardian_ids = {r["person"]["id"] for p in pupils for r in p.get("responsibles", [])}
    staff_ids = {d["person"]["id"] for d in committed["duties"]}
    assert [p["id"] for p in pupils] == list(students["Elev-ID"])
    assert len(guardian_ids) > 500 and len(staff_ids) == 40
    assert {p["id"] for p in persons} == {p["id"] for p in pupils} | guardian_ids | staff_ids
    enrolments = [e for p in pupils for e in p["enrolments"]]
    assert any("displayName" in e["enroledAt"] for e in enrolments)
    assert any("displayName" not in e["enroledAt"] for e in enrolments)
    assert any(e.get("endDate") for e in enrolments) and any(e.get("cancelled") for e in enrolments)
    assert any(e["type"] == "Privat" for p in pupils for e in p["emails"])


@pytest.fixture(scope="module")
def platform(committed: dict) -> Iterator[Running]:
    """The sample platform as the least helpful server: no filters, no names, small pages."""
    settings = Settings(ignore_filters=True, expand_names=False, max_page=400, client_id="demo", client_secret="demo")
    with serve(StandIn(committed, settings)) as running:
        yield running


def test_demo_config_reads_the_same_pupils_as_students_csv(platform: Running, students: pd.DataFrame,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PASSERLINK_SS12000_CLIENT_ID", "demo")
    monkeypatch.setenv("PASSERLINK_SS12000_CLIENT_SECRET", "demo")
    config = load_config(SAMPLES / "demo-ss12000.toml")
    spec = config.source("students")
    assert isinstance(spec, Ss12000SourceConfig)
    spec = spec.model_copy(update={"url": platform.url, "token_url": platform.token_url})
    table = read_source(spec, config_path=config.config_path)
    people = table.people.set_index("source_id")
    assert sorted(people.index) == sorted(students["Elev-ID"])  # no guardian, no staff
    open_ = students[students["Skyddad"] == ""].set_index("Elev-ID")
    assert (people.loc[open_.index, "org_unit"] == open_["Skola"]).all()  # names, never ids
    assert (people.loc[open_.index, "email"] == open_["E-post"].str.lower()).all()  # never Privat
    assert table.issues == []


def test_extract_command_on_the_platform(platform: Running, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from passerlink.cli import main

    monkeypatch.setenv("PL_TEST_ID", "demo")
    monkeypatch.setenv("PL_TEST_SECRET", "demo")
    config = tmp_path / "c.toml"
    config.write_text(f'[[sources]]\nname = "students"\nkind = "ss12000"\nurl = "{platform.url}"\n'
                      f'token_url = "{platform.token_url}"\nclient_id_env = "PL_TEST_ID"\n'
                      'client_secret_env = "PL_TEST_SECRET"\n', encoding="utf-8")
    assert main(["extract", "--config", str(config), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "SS 12000 pupils: 2000 kept of 3246 persons the API returned (1246 without a current or future " \
           "enrolment left out)" in out
    written = pd.read_csv(tmp_path / "out" / "students.csv", dtype=str, keep_default_na=False)
    assert len(written) == 2000 and not written["org_unit"].str.match(r"[0-9a-f]{8}-").any()
