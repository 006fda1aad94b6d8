"""The sign-off workbook: read back with openpyxl and checked cell by cell."""

import datetime as dt
import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from passerlink.errors import InputError
from passerlink.workbench import excel
from passerlink.workbench.linktable import LINK_COLUMNS, SHOWN_FIELDS

INJECTION = '=HYPERLINK("http://x","y")'


def _row(register, sid, mid, decision, p, **people):
    row = {"register": register, "source_id": sid, "m5_id": mid, "decision": decision, "probability": p,
           "who": "anna" if decision not in ("auto", "") else "", "at": "2025-08-01T10:00:00", "model_version": "m1"}
    for f in SHOWN_FIELDS:
        row[f] = people.get(f, "")
        row[f"m5_{f}"] = people.get(f"m5_{f}", "")
    return row


@pytest.fixture
def table():
    return pd.DataFrame([
        _row("hr", "1001", "7", "auto", 0.97, given_names="Anna Maria", family_name="Berg",
             personnummer="198001011234", m5_given_names="Anna", m5_family_name="Berg", m5_personnummer="198001011234"),
        _row("hr", "1002", "8", "confirmed", 0.55, given_names=INJECTION, family_name="-Lund", email="@evil",
             m5_given_names="+46 70", m5_family_name="Lund"),
        _row("hr", "1003", "", "", float("nan"), given_names="Per", family_name="Nyman"),
        _row("students", "S-1", "9", "rejected", 0.41, given_names="Kalle", family_name="Ek", personnummer="201001019876"),
    ])


def _export(table, **kw):
    kw.setdefault("exported_at", dt.datetime(2025, 8, 1, 12, 0, tzinfo=dt.UTC))
    return excel.export_workbook(table, registers=["hr", "students"], exported_by="anna", model_version="m1", **kw)


def test_sheets_header_layout_and_values(table):
    wb = load_workbook(io.BytesIO(_export(table)))
    assert wb.sheetnames == ["Sammanfattning", "hr", "students"]
    ws = wb["hr"]
    header = [c.value for c in ws[1]]
    assert header[0] == "Register-id" and "M5-id" in header and header[-4:] == ["Sannolikhet", "Beslut", "Beslutad av", "Tidpunkt"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=len(header)).column_letter}4"
    col = {h: i + 1 for i, h in enumerate(header)}
    assert ws.cell(row=2, column=col["Register-id"]).value == "1001"
    assert ws.cell(row=2, column=col["Förnamn"]).value == "Anna Maria"
    assert ws.cell(row=2, column=col["Sannolikhet"]).value == pytest.approx(0.97)
    assert ws.cell(row=2, column=col["Beslut"]).value == "automatisk"
    assert ws.cell(row=3, column=col["Beslut"]).value == "bekräftad"
    assert ws.cell(row=4, column=col["M5-id"]).value is None  # unlinked person, no M5 side
    assert ws.cell(row=4, column=col["Sannolikhet"]).value is None
    widths = [ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width for j in range(1, len(header) + 1)]
    assert all(8 <= w <= 45 for w in widths)
    assert widths[col["Förnamn"] - 1] >= len(INJECTION)  # widened for its longest value (guard included)
    assert wb["students"].max_row == 2


def test_decision_dropdown_and_probability_colour_scale(table):
    ws = load_workbook(io.BytesIO(_export(table)))["hr"]
    header = [c.value for c in ws[1]]
    letter = ws.cell(row=1, column=header.index("Beslut") + 1).column_letter
    dvs = ws.data_validations.dataValidation
    assert len(dvs) == 1
    dv = dvs[0]
    assert dv.type == "list"
    assert str(dv.sqref) == f"{letter}2:{letter}4"
    options = dv.formula1.strip('"').split(",")
    assert options == ["automatisk", "föreslagen", "öppen fråga", "bekräftad", "avvisad", "osäker", "manuell", "avlänkad"]
    pletter = ws.cell(row=1, column=header.index("Sannolikhet") + 1).column_letter
    ranges = [str(cf.sqref) for cf in ws.conditional_formatting]
    assert ranges == [f"{pletter}2:{pletter}4"]
    rule = next(iter(ws.conditional_formatting)).rules[0]
    assert rule.type == "colorScale"


def test_personnummer_masked_unless_asked(table):
    ws = load_workbook(io.BytesIO(_export(table)))["hr"]
    header = [c.value for c in ws[1]]
    pnr, m5pnr = header.index("Personnummer") + 1, header.index("M5 Personnummer") + 1
    assert ws.cell(row=2, column=pnr).value == "19800101-****"
    assert ws.cell(row=2, column=m5pnr).value == "19800101-****"
    every = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert not any("1234" in str(v) for v in every)
    shown = load_workbook(io.BytesIO(_export(table, show_personnummer=True)))["hr"]
    assert shown.cell(row=2, column=pnr).value == "198001011234"
    assert load_workbook(io.BytesIO(_export(table)))["Sammanfattning"]["B6"].value == "maskerade"


def test_formula_injection_is_neutralised(table):
    ws = load_workbook(io.BytesIO(_export(table)))["hr"]
    header = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    cell = ws.cell(row=3, column=col["Förnamn"])
    assert cell.data_type == "s"
    assert cell.value == "'" + INJECTION
    assert ws.cell(row=3, column=col["Efternamn"]).value == "'-Lund"
    assert ws.cell(row=3, column=col["E-post"]).value == "'@evil"
    assert ws.cell(row=3, column=col["M5 Förnamn"]).value == "'+46 70"
    for row in ws.iter_rows():
        for c in row:
            assert c.data_type != "f"
            if isinstance(c.value, str):
                assert not c.value.startswith(excel.FORMULA_TRIGGERS)


def test_summary_counts_who_and_model_version(table):
    ws = load_workbook(io.BytesIO(_export(table, lang="en")))["Summary"]
    cells = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
    values = list(cells.values())
    assert "2025-08-01T12:00:00+00:00" in values and "m1" in values and "masked" in values
    header_row = next(r for (r, c), v in cells.items() if v == "Register" and c == 1)
    header = [cells.get((header_row, j)) for j in range(1, 12)]
    assert header == ["Register", "automatic", "proposed", "open question", "confirmed", "rejected", "unsure", "manual", "unlinked",
                      "without link", "Total"]
    hr = [cells.get((header_row + 1, j)) for j in range(1, 12)]
    assert hr == ["hr", 1, 0, 0, 1, 0, 0, 0, 0, 1, 3]
    students = [cells.get((header_row + 2, j)) for j in range(1, 12)]
    assert students == ["students", 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    who_row = next(r for (r, c), v in cells.items() if v == "Decisions made by")
    assert cells[(who_row + 1, 1)] == "anna" and cells[(who_row + 1, 2)] == 2


@pytest.mark.parametrize("text,guarded", [("=1+1", "'=1+1"), ("\tx", "'\tx"), ("Anna", "Anna"), ("'=x", "'=x"), ("", "")])
def test_guard_round_trip(text, guarded):
    assert excel.guard_text(text) == guarded
    if text and not text.startswith("'"):
        assert excel.unguard_text(excel.guard_text(text)) == text


def _edit(data: bytes, edits: dict[tuple[str, int], str]) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    for (sheet, row), value in edits.items():
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        ws.cell(row=row, column=header.index("Beslut") + 1).value = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_reimport_gives_exactly_the_edited_decisions(table):
    data = _edit(_export(table), {("hr", 2): "avvisad", ("students", 2): "confirmed", ("hr", 4): ""})
    edited = excel.read_workbook(data)
    assert list(edited["register"]) == ["hr", "hr", "hr", "students"]
    assert edited.loc[1, "source_id"] == "1002"
    changes = excel.diff_decisions(table[LINK_COLUMNS], edited)
    assert changes[["register", "source_id", "m5_id", "before", "after"]].values.tolist() == [
        ["hr", "1001", "7", "auto", "rejected"],
        ["students", "S-1", "9", "rejected", "confirmed"],
    ]
    decisions = excel.changes_to_decisions(changes, who="bo", note="excel import: x.xlsx", model_version="m2")
    assert [(d.source, d.source_id, d.m5_id, d.decision, d.who) for d in decisions] == [
        ("hr", "1001", "7", "rejected", "bo"), ("students", "S-1", "9", "confirmed", "bo")]
    assert decisions[0].probability == pytest.approx(0.97)


def test_unedited_export_changes_nothing(table):
    assert excel.diff_decisions(table[LINK_COLUMNS], excel.read_workbook(_export(table, lang="en"))).empty


def test_reimport_rejects_unknown_words_and_auto(table):
    with pytest.raises(InputError, match=r"sheet 'hr', row 3, column 'Beslut': 'kanske' is not a decision"):
        excel.read_workbook(_edit(_export(table), {("hr", 3): "kanske"}), name="x.xlsx")
    edited = excel.read_workbook(_edit(_export(table), {("students", 2): "automatisk"}))
    with pytest.raises(InputError, match=r"sheet 'students', row 2: .*model only"):
        excel.diff_decisions(table[LINK_COLUMNS], edited)
    with pytest.raises(InputError, match="not an Excel workbook"):
        excel.read_workbook(b"not a zip", name="x.xlsx")


def test_manual_pair_typed_into_the_sheet(table):
    wb = load_workbook(io.BytesIO(_export(table)))
    ws = wb["hr"]
    header = [c.value for c in ws[1]]
    ws.cell(row=4, column=header.index("M5-id") + 1).value = 42  # Excel turns a typed id into a number
    ws.cell(row=4, column=header.index("Beslut") + 1).value = "manuell"
    buf = io.BytesIO()
    wb.save(buf)
    changes = excel.diff_decisions(table[LINK_COLUMNS], excel.read_workbook(buf.getvalue()))
    assert changes[["source_id", "m5_id", "before", "after"]].values.tolist() == [["1003", "42", "", "manual"]]
