"""Excel workbooks (XLSX/XLSM), read cell by cell without ever evaluating anything.

The workbook is opened read-only with ``data_only=False`` on purpose: a formula cell then gives
its formula text (``=HYPERLINK("http://evil","x")``), which is kept as a literal string and
listed as a row issue. ``data_only=True`` would instead hand over whatever result Excel cached
when the file was last saved (or nothing, for files not saved by Excel) – a value nobody typed.
openpyxl never calculates or runs formulas, macros or external links either way.
Dates typed as Excel dates become ISO text; numbers lose a spurious ``.0``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd

from passerlink.errors import SourceError
from passerlink.people import RowIssue
from passerlink.sources._text import (
    cell_text,
    looks_like_formula,
    refuse_unsafe_text,
    unique_headers,
)

__all__ = ["read_workbook", "read_workbook_header"]


def _formula_text(value: object) -> str:
    # array and data-table formulas come as objects carrying their text
    text = getattr(value, "text", None)
    return str(text if text is not None else value)


def _cells(cells: tuple) -> tuple[list[str], list[int], list[int]]:
    """(text per cell, indexes of formula cells, indexes of error cells) of one sheet row."""
    values: list[str] = []
    formulas: list[int] = []
    errors: list[int] = []
    for j, cell in enumerate(cells):
        value = getattr(cell, "value", None)
        kind = getattr(cell, "data_type", "n")
        if value is None:
            values.append("")
        elif kind == "f":
            values.append(_formula_text(value))
            formulas.append(j)
        elif kind == "e":
            values.append("")
            errors.append(j)
        else:
            values.append(cell_text(value))
    return values, formulas, errors


def _row_issues(
    number: int, header: list[str], values: list[str], formulas: list[int], errors: list[int]
) -> list[RowIssue]:
    """What one data row of a sheet had to have left out or kept as text."""
    from openpyxl.utils import get_column_letter

    def col_name(j: int) -> str:
        return header[j] if j < len(header) else f"column {get_column_letter(j + 1)}"

    def ref(j: int) -> str:
        return f"{get_column_letter(j + 1)}{number}"

    issues = [RowIssue(number, col_name(j), f"formula in cell {ref(j)} kept as text") for j in formulas]
    issues += [RowIssue(number, col_name(j), f"error value in cell {ref(j)}; read as empty") for j in errors]
    issues += [
        RowIssue(number, col_name(j), f"text in cell {ref(j)} looks like a formula; kept as text")
        for j, v in enumerate(values) if j not in formulas and looks_like_formula(v)
    ]
    surplus = [v for v in values[len(header):] if v.strip()]
    if surplus:
        issues.append(
            RowIssue(number, f"after {header[-1]}",
                     f"{len(surplus)} values right of the last header column are ignored")
        )
    return issues


def read_workbook(
    data: bytes, path: Path, *, sheet: str | None = None
) -> tuple[pd.DataFrame, list[int], list[RowIssue], str]:
    """``(frame of text, row number per row, row issues, 'how it was read')`` of one sheet.

    A cell holding a control or bidi character stops the file (``SourceError`` naming row and
    column), as in every reader."""
    wb = _open(data, path)
    try:
        ws = _sheet(wb, path, sheet)
        header: list[str] | None = None
        records: list[list[str]] = []
        rows: list[int] = []
        issues: list[RowIssue] = []
        for number, cells in enumerate(ws.iter_rows(), start=1):
            values, formulas, errors = _cells(cells)
            if not any(v.strip() for v in values):
                continue
            if header is None:
                header = _unique_headers(values)
                continue
            issues += _row_issues(number, header, values, formulas, errors)
            records.append((values + [""] * len(header))[: len(header)])
            rows.append(number)
        title = ws.title
    finally:
        wb.close()
    if header is None:
        raise SourceError(f"{path} is empty (sheet {title!r} has no values)")
    if not records:
        raise SourceError(f"{path} has a header but no data rows (sheet {title!r})")
    refuse_unsafe_text(header, [[r[j] for r in records] for j in range(len(header))], rows, str(path))
    return pd.DataFrame(records, columns=header, dtype=object), rows, issues, f"sheet {title!r}"


def read_workbook_header(data: bytes, path: Path, *, sheet: str | None = None) -> list[str]:
    """The sheet's header row as ``read_workbook`` names it (``[]`` if the sheet has no values)."""
    wb = _open(data, path)
    try:
        for values in _sheet(wb, path, sheet).iter_rows(values_only=True):
            raw = [cell_text(_formula_text(v) if hasattr(v, "text") else v) for v in values]
            if any(v.strip() for v in raw):
                return _unique_headers(raw)
    finally:
        wb.close()
    return []


def _open(data: bytes, path: Path):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # from memory: openpyxl would otherwise refuse a workbook whose name is not .xlsx
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise SourceError(f"{path} is not a readable XLSX workbook ({exc})") from None


def _sheet(wb, path: Path, sheet: str | None):
    """The sheet to read (the first unless named), sized by what is really there."""
    names = wb.sheetnames
    if sheet is None:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            raise SourceError(f"{path} has no worksheet")
    elif sheet in names:
        ws = wb[sheet]
    else:
        raise SourceError(f"{path} has no sheet {sheet!r} (its sheets are {', '.join(names)})")
    if not hasattr(ws, "iter_rows"):
        raise SourceError(f"{path}: sheet {ws.title!r} is a chart, not a table")
    ws.reset_dimensions()  # some writers store a wrong size; read what is really there
    return ws


def _unique_headers(raw: list[str]) -> list[str]:
    # a sheet's header row ends at its last non-empty cell (formatting widens it in Excel)
    while raw and not raw[-1].strip():
        raw = raw[:-1]
    return unique_headers(raw)
