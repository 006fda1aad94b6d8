"""XLSX registers: formulas are never evaluated, Excel dates become ISO, sheets and sizes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from passerlink.errors import SourceError
from passerlink.sources import read_file


def make_book(path: Path, rows: list[list[object]], *, title: str = "Personal",
              more: dict[str, list[list[object]]] | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    for name, extra_rows in (more or {}).items():
        other = wb.create_sheet(name)
        for row in extra_rows:
            other.append(row)
    wb.save(path)
    return path


def test_formula_cells_are_kept_as_text_and_flagged(tmp_path: Path) -> None:
    path = make_book(tmp_path / "hr.xlsx", [
        ["Anställningsnummer", "Förnamn", "Efternamn", "E-post"],
        ["0012", "Anna", "Berg", '=HYPERLINK("http://evil","x")'],
        ["0013", "=cmd|' /C calc'!A0", "Ek", "bo@x.se"],
        ["0014", "Cia", "=1+2", ""],
    ])
    assert load_workbook(path)["Personal"]["D2"].data_type == "f"  # really a formula cell
    table = read_file(path, source="hr")
    people = table.people
    assert people["email"].tolist()[0] == ""  # the formula text is not an e-mail address
    assert people["given_names"].tolist() == ["Anna", "=cmd|' /C calc'!A0", "Cia"]
    assert people["family_name"].tolist() == ["Berg", "Ek", "=1+2"]  # never evaluated to 3
    formula_issues = [str(i) for i in table.issues if "formula" in i.problem]
    assert formula_issues == [
        "row 2, column 'E-post': formula in cell D2 kept as text",
        "row 3, column 'Förnamn': formula in cell B3 kept as text",
        "row 4, column 'Efternamn': formula in cell C4 kept as text",
    ]


def test_excel_dates_numbers_and_leading_zeros(tmp_path: Path) -> None:
    path = make_book(tmp_path / "d.xlsx", [
        ["Anstnr", "Förnamn", "Efternamn", "Födelsedatum", "Kostnadsställe"],
        ["0007", "Åsa", "Öst", dt.datetime(1980, 1, 31), 4711],
        [12.0, "Bo", "Ek", dt.date(1975, 5, 6), 4712.5],
    ])
    table = read_file(path)
    assert table.people["employee_number"].tolist() == ["0007", "12"]
    assert table.people["birth_date"].tolist() == ["1980-01-31", "1975-05-06"]
    assert table.people["org_unit"].tolist() == ["4711", "4712.5"]
    assert table.people["given_names"].tolist() == ["Åsa", "Bo"]


def test_named_sheet_blank_rows_and_offset_header(tmp_path: Path) -> None:
    path = make_book(
        tmp_path / "s.xlsx",
        [["ignored"]],
        more={"Elever": [[], [None, None], ["Elev-ID", "Förnamn", "Efternamn"], ["e1", "Lo", "Ek"],
                         [], ["e2", "Liv", "Al", None, "stray"]]},
    )
    table = read_file(path, sheet="Elever")
    assert table.people["source_id"].tolist() == ["e1", "e2"]
    stray = [i for i in table.issues if "right of the last header column" in i.problem]
    assert [i.row for i in stray] == [6]
    with pytest.raises(SourceError, match=r"s\.xlsx has no sheet 'Nope' \(its sheets are Personal, Elever\)"):
        read_file(path, sheet="Nope")


def test_xlsx_saved_as_csv_is_read_by_content(tmp_path: Path) -> None:
    path = make_book(tmp_path / "really_a_workbook.csv", [["Förnamn", "Efternamn"], ["A", "B"]])
    assert read_file(path).people["family_name"].tolist() == ["B"]


def test_header_only_and_empty_workbooks(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"h\.xlsx has a header but no data rows"):
        read_file(make_book(tmp_path / "h.xlsx", [["Förnamn", "Efternamn"]]))
    with pytest.raises(SourceError, match=r"e\.xlsx is empty"):
        read_file(make_book(tmp_path / "e.xlsx", []))
