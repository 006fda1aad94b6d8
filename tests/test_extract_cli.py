"""``passerlink extract``: one file or a whole config (sources + M5), atomic all-or-nothing writes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from passerlink.cli import main
from passerlink.features import luhn_ok
from passerlink.people import CANONICAL_COLUMNS
from passerlink.sources import read_file

ROOT = Path(__file__).resolve().parents[1]
HEADER = ",".join(CANONICAL_COLUMNS)


def pnr(date8: str, serial: str) -> str:
    return next(date8 + serial + c for c in "0123456789" if luhn_ok(date8[2:] + serial + c))


P1 = pnr("19800101", "123")


def hr_file(folder: Path, name: str = "Personal Export.csv") -> Path:
    path = folder / name
    path.write_bytes(
        ("Anställningsnummer;Förnamn;Efternamn;Personnummer;Födelsedatum\r\n"
         f"0012;Åsa;Öberg;{P1[2:8]}-{P1[8:]};\r\n"
         "0013;Bo;Ek;;1975-02-30\r\n").encode("cp1252")
    )
    return path


def read_out(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def test_single_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "hr.csv"
    assert main(["extract", str(hr_file(tmp_path)), "--out", str(out), "--source", "hr"]) == 0
    printed = capsys.readouterr().out
    assert out.read_text(encoding="utf-8").splitlines()[0] == HEADER
    df = read_out(out)
    assert df.values.tolist() == [
        ["hr", "0012", "Åsa", "", "Öberg", "1980-01-01", P1, "", "", "0012", ""],
        ["hr", "0013", "Bo", "", "Ek", "", "", "", "", "0013", ""],
    ]
    assert "hr: 2 rows from" in printed
    assert "id: column 'Anställningsnummer' (recognised)" in printed
    assert "missing: given_names 0%, call_name 100%" in printed
    assert "row 3, column 'Födelsedatum': impossible date '1975-02-30'; left empty" in printed
    assert P1 not in printed and P1[2:] not in printed
    assert sorted(p.name for p in out.parent.iterdir()) == ["hr.csv"]  # no temp file left


def test_default_source_name_and_out_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "o").mkdir()
    assert main(["extract", str(hr_file(tmp_path)), "--out", str(tmp_path / "o")]) == 0
    capsys.readouterr()
    assert read_out(tmp_path / "o" / "personal_export.csv")["source"].tolist() == ["personal_export"] * 2


def test_map_and_id_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "x.csv"
    src.write_text("Nr,Namn,Släktnamn,Smeknamn\n7,Anna Lisa,Berg,Lisa\n", encoding="utf-8")
    out = tmp_path / "x_out.csv"
    code = main(["extract", str(src), "--out", str(out), "--id-column", "Nr", "--map", "Namn=given_names",
                 "--map", "Släktnamn=family_name", "--map", "Smeknamn=call_name"])
    assert code == 0
    assert "id: column 'Nr' (as asked)" in capsys.readouterr().out
    assert read_out(out)[["source_id", "given_names", "call_name", "family_name"]].values.tolist() == [
        ["7", "Anna Lisa", "Lisa", "Berg"]]


def test_output_reads_back_identically(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "canon.csv"
    assert main(["extract", str(hr_file(tmp_path)), "--out", str(out), "--source", "hr"]) == 0
    capsys.readouterr()
    again = read_file(out, source="hr")
    assert again.people.values.tolist() == read_out(out).values.tolist()


def test_refuses_to_overwrite_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = hr_file(tmp_path)
    before = src.read_bytes()
    assert main(["extract", str(src), "--out", str(src)]) == 2
    assert "would overwrite the input file" in capsys.readouterr().err
    assert src.read_bytes() == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["extract", "--out", "x.csv"], "give either a FILE or --config"),
        (["extract", "a.csv", "--config", "c.toml", "--out", "x"], "give either a FILE or --config"),
        (["extract", "a.csv", "--m5-url", "http://x", "--out", "x.csv"], "--m5-url only works with --config"),
        (["extract", "a.csv", "--map", "nofield", "--out", "x.csv"], "--map 'nofield' is not COL=FIELD"),
    ],
)
def test_argument_mistakes(argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.csv").write_text("Förnamn;Efternamn\nA;B\n", encoding="utf-8")
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def write_config(folder: Path, body: str) -> Path:
    path = folder / "passerlink.toml"
    path.write_text(body, encoding="utf-8")
    return path


def make_sources(folder: Path) -> None:
    hr_file(folder, "hr.csv")
    (folder / "students.csv").write_bytes(
        "\ufeffElev-ID,Personnummer,Förnamn,Mellannamn,Efternamn,Skola,Klass\n"
        "e-1,,Nils,Erik,Åkesson,Hagaskolan,4B\n".encode())
    con = sqlite3.connect(folder / "staff.sqlite")
    con.execute("CREATE TABLE v (id TEXT, firstname TEXT, lastname TEXT)")
    con.execute("INSERT INTO v VALUES ('s1', 'Cia', 'Al')")
    con.commit()
    con.close()


def test_config_reads_every_source_and_m5(tmp_path: Path, m5sim, m5_env,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    make_sources(tmp_path)
    with m5sim.client() as client:
        user = client.create_user({"firstname": "Åsa", "lastname": "Öberg", "customfield1": P1})
    cfg = write_config(tmp_path, f"""
[[sources]]
name = "hr"
kind = "csv"
path = "hr.csv"

[[sources]]
name = "students"
kind = "csv"
path = "students.csv"

[[sources]]
name = "staff"
kind = "sql"
url = "sqlite:///{(tmp_path / 'staff.sqlite').as_posix()}"
query = "v"

[m5]
url = "{m5sim.url}"
""")
    out = tmp_path / "extracted"
    assert main(["extract", "--config", str(cfg), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["hr.csv", "m5.csv", "staff.csv", "students.csv"]
    for p in out.iterdir():
        assert p.read_text(encoding="utf-8").splitlines()[0] == HEADER
    m5 = read_out(out / "m5.csv")
    assert m5[["source", "source_id", "given_names", "personnummer", "birth_date"]].values.tolist() == [
        ["m5", str(user["id"]), "Åsa", P1, "1980-01-01"]]
    assert read_out(out / "students.csv")["family_name"].tolist() == ["Erik Åkesson"]
    assert read_out(out / "staff.csv")["source_id"].tolist() == ["s1"]
    for name in ("hr: 2 rows", "students: 1 rows", "staff: 1 rows", "m5: 1 rows", "id: M5 user id"):
        assert name in printed


def test_config_writes_nothing_when_one_source_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_sources(tmp_path)
    (tmp_path / "broken.csv").write_text("A;B\n1;2\n", encoding="utf-8")
    cfg = write_config(tmp_path, """
[[sources]]
name = "hr"
kind = "csv"
path = "hr.csv"

[[sources]]
name = "broken"
kind = "csv"
path = "broken.csv"
""")
    out = tmp_path / "extracted"
    out.mkdir()
    (out / "hr.csv").write_text("old\n", encoding="utf-8")
    assert main(["extract", "--config", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "broken.csv: none of its columns (A, B) is recognised as a name" in err
    assert sorted(p.name for p in out.iterdir()) == ["hr.csv"]
    assert (out / "hr.csv").read_text(encoding="utf-8") == "old\n"  # untouched


def test_real_process_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    proc = subprocess.run(
        [sys.executable, "-m", "passerlink", "extract", str(bad), "--out", str(tmp_path / "o.csv")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"passerlink: error: {bad} is empty"
    assert not (tmp_path / "o.csv").exists()
