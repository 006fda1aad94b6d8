"""The bad-input corpus: every broken file in this folder and what ``passerlink extract`` answers.

File-level problems: exit code 2, exactly one line on stderr naming the file (and row/column
where it applies), no traceback, nothing written. Row-level problems: exit code 0, the output
written, the problem counted and its rows listed in the summary.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from passerlink.cli import main

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Case:
    id: str
    args: list[str]  # {here} = this folder; {m5_closed}/{m5_garbage} = M5 URLs
    exit: int
    says: list[str]  # on stderr (exit 2) or stdout (exit 0)


CASES = [
    Case("cp1252 read as forced UTF-8", ["{here}/hr_cp1252.csv", "--encoding", "utf-8"], 2,
         ["hr_cp1252.csv: byte 0xE4 on row 1, column 'Anställningsnummer', is not valid UTF-8",
          "Windows-1252"]),
    Case("bytes that are neither UTF-8 nor cp1252", ["{here}/neither_encoding.csv"], 2,
         ["neither_encoding.csv: byte 0x81 at offset 36 (row 3, column 'Efternamn') is neither UTF-8 nor "
          "Windows-1252"]),
    # a register file is whole or it is not read (issue 13)
    Case("file cut off mid-row", ["{here}/truncated.csv"], 2,
         ["truncated.csv: row 4 has 6 fields where the header has 7 (nothing from column 'Enhet' on)"]),
    Case("file cut off in its last field", ["{here}/truncated_last_field.csv"], 2,
         ["truncated_last_field.csv: the last line (row 4) does not end with a line break: the file looks cut off"]),
    Case("ragged (short) row", ["{here}/ragged_rows.csv"], 2,
         ["ragged_rows.csv: row 3 has 4 fields where the header has 7 (nothing from column 'Personnummer' on)"]),
    Case("values beyond the header", ["{here}/surplus_values.csv"], 2,
         ["surplus_values.csv: row 3 has 9 fields where the header has 7 (values after the last column 'Enhet')"]),
    Case("empty id cell", ["{here}/empty_id.csv"], 2,
         ["empty_id.csv: row 3 has no id in column 'Anställningsnummer'"]),
    Case("one UTF-8 row in a cp1252 file", ["{here}/mixed_utf8_in_cp1252.csv"], 2,
         ["mixed_utf8_in_cp1252.csv: one file, two encodings: the byte 0xC3 at offset 201 (row 4, column "
          "'Efternamn') is UTF-8 while row 1 is Windows-1252"]),
    Case("one cp1252 row in a UTF-8 file", ["{here}/mixed_cp1252_in_utf8.csv"], 2,
         ["mixed_cp1252_in_utf8.csv: one file, two encodings: the byte 0xC5 at offset 208 (row 4, column "
          "'Efternamn') is Windows-1252 while row 1 is UTF-8"]),
    Case("BOM file with a cp1252 row", ["{here}/bom_with_cp1252_row.csv"], 2,
         ["bom_with_cp1252_row.csv: the file starts with a UTF-8 byte-order mark, but its byte 0xC5 at offset "
          "211 (row 4, column 'Efternamn') is not UTF-8; that row reads as Windows-1252"]),
    Case("terminal escape in a name", ["{here}/control_escape.csv"], 2,
         ["control_escape.csv: row 3, column 'Efternamn', holds the control character U+001B (ESC)"]),
    Case("NUL in a cell", ["{here}/control_nul.csv"], 2,
         ["control_nul.csv: row 4, column 'Enhet', holds the control character U+0000 (NUL)"]),
    Case("right-to-left override", ["{here}/bidi_override.csv"], 2,
         ["bidi_override.csv: row 2, column 'Förnamn', holds the bidi control U+202E (RIGHT-TO-LEFT OVERRIDE)"]),
    Case("bidi isolate in XLSX", ["{here}/bidi_isolate.xlsx"], 2,
         ["bidi_isolate.xlsx: row 3, column 'Förnamn', holds the bidi control U+2066 (LEFT-TO-RIGHT ISOLATE)"]),
    Case("empty file", ["{here}/empty.csv"], 2, ["empty.csv is empty"]),
    Case("header only", ["{here}/header_only.csv"], 2, ["header_only.csv has a header but no data rows"]),
    Case("--id-column names a missing column", ["{here}/missing_id_column.csv", "--id-column", "Personalnr"], 2,
         ["missing_id_column.csv has no column 'Personalnr' to use as the id; its columns are Anställningsnummer"]),
    Case("duplicate ids", ["{here}/duplicate_ids.csv"], 2,
         ["duplicate_ids.csv: id '1042' in column 'Anställningsnummer' appears on rows 2 and 5"]),
    Case("unknown headers", ["{here}/unknown_headers.csv"], 2,
         ["unknown_headers.csv: none of its columns (A, B, C) is recognised as a name; map them with --map COL=FIELD"]),
    Case("--map names a missing column", ["{here}/valid_hr.csv", "--map", "Smeknamn=call_name"], 2,
         ["valid_hr.csv has no column 'Smeknamn' (mapped to call_name)"]),
    Case("--map to an unknown field", ["{here}/valid_hr.csv", "--map", "Enhet=unit"], 2,
         ["--map 'Enhet=unit': 'unit' is not one of"]),
    Case("XLSX that is really a CSV", ["{here}/csv_renamed.xlsx"], 2,
         ["csv_renamed.xlsx is not an XLSX workbook: its content is plain text"]),
    Case("zip that is no workbook", ["{here}/zip_not_workbook.xlsx"], 2,
         ["zip_not_workbook.xlsx is not a readable XLSX workbook"]),
    Case("old binary .xls", ["{here}/old_excel.xls"], 2, ["old_excel.xls is an old Excel 97-2003 (.xls)"]),
    Case("binary file named .csv", ["{here}/binary.csv"], 2, ["binary.csv contains NUL bytes"]),
    Case("missing file", ["{here}/no_such_file.csv"], 2, ["no_such_file.csv not found"]),
    Case("config with a missing env var", ["--config", "{here}/config_missing_env.toml"], 2,
         ["config_missing_env.toml: environment variable PASSERLINK_BADINPUT_UNSET_URL"]),
    Case("config with an unknown key", ["--config", "{here}/config_unknown_key.toml"], 2,
         ["config_unknown_key.toml: sources[hr].delimiter: unknown setting"]),
    Case("config with wrong types", ["--config", "{here}/config_wrong_type.toml"], 2,
         ["config_wrong_type.toml: sources[hr].kind:", "'excel'", "m5.retries:", "'many'"]),
    Case("M5 unreachable", ["--config", "{here}/config_m5.toml", "--m5-url", "{m5_closed}"], 2,
         ["{m5_closed}"]),
    Case("M5 answers garbage (HTML)", ["--config", "{here}/config_m5.toml", "--m5-url", "{m5_garbage}"], 2,
         ["{m5_garbage}"]),
    # row-level: read, warn, write
    Case("UTF-8 with BOM", ["{here}/bom_utf8.csv"], 0,
         ["2 rows", "read as: UTF-8 with BOM", "id: column 'Elev-ID' (recognised)", "row issues: 0"]),
    Case("cp1252 sniffed", ["{here}/hr_cp1252.csv"], 0, ["3 rows", "read as: Windows-1252, separator ';'"]),
    Case("invalid personnummer", ["{here}/invalid_personnummer.csv"], 0,
         ["3 rows", "invalid personnummer: 2",
          "row 2, column 'Personnummer': invalid personnummer '19800101-****'; left out",
          "row 3, column 'Personnummer': invalid personnummer '****'; left out"]),
    Case("impossible dates", ["{here}/impossible_dates.csv"], 0,
         ["3 rows", "row issues: 2", "row 2, column 'Födelsedatum': impossible date '2023-02-30'",
          "row 3, column 'Födelsedatum': impossible date '1980-13-01'"]),
    Case("formula cells in XLSX", ["{here}/formula_cells.xlsx"], 0,
         ["3 rows", "row 2, column 'E-post': formula in cell D2 kept as text",
          "row 3, column 'Förnamn': formula in cell B3 kept as text"]),
]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _HtmlHandler(BaseHTTPRequestHandler):
    """A web server that answers every request with a login page: not the M5 Admin API."""

    def log_message(self, *args: object) -> None:
        pass

    def _page(self) -> None:
        body = b"<html><body><h1>Please log in</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._page()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._page()


@pytest.fixture(scope="module")
def html_server(loopback_http) -> str:
    return loopback_http(_HtmlHandler) + "/m5adminapi/api"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch, html_server: str) -> None:
    monkeypatch.delenv("PASSERLINK_BADINPUT_UNSET_URL", raising=False)
    for var in ("PASSERLINK_M5_USER", "PASSERLINK_M5_PASSWORD", "PASSERLINK_M5_APIKEY"):
        monkeypatch.setenv(var, "demo")
    subst = {"here": str(HERE), "m5_closed": f"http://127.0.0.1:{_closed_port()}/m5adminapi/api",
             "m5_garbage": html_server}
    config_mode = "--config" in case.args
    out = tmp_path / "out" if config_mode else tmp_path / "out" / "people.csv"
    if config_mode:
        out.mkdir()
    argv = ["extract", *[a.format(**subst) for a in case.args], "--out", str(out)]

    code = main(argv)
    captured = capsys.readouterr()
    assert code == case.exit, captured.err
    assert "Traceback" not in captured.err + captured.out
    text = captured.err if case.exit else captured.out
    for phrase in case.says:
        assert phrase.format(**subst) in text, text
    written = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    if case.exit:
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("passerlink: error: "), captured.err
        assert written == [], "nothing may be written on a file-level error"
    else:
        assert written == ["people.csv"]
        header = (out.read_text(encoding="utf-8").splitlines() or [""])[0]
        assert header == ("source,source_id,given_names,call_name,family_name,birth_date,"
                          "personnummer,email,org_unit,employee_number,created")


def test_corpus_is_complete() -> None:
    """Every file of the corpus is used by a case (and the brief's minimum of 15 is met)."""
    files = {p.name for p in HERE.iterdir() if p.suffix in {".csv", ".xlsx", ".xls", ".toml"}}
    # links_*: link-file attacks on ``passerlink links import``, the cases of tests/sync/test_adopt.py
    files = {f for f in files if not f.startswith("links_")}
    used = {Path(a.format(here="")).name for c in CASES for a in c.args if a.startswith("{here}")}
    used |= {"valid_hr.csv"}  # named by the config files
    assert files == used - {"no_such_file.csv"}  # the missing-file case has no file, on purpose
    assert len([c for c in CASES if c.exit == 2]) >= 15


def test_formula_text_reaches_the_output_unevaluated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "f.csv"
    assert main(["extract", str(HERE / "formula_cells.xlsx"), "--out", str(out)]) == 0
    capsys.readouterr()
    text = out.read_text(encoding="utf-8")
    assert "=cmd|' /C calc'!A0" in text
    assert "evil" not in text  # the HYPERLINK formula was no e-mail address: left out, not run


def test_personnummer_never_printed_unmasked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import re

    assert main(["extract", str(HERE / "invalid_personnummer.csv"), "--out", str(tmp_path / "p.csv")]) == 0
    captured = capsys.readouterr()
    assert not re.search(r"\d{6}[-+]?\d{4}", captured.out + captured.err)
