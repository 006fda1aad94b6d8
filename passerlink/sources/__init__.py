"""Source readers: every register (CSV, XLSX, SQL, SS 12000) and M5 into one canonical table.

Each reader turns its source into a frame of text with the row numbers a person would look up;
``canonicalize`` then recognises the headers, normalises names, dates, personnummer and e-mail,
and collects row issues. File-level problems raise ``SourceError`` with one sentence naming the
file (and row/column); row-level problems are ``RowIssue``s in ``PeopleTable.issues``.
"""

from __future__ import annotations

from pathlib import Path

from passerlink.config import CsvSourceConfig, SourceConfig, SqlSourceConfig, XlsxSourceConfig
from passerlink.people import PeopleTable
from passerlink.sources._canonical import canonicalize
from passerlink.sources._dates import parse_birth_date
from passerlink.sources._files import read_file, read_header
from passerlink.sources._headers import recognise_headers
from passerlink.sources._m5 import read_m5
from passerlink.sources._profile import describe, profile
from passerlink.sources._sql import read_sql
from passerlink.sources._ss12000 import read_ss12000
from passerlink.sources._text import mask_text, refuse_unsafe_text

__all__ = [
    "read_file",
    "read_header",
    "read_source",
    "read_m5",
    "read_sql",
    "read_ss12000",
    "canonicalize",
    "recognise_headers",
    "parse_birth_date",
    "profile",
    "describe",
    "mask_text",
]


def read_source(spec: SourceConfig, *, config_path: Path | None = None) -> PeopleTable:
    """Read one configured source; ``config_path`` only makes messages name the config file."""
    if isinstance(spec, CsvSourceConfig | XlsxSourceConfig):
        return read_file(
            spec.path,
            source=spec.name,
            id_column=spec.id_column,
            mapping=spec.columns,
            encoding=spec.encoding if isinstance(spec, CsvSourceConfig) else None,
            separator=spec.separator if isinstance(spec, CsvSourceConfig) else None,
            sheet=spec.sheet if isinstance(spec, XlsxSourceConfig) else None,
        )
    if isinstance(spec, SqlSourceConfig):
        return read_sql(spec, config_path=config_path)
    table = read_ss12000(spec, config_path=config_path)
    # an API has no rows to name: its records are named by their id
    frames = [table.people, table.extra]
    refuse_unsafe_text(
        [str(c) for f in frames for c in f.columns],
        [f[c].astype(str).tolist() for f in frames for c in f.columns],
        table.people["source_id"].tolist(), table.origin or spec.name, where="id",
    )
    return table
