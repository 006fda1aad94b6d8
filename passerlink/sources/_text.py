"""Small text helpers shared by the readers: header folding, cell text, safe display of values,
and the refusal of text that has no place in a register.

Values end up in messages the operator reads (and logs), so anything that looks like a
personnummer is masked before it is shown. A control character (any C0 character but tab, NUL
included) or a Unicode bidi control (U+202A–U+202E, U+2066–U+2069) in a cell is not a name that
was typed: it is a damaged export or an attack (terminal escapes, text shown reversed), and it
would reach M5 and the reports. Such a cell stops the source, naming its row and column.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Sequence

from passerlink.errors import SourceError
from passerlink.redact import mask_text
from passerlink.spreadsheet import FORMULA_TRIGGERS
from passerlink.spreadsheet import looks_like_formula as _spreadsheet_formula

__all__ = [
    "fold_header",
    "cell_text",
    "clean_text",
    "shown",
    "mask_text",
    "looks_like_formula",
    "formula_rows",
    "unique_headers",
    "UNSAFE_TEXT",
    "refuse_unsafe_text",
    "character_name",
]

#: Characters no register value may hold: C0 controls except tab, and the bidi controls.
UNSAFE_TEXT = re.compile("[\x00-\x08\x0a-\x1f\u202a-\u202e\u2066-\u2069]")
_C0_NAMES = ["NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"]
# a cell (one line of the joined column) whose text, stripped, starts with a formula trigger
_FORMULA_LINE = re.compile(
    "^[^\\S\n]*[" + re.escape("".join(t for t in FORMULA_TRIGGERS if not t.isspace())) + "]",
    re.MULTILINE,
)

_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def fold_header(name: str) -> str:
    """Header key that ignores case, spaces, punctuation and diacritics: 'E-post' -> 'epost'."""
    s = unicodedata.normalize("NFKD", str(name)).casefold()
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", s)


def clean_text(value: str) -> str:
    """Stripped, inner whitespace collapsed, composed (NFC) so 'a\u0308' and 'ä' are equal."""
    if not value:
        return ""
    return " ".join(unicodedata.normalize("NFC", value).split())


def cell_text(value: object) -> str:
    """Any value a reader meets (str, int, float, date, None, NaN) as the text a person typed.

    Integral floats lose their '.0' (a spreadsheet's 12.0 was typed as 12); dates become ISO.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, _dt.datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    try:  # pandas NA / NaT
        import pandas as pd

        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def shown(value: str, limit: int = 40) -> str:
    """A value quoted for a message: personnummer-like digit runs masked, long text cut."""
    s = mask_text(value)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return repr(s)


def looks_like_formula(value: str) -> bool:
    """Text that a spreadsheet would run as a formula once the reader has stripped it (the one
    definition of ``passerlink.spreadsheet``, applied to the value as it will be kept)."""
    return _spreadsheet_formula(value.strip())


def formula_rows(values: Sequence[str]) -> list[int]:
    """Indexes of the values that look like a formula, found by one regular-expression pass over
    the column (a million rows in well under a second). Call it after ``refuse_unsafe_text``: the
    values are joined with line breaks, which that check has made sure no value contains."""
    joined = "\n".join(values)
    out: list[int] = []
    index, pos = 0, 0
    for m in _FORMULA_LINE.finditer(joined):
        index += joined.count("\n", pos, m.start())
        pos = m.start()
        out.append(index)
    return out


def character_name(ch: str) -> str:
    """'U+001B (ESC)', 'U+202E (RIGHT-TO-LEFT OVERRIDE)' for messages."""
    code = ord(ch)
    name = _C0_NAMES[code] if code < 32 else unicodedata.name(ch, "")
    return f"U+{code:04X}" + (f" ({name})" if name else "")


def refuse_unsafe_text(
    columns: Sequence[str], values: Sequence[Sequence[str]], rows: Sequence[int], origin: str,
    *, where: str = "row",
) -> None:
    """``SourceError`` naming the first row and column whose text holds a control character or
    a bidi control (see ``UNSAFE_TEXT``), and how many cells more. ``values[j]`` is column j's
    text, ``rows[i]`` the row number (or id, with ``where='id'``) a person looks up for row i.

    The clean case – every real register – costs one join and one regular-expression search per
    column; only a hit walks the column to find its row."""
    hits: list[tuple[int, int, str]] = []  # (row index, column index, character)
    more = 0
    for j, texts in enumerate(values):
        if not UNSAFE_TEXT.search("".join(texts)):
            continue
        found = [(i, m.group(0)) for i, t in enumerate(texts) if (m := UNSAFE_TEXT.search(t))]
        hits.append((found[0][0], j, found[0][1]))
        more += len(found) - 1
    first = min(hits) if hits else None
    more += len(hits) - 1 if hits else 0
    if first is None:
        return
    i, j, ch = first
    kind = "bidi control" if ch >= "\u202a" else "control character"
    label = f"row {rows[i]}" if where == "row" else f"the record with {where} {shown(str(rows[i]))}"
    raise SourceError(
        f"{origin}: {label}, column {str(columns[j])!r}, holds the {kind} {character_name(ch)}"
        + (f" ({more} more cells hold such characters)" if more else "")
        + "; a register value may not contain control or bidi characters – correct the register "
        "and export it again"
    )


def unique_headers(raw: list[str]) -> list[str]:
    """Header names as the operator will see them in messages: blanks named by position
    ('column 3'), repeats numbered ('Namn (2)'), so every column can be addressed."""
    out: list[str] = []
    for i, h in enumerate(raw, start=1):
        name = h.strip() or f"column {i}"
        base, k = name, 2
        while name in out:
            name, k = f"{base} ({k})", k + 1
        out.append(name)
    return out
