"""The header row of an uploaded register file, so the mapping form can be pre-filled.

Only the header is read here (the readers read the whole file afterwards, with the mapping the
operator chose); a file whose first row cannot be found is one sentence, as the readers say it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from passerlink.errors import SourceError

__all__ = ["header_names"]


def header_names(data: bytes, filename: str) -> list[str]:
    """The column names in the first row of a CSV/TSV text or XLSX workbook."""
    if data.startswith(b"PK\x03\x04"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
            raise SourceError(f"{filename}: not a readable XLSX workbook ({type(exc).__name__})") from None
        try:
            first = next(wb.worksheets[0].iter_rows(values_only=True), None)
        finally:
            wb.close()
        names = [str(c).strip() for c in (first or ()) if c is not None and str(c).strip()]
    else:
        for encoding in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        line = next((ln for ln in text.splitlines() if ln.strip()), "")
        counts = {sep: line.count(sep) for sep in (";", ",", "\t", "|")}
        sep = max(counts, key=counts.get)
        names = [c.strip() for c in next(csv.reader([line], delimiter=sep), []) if c.strip()]
    if not names:
        raise SourceError(f"{Path(filename).name}: no header row found")
    return names
