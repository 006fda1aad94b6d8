"""Birth dates as registers write them, to ISO ``YYYY-MM-DD``.

Accepted: ``YYYY-MM-DD`` (also with ``/`` or ``.``, and with a time part as databases and Excel
print it), ``YYYYMMDD`` (FEBRL), ``DD/MM/YYYY`` and ``DD.MM.YYYY`` (day first, as in Sweden),
``YYMMDD`` and ``YY-MM-DD``, ``D.M.YY`` and ``D/M/YY`` (as typed by hand into M5 custom
fields). A two-digit year gets the latest century that does not put the date in the future.
"""

from __future__ import annotations

import datetime as _dt
import re

__all__ = ["parse_birth_date", "IMPOSSIBLE_DATE", "UNRECOGNISED_DATE", "FUTURE_DATE"]

IMPOSSIBLE_DATE = "impossible date"
UNRECOGNISED_DATE = "unrecognised date"
FUTURE_DATE = "birth date in the future"

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_YMD = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME + "$")
_YMD_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})" + _TIME + "$")
_YMD_SHORT = re.compile(r"^(\d{2})(-?)(\d{2})\2(\d{2})$")
_DMY_SHORT = re.compile(r"^(\d{1,2})([./])(\d{1,2})\2(\d{2})$")


def _century(yy: int, mo: int, d: int, today: _dt.date) -> int:
    y = today.year - ((today.year - yy) % 100)
    try:
        if _dt.date(y, mo, d) > today:
            y -= 100
    except ValueError:
        pass  # an impossible date is reported by the caller
    return y


def parse_birth_date(text: str, *, today: _dt.date | None = None) -> tuple[str, str | None]:
    """``(iso, None)`` for a valid date, ``("", problem)`` otherwise (``("", None)`` if empty).

    ``problem`` starts with one of IMPOSSIBLE_DATE, UNRECOGNISED_DATE or FUTURE_DATE.
    """
    s = text.strip()
    if not s:
        return "", None
    today = today or _dt.date.today()
    if m := _YMD.match(s):
        y, mo, d = int(m.group(1)), int(m.group(3)), int(m.group(4))
    elif m := _YMD_COMPACT.match(s):
        y, mo, d = (int(g) for g in m.groups())
    elif m := _DMY.match(s):
        d, mo, y = int(m.group(1)), int(m.group(3)), int(m.group(4))
    elif m := _YMD_SHORT.match(s):
        yy, mo, d = int(m.group(1)), int(m.group(3)), int(m.group(4))
        y = _century(yy, mo, d, today)
    elif m := _DMY_SHORT.match(s):
        d, mo, yy = int(m.group(1)), int(m.group(3)), int(m.group(4))
        y = _century(yy, mo, d, today)
    else:
        return "", UNRECOGNISED_DATE
    try:
        date = _dt.date(y, mo, d)
    except ValueError:
        return "", IMPOSSIBLE_DATE
    if date > today:
        return "", FUTURE_DATE
    return date.isoformat(), None
