"""Delimited text files (CSV, TSV, TXT) as municipal systems export them.

Encoding: a UTF-8 or UTF-16 byte-order mark decides; otherwise strict UTF-8 is tried first
(Windows-1252 text is almost never valid UTF-8 by accident), then Windows-1252. Separator: the
one of ``;``, ``,``, tab and ``|`` that splits the header into most columns and the rows
consistently. Every value is read as text, so ``0012`` and personnummer keep their digits.
Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pandas as pd

from passerlink.errors import SourceError
from passerlink.people import RowIssue
from passerlink.sources._text import looks_like_formula, unique_headers

__all__ = ["read_delimited", "read_delimited_header", "decode_bytes", "sniff_separator"]

_SEPARATORS = [";", ",", "\t", "|"]
_SEPARATOR_NAMES = {";": "';'", ",": "','", "\t": "tab", "|": "'|'"}
_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252",
                   "utf-16": "UTF-16"}


def _where(data: bytes, pos: int, enc: str, separator: str | None) -> str:
    """'row 3, column 'E-post',' for the byte at ``pos`` (column from the header, best effort)."""
    row = data.count(b"\n", 0, pos) + 1
    text = data[:65536].decode(enc, errors="replace")
    sep = separator or sniff_separator(text)
    line_start = data.rfind(b"\n", 0, pos) + 1
    index = data[line_start:pos].decode(enc, errors="replace").count(sep)
    header = next(csv.reader([text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")], delimiter=sep), [])
    if index < len(header) and header[index].strip():
        return f"row {row}, column {header[index].strip()!r},"
    return f"row {row}"


def _guess(data: bytes) -> str | None:
    for enc in ("utf-8", "cp1252"):
        try:
            data.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    return None


def decode_bytes(
    data: bytes, path: Path, encoding: str | None = None, separator: str | None = None
) -> tuple[str, str]:
    """``(text, encoding used)``; ``SourceError`` naming the row of the first bad byte."""
    if encoding:
        try:
            enc = codecs.lookup(encoding).name
        except LookupError:
            raise SourceError(f"{path}: unknown encoding {encoding!r}") from None
        if data.startswith(codecs.BOM_UTF8):
            # the mark says UTF-8; whatever was forced, the mark itself is not a header character
            data = data[len(codecs.BOM_UTF8):]
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as exc:
            guess = _guess(data)
            hint = (
                f"; it looks like {_ENCODING_NAMES.get(guess, guess)}, so drop the forced "
                "encoding or force that one"
                if guess and guess != enc
                else ""
            )
            raise SourceError(
                f"{path}: byte 0x{data[exc.start]:02X} on "
                f"{_where(data, exc.start, guess or 'latin-1', separator)} is not "
                f"valid {_ENCODING_NAMES.get(enc, enc)} (the forced encoding){hint}"
            ) from None
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        if b"\x00" in data[:4096]:
            raise SourceError(
                f"{path} contains NUL bytes: it is a binary file or UTF-16 without a byte-order "
                "mark, not a CSV file"
            )
        candidates = ["utf-8", "cp1252"]
    first_error: UnicodeDecodeError | None = None
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
    assert first_error is not None
    # report the byte that also breaks the last candidate (cp1252 leaves 5 bytes undefined)
    try:
        data.decode(candidates[-1])
        pos = first_error.start
    except UnicodeDecodeError as exc:
        pos = exc.start
    raise SourceError(
        f"{path}: byte 0x{data[pos]:02X} on {_where(data, pos, 'latin-1', separator)} is neither "
        f"{' nor '.join(_ENCODING_NAMES[c] for c in candidates)}; save the file as UTF-8 or "
        "name its encoding with --encoding"
    )


def sniff_separator(text: str) -> str:
    """The separator that splits the header widest while the rows agree with it."""
    sample = text
    if len(text) > 65536:  # cut at a line end so that the last sampled row is whole
        cut = text.rfind("\n", 0, 65536)
        sample = text[: cut if cut > 0 else 65536]
    best: tuple[tuple[bool, int, float], str] | None = None
    for sep in _SEPARATORS:
        try:
            reader = csv.reader(io.StringIO(sample, newline=""), delimiter=sep)
            records = [r for r in reader if any(v.strip() for v in r)][:50]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        body = records[1:] or records
        agree = sum(1 for r in body if len(r) == width) / len(body)
        score = (agree >= 0.9, width, agree)
        if best is None or score > best[0]:
            best = (score, sep)
    return best[1] if best else ","


def _separator(value: str, path: Path) -> str:
    named = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}
    sep = named.get(value.lower(), value)
    if len(sep) != 1:
        raise SourceError(f"{path}: separator {value!r} is not one character")
    return sep


def read_delimited_header(
    data: bytes, path: Path, *, encoding: str | None = None, separator: str | None = None
) -> list[str]:
    """The header row as ``read_delimited`` decodes, splits and names it (``[]`` if there is none)."""
    sep = _separator(separator, path) if separator else None
    text, _enc = decode_bytes(data, path, encoding, sep)
    text = text.removeprefix("\ufeff")
    sep = sep or sniff_separator(text)
    try:
        for rec in csv.reader(io.StringIO(text, newline=""), delimiter=sep):
            if any(v.strip() for v in rec):
                return unique_headers(rec)
    except csv.Error as exc:
        raise SourceError(f"{path}: the header row cannot be parsed as CSV ({exc})") from None
    return []


def read_delimited(
    data: bytes, path: Path, *, encoding: str | None = None, separator: str | None = None
) -> tuple[pd.DataFrame, list[int], list[RowIssue], str]:
    """``(frame of text, row number per row, row issues, 'how it was read')`` of a CSV file."""
    if not data.strip():
        raise SourceError(f"{path} is empty")
    sep = _separator(separator, path) if separator else None
    text, enc = decode_bytes(data, path, encoding, sep)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise SourceError(f"{path} is empty")
    sep = sep or sniff_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header: list[str] | None = None
    records: list[list[str]] = []
    rows: list[int] = []
    issues: list[RowIssue] = []
    number = 0
    try:
        for rec in reader:
            number += 1
            if not any(v.strip() for v in rec):
                continue
            if header is None:
                header = unique_headers(rec)
                continue
            width = len(header)
            if len(rec) < width:
                issues.append(
                    RowIssue(number, header[len(rec)],
                             f"{len(rec)} fields where the header has {width}; "
                             "the missing ones are read as empty")
                )
                rec = rec + [""] * (width - len(rec))
            elif len(rec) > width:
                surplus = rec[width:]
                if any(v.strip() for v in surplus):
                    issues.append(
                        RowIssue(number, f"after {header[-1]}",
                                 f"{len(rec)} fields where the header has {width}; "
                                 f"the last {len(surplus)} are ignored")
                    )
                rec = rec[:width]
            for col, value in zip(header, rec, strict=True) if "=" in "".join(rec) else ():
                if looks_like_formula(value):
                    issues.append(
                        RowIssue(number, col, "text starting with '=' looks like a spreadsheet "
                                 "formula; kept as text")
                    )
            records.append(rec)
            rows.append(number)
    except csv.Error as exc:
        raise SourceError(f"{path}: row {reader.line_num} cannot be parsed as CSV ({exc})") from None
    if header is None:
        raise SourceError(f"{path} is empty")
    if not records:
        raise SourceError(f"{path} has a header but no data rows")
    frame = pd.DataFrame(records, columns=header, dtype=object)
    read_as = f"{_ENCODING_NAMES.get(enc, enc)}, separator {_SEPARATOR_NAMES.get(sep, repr(sep))}"
    return frame, rows, issues, read_as
