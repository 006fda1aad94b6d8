"""The header row of an uploaded register file, so the mapping form can be pre-filled.

Only the header is read here (the readers read the whole file afterwards, with the mapping the
operator chose). The readers split and name it (``sources.read_header``), so the names in
the form are exactly the columns the mapping will be applied to.
"""

from __future__ import annotations

__all__ = ["header_names"]


def header_names(data: bytes, filename: str) -> list[str]:
    """The column names in the first row of a CSV/TSV text or XLSX workbook."""
    from passerlink.sources import read_header

    return read_header(data, filename)
