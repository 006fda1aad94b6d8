"""Delimited text files (CSV, TSV, TXT) as municipal systems export them.

Encoding: a UTF-8 or UTF-16 byte-order mark decides; otherwise strict UTF-8 is tried first
(Windows-1252 text is almost never valid UTF-8 by accident), then Windows-1252. Separator: the
one of ``;``, ``,``, tab and ``|`` that splits the header into most columns and the rows
consistently. Every value is read as text, so ``0012`` and personnummer keep their digits.
Rows are numbered as a spreadsheet shows them: the header is row 1.

A register file is whole or it is not read (``SourceError``, which stops the sync with exit 3 and
``extract`` with exit 2): one encoding for the whole file (a row in another one is named with the
true byte and its offset), a line break after the last row (a copy cut off mid-row is not a
shorter register), every row as wide as the header, no empty id, no control or bidi character.
A million rows are read column by column in chunks, without a second copy of the text.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from passerlink.errors import SourceError
from passerlink.people import RowIssue
from passerlink.sources._text import formula_rows, refuse_unsafe_text, unique_headers

__all__ = ["read_delimited", "read_delimited_header", "decode_bytes", "sniff_separator"]

_SEPARATORS = [";", ",", "\t", "|"]
_SEPARATOR_NAMES = {";": "';'", ",": "','", "\t": "tab", "|": "'|'"}
_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252",
                   "utf-16": "UTF-16"}


def _where(data: bytes, pos: int, enc: str, separator: str | None) -> str:
    """'row 3, column 'E-post',' for the byte at ``pos`` (column from the header, best effort)."""
    row = data.count(b"\n", 0, pos) + 1
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    text = data[start:65536].decode(enc, errors="replace")
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


def _byte_at(data: bytes, pos: int, separator: str | None) -> str:
    """'byte 0xF6 at offset 61 (row 3, column 'Efternamn')': the true byte and where it is."""
    header_enc = _guess(data[: data.find(b"\n")]) or "latin-1"
    where = _where(data, pos, header_enc, separator).rstrip(",")
    return f"byte 0x{data[pos]:02X} at offset {pos} ({where})"


_NON_ASCII_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*")


def _refuse_mixed(data: bytes, path: Path, separator: str | None) -> None:
    """Refuse a file whose lines are in two encodings: some valid UTF-8 with non-ASCII letters,
    others not UTF-8 at all. Decoding it as either would turn one group into mojibake
    ('Ã…strÃ¶m') that reaches M5 as a name. Only called when strict UTF-8 failed, so the cost
    (one decode per line with a non-ASCII byte) is paid by Windows-1252 files alone."""
    utf8: list[int] = []
    other: list[int] = []
    for m in _NON_ASCII_LINE.finditer(data):
        try:
            m.group(0).decode("utf-8")
        except UnicodeDecodeError as exc:
            other.append(m.start() + exc.start)
        else:
            utf8.append(m.start() + m.group(0).index(next(b for b in m.group(0) if b >= 0x80)))
        if utf8 and other and len(utf8) + len(other) > 2000:
            break  # enough to name both sides
    if not utf8 or not other:
        return
    odd, odd_enc, usual, usual_enc = (
        (utf8, "UTF-8", other, "Windows-1252") if len(utf8) <= len(other)
        else (other, "Windows-1252", utf8, "UTF-8")
    )
    usual_row = data.count(b"\n", 0, usual[0]) + 1
    raise SourceError(
        f"{path}: one file, two encodings: the {_byte_at(data, odd[0], separator)} is "
        f"{odd_enc} while row {usual_row} is {usual_enc}"
        + (f" ({len(odd) - 1} more {odd_enc} lines)" if len(odd) > 1 else "")
        + "; a register file must have one encoding – save it again as UTF-8"
    )


def decode_bytes(
    data: bytes, path: Path, encoding: str | None = None, separator: str | None = None
) -> tuple[str, str]:
    """``(text, encoding used)``; ``SourceError`` naming the true byte, its offset and row.

    One encoding for the whole file: a file with a UTF-8 byte-order mark must be UTF-8 to its
    end, and a file that is neither all UTF-8 nor all Windows-1252 (some rows saved by another
    program) is refused rather than read as mojibake."""
    if encoding:
        return _decode_forced(data, path, encoding, separator)
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            pos = exc.start + len(codecs.BOM_UTF8)  # the codec counts after the mark
            looks = "; that row reads as Windows-1252" if _guess(data[3:]) == "cp1252" else ""
            raise SourceError(
                f"{path}: the file starts with a UTF-8 byte-order mark, but its "
                f"{_byte_at(data, pos, separator)} is not UTF-8{looks}; a register file must have "
                "one encoding – save it again as UTF-8"
            ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{path}: byte offset {exc.start} is not valid UTF-16 although the file starts "
                "with a UTF-16 byte-order mark; save it again as UTF-8"
            ) from None
    sample = data[:4096]
    if sample.count(0) > 2 and sample.count(0) * 100 > len(sample):  # a stray NUL is a cell's problem
        raise SourceError(
            f"{path} contains NUL bytes: it is a binary file or UTF-16 without a byte-order "
            "mark, not a CSV file"
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    _refuse_mixed(data, path, separator)
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        pos = exc.start  # the byte that also breaks Windows-1252 (5 bytes are undefined there)
    raise SourceError(
        f"{path}: {_byte_at(data, pos, separator)} is neither UTF-8 nor Windows-1252; save the "
        "file as UTF-8 or name its encoding with --encoding"
    )


def _decode_forced(data: bytes, path: Path, encoding: str, separator: str | None) -> tuple[str, str]:
    """Decode with the encoding the operator named; a byte that does not fit is named."""
    try:
        enc = codecs.lookup(encoding).name
    except LookupError:
        raise SourceError(f"{path}: unknown encoding {encoding!r}") from None
    offset = 0
    if data.startswith(codecs.BOM_UTF8):
        # the mark says UTF-8; whatever was forced, the mark itself is not a header character
        offset = len(codecs.BOM_UTF8)
    if enc in ("cp1252", "iso8859-1", "iso8859-15"):
        _refuse_mixed(data, path, separator)  # a forced single-byte encoding reads UTF-8 rows as mojibake
    try:
        return data[offset:].decode(enc), enc
    except UnicodeDecodeError as exc:
        guess = _guess(data[offset:])
        hint = (
            f"; it looks like {_ENCODING_NAMES.get(guess, guess)}, so drop the forced "
            "encoding or force that one"
            if guess and guess != enc
            else ""
        )
        pos = offset + exc.start
        where = _where(data, pos, guess or "latin-1", separator)
        raise SourceError(
            f"{path}: byte 0x{data[pos]:02X} on {where} is not valid "
            f"{_ENCODING_NAMES.get(enc, enc)} (the forced encoding){hint}"
        ) from None


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


def _structure_error(path: Path, number: int, rec: list[str], header: list[str]) -> SourceError:
    """The sentence for a row whose field count is not the header's."""
    width = len(header)
    if len(rec) < width:
        return SourceError(
            f"{path}: row {number} has {len(rec)} fields where the header has {width} (nothing "
            f"from column {header[len(rec)]!r} on); the file is damaged or cut – export it again"
        )
    return SourceError(
        f"{path}: row {number} has {len(rec)} fields where the header has {width} (values after "
        f"the last column {header[-1]!r}); a separator inside a value must be quoted – export it again"
    )


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their line ends, one at a time: ``csv`` reads them as ``newline=''``
    would, without the copy of the whole text that ``io.StringIO`` makes (a 100 MB register)."""
    if "\n" not in text:  # old Mac line ends, or one line
        yield from text.splitlines(keepends=True)
        return
    start, end = 0, text.find("\n")
    while end >= 0:
        yield text[start : end + 1]
        start, end = end + 1, text.find("\n", end + 1)
    if start < len(text):
        yield text[start:]


class _Columns:
    """Data rows gathered column by column, a chunk at a time: a million-row register never
    holds a million row lists at once, and a column of few distinct values ('FAST', a unit's
    name) keeps one string object per value instead of one per row."""

    CHUNK = 20_000

    def __init__(self, width: int) -> None:
        self.columns: list[list[str]] = [[] for _ in range(width)]
        self.pending: list[list[str]] = []
        self.shared: list[dict[str, str] | None] | None = None  # decided on the first chunk

    def add(self, rec: list[str]) -> None:
        self.pending.append(rec)
        if len(self.pending) >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        chunk = list(zip(*self.pending, strict=True))
        self.pending = []
        if self.shared is None:
            self.shared = [{} if len(set(col)) <= len(col) // 10 + 50 else None for col in chunk]
        for column, col, seen in zip(self.columns, chunk, self.shared, strict=True):
            column.extend(col if seen is None else [seen.setdefault(v, v) for v in col])


def _named_width(header: list[str]) -> int:
    """The header's width without its trailing unnamed columns."""
    n = len(header)
    while n and not header[n - 1].strip():
        n -= 1
    return n


def _records(text: str, sep: str, path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """(header, its columns' values, row numbers): every data row exactly as wide as the header.

    Structure first: a row with fewer fields than the header (a cut or damaged export) or with
    values beyond it is an error, never read with empty fields; empty fields after the last
    column (trailing separators) are dropped. Lines without any value are skipped but counted,
    so row numbers stay those a spreadsheet shows."""
    reader = csv.reader(_lines(text), delimiter=sep)
    header: list[str] | None = None
    width = -1  # no row matches until the header is read
    least = 0  # a row may end before the header's trailing unnamed columns (a header-only ';')
    out = _Columns(0)
    rows: list[int] = []
    try:
        for number, rec in enumerate(reader, start=1):
            if len(rec) == width:  # the common case: one comparison per row
                out.add(rec)
                rows.append(number)
                continue
            if not any(v.strip() for v in rec):
                continue
            if header is None:
                header, width = unique_headers(rec), len(rec)
                least = _named_width(rec)
                out = _Columns(width)
                continue
            if len(rec) < least or any(v.strip() for v in rec[width:]):
                raise _structure_error(path, number, rec, header)
            out.add((rec + [""] * (width - len(rec)))[:width])
            rows.append(number)
    except csv.Error as exc:
        raise SourceError(f"{path}: row {reader.line_num} cannot be parsed as CSV ({exc})") from None
    if header is None:
        raise SourceError(f"{path} is empty")
    out.flush()
    return header, out.columns, rows


#: Formula-like cells listed one by one per column; the rest are counted in one more issue.
FORMULA_ISSUES_PER_COLUMN = 20


def _formula_issues(col: str, hits: list[int], rows: list[int]) -> list[RowIssue]:
    """The row issues of a column's formula-like cells: a column of '+46…' phone numbers in a
    million-row export is one counted issue after the first few, not a million."""
    limit = FORMULA_ISSUES_PER_COLUMN
    out = [RowIssue(rows[i], col, "text looks like a spreadsheet formula; kept as text") for i in hits[:limit]]
    if len(hits) > limit:
        out.append(RowIssue(rows[hits[limit]], col, f"this and {len(hits) - limit - 1} more cells of the column "
                            "look like spreadsheet formulas; kept as text"))
    return out


def read_delimited(
    data: bytes, path: Path, *, encoding: str | None = None, separator: str | None = None
) -> tuple[pd.DataFrame, list[int], list[RowIssue], str]:
    """``(frame of text, row number per row, row issues, 'how it was read')`` of a CSV file.

    A register file is whole or it is not read: one encoding, the last line ended by a line
    break (a file cut off in the middle of a row is not a shorter register), every row as wide
    as the header, no control or bidi character in any cell. Each is a ``SourceError``."""
    if not data or data.isspace():
        raise SourceError(f"{path} is empty")
    sep = _separator(separator, path) if separator else None
    text, enc = decode_bytes(data, path, encoding, sep)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text or text.isspace():
        raise SourceError(f"{path} is empty")
    sep = sep or sniff_separator(text)
    header, columns, rows = _records(text, sep, path)
    if not text.rstrip(" \t").endswith(("\n", "\r")):
        last = rows[-1] if rows else 1
        raise SourceError(
            f"{path}: the last line (row {last}) does not end with a line break: the file looks "
            "cut off (an interrupted export or copy); export it again"
        )
    if not rows:
        raise SourceError(f"{path} has a header but no data rows")
    del text
    refuse_unsafe_text(header, columns, rows, str(path))
    issues = [issue for col, values in zip(header, columns, strict=True)
              for issue in _formula_issues(col, formula_rows(values), rows)]
    issues.sort(key=lambda issue: issue.row)
    frame = pd.DataFrame(dict(enumerate(columns)), dtype=object)
    frame.columns = header
    read_as = f"{_ENCODING_NAMES.get(enc, enc)}, separator {_SEPARATOR_NAMES.get(sep, repr(sep))}"
    return frame, rows, issues, read_as
