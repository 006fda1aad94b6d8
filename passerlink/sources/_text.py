"""Small text helpers shared by the readers: header folding, cell text, safe display of values.

Values end up in messages the operator reads (and logs), so anything that looks like a
personnummer is masked before it is shown.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata

from passerlink.features import mask_personnummer

__all__ = ["fold_header", "cell_text", "clean_text", "shown", "looks_like_formula", "unique_headers"]

_NOT_ALNUM = re.compile(r"[^0-9a-z]")
_PNR_LIKE = re.compile(r"(?<!\d)(?:\d{8}|\d{6})[-+ ]?\d{4}(?!\d)")


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
    s = _PNR_LIKE.sub(lambda m: mask_personnummer(m.group(0)), value)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return repr(s)


def looks_like_formula(value: str) -> bool:
    """Text that a spreadsheet would run as a formula if it were pasted into a cell."""
    return value.lstrip().startswith("=")


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
