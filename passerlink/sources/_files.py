"""A register file on disk, whatever its suffix claims: CSV/TSV/TXT or an XLSX workbook."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from passerlink.errors import SourceError
from passerlink.people import PeopleTable
from passerlink.sources._canonical import canonicalize
from passerlink.sources._csv import read_delimited, read_delimited_header
from passerlink.sources._xlsx import read_workbook, read_workbook_header

__all__ = ["read_file", "read_header", "WORKBOOK_SUFFIXES"]

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and password-protected workbooks


def read_file(
    path: str | Path,
    *,
    source: str = "file",
    id_column: str | None = None,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    separator: str | None = None,
    sheet: str | None = None,
) -> PeopleTable:
    """Read one register file into a canonical table.

    The content decides the format (a workbook is a zip archive), so an XLSX saved as
    ``.csv`` still reads; a text file named ``.xlsx`` is refused, because whoever named it meant
    something else and should look at it. ``encoding``/``separator`` apply to text files,
    ``sheet`` to workbooks.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path} not found") from None
    except IsADirectoryError:
        raise SourceError(f"{path} is a folder, not a file") from None
    except PermissionError:
        raise SourceError(f"{path} cannot be read (permission denied)") from None
    except OSError as exc:
        if path.is_dir():
            raise SourceError(f"{path} is a folder, not a file") from None
        raise SourceError(f"{path} cannot be read ({exc.strerror or exc})") from None
    suffix = path.suffix.lower()
    if data.startswith(_ZIP_MAGIC):
        frame, rows, issues, read_as = read_workbook(data, path, sheet=sheet)
    elif data.startswith(_OLE_MAGIC):
        raise SourceError(
            f"{path} is an old Excel 97-2003 (.xls) or password-protected workbook; save it "
            "unprotected as .xlsx or as CSV"
        )
    elif suffix in WORKBOOK_SUFFIXES:
        what = "empty" if not data.strip() else "plain text (a CSV file renamed?)"
        raise SourceError(
            f"{path} is not an XLSX workbook: its content is {what}; export it again as XLSX "
            "or give it a .csv name"
        )
    else:
        frame, rows, issues, read_as = read_delimited(
            data, path, encoding=encoding, separator=separator
        )
    table = canonicalize(
        frame,
        source=source,
        id_column=id_column,
        mapping=mapping,
        origin=str(path),
        row_numbers=rows,
        issues=issues,
    )
    table.people.attrs["read_as"] = read_as
    return table


def read_header(data: bytes, path: str | Path) -> list[str]:
    """The header row of a register file's content, named exactly as ``read_file`` will name its
    columns (blank ones 'column 3', repeats numbered): what a column mapping for it must use.
    Only the header is split, so a page can call this on every rerun while a file is uploaded."""
    path = Path(path)
    if data.startswith(_ZIP_MAGIC):
        header = read_workbook_header(data, path)
    else:
        header = read_delimited_header(data, path)
    if not header:
        raise SourceError(f"{path}: no header row found")
    return header
