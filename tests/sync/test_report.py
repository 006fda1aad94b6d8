"""Reports: three formats from one dict, personal data masked, formula-safe cells, pruning."""

from __future__ import annotations

import datetime as _dt
import json

from openpyxl import load_workbook

from passerlink.sync.report import (
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
    assert "lang='sv'" in html and "Skrivningar till M5" in html and "&quot;http://x&quot;" in html
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
