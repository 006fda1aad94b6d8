"""Reports: three formats from one dict, personal data masked, formula-safe cells, pruning."""

from __future__ import annotations

import datetime as _dt
import json

import pytest
from openpyxl import load_workbook

from passerlink.errors import InputError
from passerlink.sync.report import (
    HTML_ROW_LIMIT,
    check_report_dir,
    last_report,
    list_reports,
    mask_value,
    prune_reports,
    safe_cell,
    summary_text,
    write_reports,
)


def _report(**kw):
    r = {
        "run_id": "0123456789abcdef", "started": "2026-11-01T02:00:00+01:00", "finished": "2026-11-01T02:00:05+01:00",
        "duration_seconds": 5.2, "dry_run": False, "status": "done", "sources": {"hr": 120, "students": 150},
        "counts": {"changed": 1, "unchanged": 268, "new": 1, "manual_left_alone": 94}, "m5_writes": 2,
        "manual_left_alone": 94, "errors": [], "safety": [
            {"rule": "creates_count", "ok": True, "value": 1, "limit": 500, "message": "1 creates planned",
             "overridable": True, "overridden": False}],
        "changes": [
            {"kind": "update", "situation": "changed", "label": "=HYPERLINK(\"http://x\")", "key": ["hr", "7"],
             "m5_id": "12", "protected": False, "status": "done",
             "changes": [{"field": "customfield1", "before": "19800101-1234", "after": "198001011234"},
                         {"field": "lastname", "before": "+Berg", "after": "Berg"}]},
            {"kind": "create", "situation": "new", "label": "Skyddad identitet (students:u1)",
             "key": ["students", "u1"], "m5_id": "13", "protected": True, "status": "done",
             "fields": {"firstname": "Kim", "lastname": "Ek"}},
        ],
    }
    r.update(kw)
    return r


def test_masking_and_formula_guard():
    assert mask_value("198001011234") == "19800101-****"
    assert mask_value("800101-1234") == "800101-****"
    assert mask_value("Berg") == "Berg" and mask_value(12) == 12
    for bad in ("=1+1", "+46", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(bad) == "'" + bad
    assert safe_cell("Anna") == "Anna" and safe_cell(3) == 3


def test_every_format_written_and_nothing_personal_leaks(tmp_path):
    paths = write_reports(_report(), tmp_path)
    assert set(paths) == {"json", "html", "xlsx"} and all(p.exists() for p in paths.values())
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    everything = paths["json"].read_text(encoding="utf-8") + paths["html"].read_text(encoding="utf-8")
    assert "198001011234" not in everything and "19800101-1234" not in everything
    assert "Kim" not in everything  # protected identity: no values at all
    assert data["changes"][1]["fields"] == {"firstname": "***", "lastname": "***"}
    html = paths["html"].read_text(encoding="utf-8")
    assert '<html lang="sv">' in html and "Skrivningar till M5" in html and "&#34;http://x&#34;" in html
    wb = load_workbook(paths["xlsx"])
    assert wb.sheetnames == ["Sammanfattning", "Ändringar", "Säkerhetsregler", "Fel"]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert not c.value.startswith(("=", "+", "@")), c.value
    cells = [c.value for row in wb["Ändringar"].iter_rows() for c in row]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'+Berg" in cells


def test_last_report_summary_and_pruning(tmp_path):
    old = write_reports(_report(run_id="aaaaaaaa", started="2026-01-01T02:00:00+01:00"), tmp_path)
    new = write_reports(_report(run_id="bbbbbbbb", status="stopped", stop_reason="stopped by safety rule x"),
                        tmp_path)
    assert last_report(tmp_path) == new["json"]
    text = summary_text(json.loads(new["json"].read_text(encoding="utf-8")))
    assert "status: stopped" in text and "hr 120" in text and "stopped by safety rule x" in text
    gone = prune_reports(tmp_path, 90, now=_dt.datetime(2026, 11, 2))
    assert set(gone) == set(old.values())
    assert list_reports(tmp_path) == [new["json"]]


HOSTILE = "Ny\x1b[31mberg\x00<script>alert(1)</script>\u202egreb" + "x" * 10_000


def _cells(path):
    wb = load_workbook(path, read_only=True)
    return [c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]


def test_writers_never_crash_on_a_hostile_string(tmp_path):
    """ESC, NUL, a bidi override, markup and 10,000 characters: all three files are written (the
    old XLSX writer raised openpyxl's IllegalCharacterError and no report was left)."""
    change = {"kind": "update", "situation": "changed", "label": HOSTILE, "key": ["hr", "7"], "m5_id": "12",
              "protected": False, "status": "failed",
              "changes": [{"field": "lastname", "before": "Berg", "after": HOSTILE}]}
    r = _report(changes=[change], stop_reason=HOSTILE,
                errors=[{"label": HOSTILE, "kind": "update", "m5_id": "12", "message": HOSTILE}])
    paths = write_reports(r, tmp_path)
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert "report_problems" not in data
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "\x1b" not in html and "\x00" not in html and "x" * 1000 not in html
    cells = [c for c in _cells(paths["xlsx"]) if isinstance(c, str)]
    hostile = [c for c in cells if c.startswith("Ny\ufffd[31m")]
    assert hostile and all(len(c) <= 1000 and "\x1b" not in c and "\x00" not in c for c in hostile)
    assert all(c.endswith(f"({len(HOSTILE)} characters)") for c in hostile)


def test_personnummer_in_any_free_text_is_masked_in_every_format(tmp_path):
    """A personnummer typed into a name field reached the HTML, JSON and XLSX unmasked."""
    typed = "Anna 19800101-1234 Berg"
    change = {"kind": "create", "situation": "new", "label": typed, "key": ["hr", "8"], "m5_id": None,
              "protected": False, "status": "planned", "fields": {"firstname": typed, "lastname": "Berg"},
              "notes": [f"M5 said: {typed}"], "message": "pnr 800101-1234"}
    r = _report(changes=[change], stop_reason=f"row 3: {typed}",
                errors=[{"label": typed, "kind": "create", "m5_id": "", "message": f"refused {typed}"}])
    paths = write_reports(r, tmp_path)
    texts = [paths["json"].read_text(encoding="utf-8"), paths["html"].read_text(encoding="utf-8"),
             "\n".join(str(c) for c in _cells(paths["xlsx"]))]
    for text in texts:
        assert "01-1234" not in text and "1234 Berg" not in text
        assert "19800101-****" in text
    assert "800101-****" in texts[0]


def test_html_lists_are_capped_with_a_note_and_the_xlsx_has_everything(tmp_path):
    n = HTML_ROW_LIMIT + 25
    changes = [{"kind": "create", "situation": "new", "label": f"Person {i}", "key": ["hr", str(i)],
                "m5_id": None, "protected": False, "status": "planned", "fields": {"lastname": f"L{i}"}}
               for i in range(n)]
    paths = write_reports(_report(changes=changes), tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    assert f"Person {HTML_ROW_LIMIT - 1}<" in html and f"Person {HTML_ROW_LIMIT}<" not in html
    assert f"Visar de första {HTML_ROW_LIMIT} av {n}; hela listan finns i XLSX-rapporten." in html
    wb = load_workbook(paths["xlsx"], read_only=True)
    assert sum(1 for _ in wb["Ändringar"].iter_rows()) == n + 1
    assert len(json.loads(paths["json"].read_text(encoding="utf-8"))["changes"]) == n


def test_html_in_english_on_request(tmp_path):
    html = write_reports(_report(warnings=["verify_tls = false"]), tmp_path, lang="en")["html"]
    text = html.read_text(encoding="utf-8")
    assert '<html lang="en">' in text and "Write calls to M5" in text and "Warning: verify_tls = false" in text


def test_unwritable_report_dir_is_found_before_anything_is_written(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="the report folder .* cannot be written"):
        check_report_dir(blocker / "reports")
    assert check_report_dir(tmp_path / "new" / "reports").is_dir()


def test_log_records_are_masked_by_the_filter(caplog):
    import logging

    from passerlink.sync.report import PersonnummerLogFilter

    record = logging.LogRecord("passerlink.sync", logging.WARNING, __file__, 1,
                               "M5 refused %s: name %r", ("update", "Anna 198001011234"), None)
    assert PersonnummerLogFilter().filter(record)
    assert record.getMessage() == "M5 refused update: name 'Anna 19800101-****'"
