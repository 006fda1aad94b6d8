"""The committed sample municipality (data/samples/) reads cleanly, row for row."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from passerlink.cli import main
from passerlink.features import normalize_personnummer
from passerlink.sources import profile, read_file

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def raw(name: str, encoding: str, sep: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLES / name, sep=sep, encoding=encoding, dtype=str, keep_default_na=False)


@pytest.mark.skipif(not (SAMPLES / "hr_export.csv").exists(), reason="sample world not generated")
def test_sample_hr_export() -> None:
    table = read_file(SAMPLES / "hr_export.csv", source="hr")
    src = raw("hr_export.csv", "cp1252", ";")
    assert len(table) == len(src)
    assert table.people["source_id"].tolist() == src["Anställningsnummer"].tolist()
    assert table.people["family_name"].tolist() == [" ".join(v.split()) for v in src["Efternamn"]]
    assert table.people["personnummer"].tolist() == [normalize_personnummer(v) for v in src["Personnummer"]]
    assert any("ö" in v or "å" in v or "ä" in v for v in table.people["family_name"])
    assert profile(table)["read_as"] == "Windows-1252, separator ';'"


@pytest.mark.skipif(not (SAMPLES / "students.csv").exists(), reason="sample world not generated")
def test_sample_students() -> None:
    table = read_file(SAMPLES / "students.csv", source="students")
    src = raw("students.csv", "utf-8-sig", ",")
    assert len(table) == len(src)
    assert table.people["source_id"].tolist() == src["Elev-ID"].tolist()
    expected = [" ".join(f"{a} {b}".split()) for a, b in zip(src["Mellannamn"], src["Efternamn"], strict=True)]
    assert table.people["family_name"].tolist() == expected
    assert table.people["given_names"].tolist() == src["Förnamn"].str.strip().tolist()
    assert table.extra["Skyddad"].tolist() == src["Skyddad"].tolist()  # kept for the sync's protection rule


@pytest.mark.skipif(not (SAMPLES / "demo.toml").exists() or not (SAMPLES / "m5_seed.json").exists(),
                    reason="sample world not generated")
def test_demo_config_extracts_registers_and_seeded_m5(m5sim, m5_env, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    seed = json.loads((SAMPLES / "m5_seed.json").read_text(encoding="utf-8"))
    m5sim.reset(seed)
    out = tmp_path / "out"
    assert main(["extract", "--config", str(SAMPLES / "demo.toml"), "--out", str(out),
                 "--m5-url", m5sim.url]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["hr.csv", "m5.csv", "students.csv"]
    m5 = pd.read_csv(out / "m5.csv", dtype=str, keep_default_na=False)
    assert len(m5) == len(seed["users"])
    assert f"m5: {len(seed['users'])} rows" in printed
