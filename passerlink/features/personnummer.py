"""Swedish personnummer and samordningsnummer: parse every written form into 12 digits.

Registers write the same number as ``YYMMDD-NNNN``, ``YYMMDDNNNN``, ``YYYYMMDDNNNN``,
``YYYYMMDD-NNNN`` or ``YYMMDD+NNNN`` (100 years or older); M5 custom fields hold whatever someone
typed. Equality on a valid number is the strongest match evidence there is, so parsing is strict
(Luhn, real calendar date) and the canonical form is always the 12-digit one.
"""

from __future__ import annotations

import datetime as _dt
import re

from personnummer import personnummer as _pnr

__all__ = [
    "ParsedPersonnummer",
    "parse_personnummer",
    "normalize_personnummer",
    "luhn_check_digit",
    "luhn_ok",
    "mask_personnummer",
    "birth_date_from_personnummer",
]

_CLEAN = re.compile(r"[\s.]")
_FORM = re.compile(r"^(\d{2})?(\d{6})([-+]?)(\d{4})$")


class ParsedPersonnummer(tuple):
    """``(digits12, birth_date, is_coordination)`` – a light, hashable value."""

    __slots__ = ()

    def __new__(cls, digits12: str, birth_date: _dt.date, is_coordination: bool):
        return super().__new__(cls, (digits12, birth_date, is_coordination))

    @property
    def digits12(self) -> str:
        return self[0]

    @property
    def birth_date(self) -> _dt.date:
        return self[1]

    @property
    def is_coordination(self) -> bool:
        return self[2]


def luhn_check_digit(nine_digits: str) -> str:
    """The tenth digit that makes ``YYMMDDNNN`` + it pass Luhn (weights 2,1,2,...)."""
    total = 0
    for i, ch in enumerate(nine_digits):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def luhn_ok(ten_digits: str) -> bool:
    """Luhn (mod 10, weights 2,1,2,...) over the ten-digit form."""
    if len(ten_digits) != 10 or not ten_digits.isdigit():
        return False
    return luhn_check_digit(ten_digits[:9]) == ten_digits[9]


def parse_personnummer(
    text: str | int | None, *, today: _dt.date | None = None
) -> ParsedPersonnummer | None:
    """Parse any written form; ``None`` if it is empty or not a valid number.

    ``today`` fixes the century of two-digit years (the year a 10-digit number refers to is the
    latest one not in the future, minus 100 with ``+``); it defaults to the real date.
    """
    if text is None:
        return None
    s = _CLEAN.sub("", str(text).strip())
    if not s:
        return None
    m = _FORM.match(s)
    if not m:
        return None
    century, yymmdd, sep, tail = m.groups()
    if century is not None:
        candidate = century + yymmdd + tail
    else:
        ref = today or _dt.date.today()
        yy = int(yymmdd[:2])
        base = ref.year - (100 if sep == "+" else 0)
        year = base - ((base - yy) % 100)
        # a birth date later this year than today belongs to the previous century
        candidate = f"{year:04d}" + yymmdd[2:] + tail
        try:
            d = _date_of(candidate)
        except ValueError:
            return None
        if d > ref and sep != "+":
            candidate = f"{year - 100:04d}" + yymmdd[2:] + tail
    try:
        birth = _date_of(candidate)
    except ValueError:
        return None
    if not luhn_ok(candidate[2:]):
        return None
    try:  # the reference library double-checks serial rules (e.g. serial 000 is invalid)
        _pnr.Personnummer(candidate)
    except _pnr.PersonnummerException:
        return None
    return ParsedPersonnummer(candidate, birth, int(candidate[6:8]) > 60)


def _date_of(digits12: str) -> _dt.date:
    day = int(digits12[6:8])
    if day > 60:
        day -= 60
    return _dt.date(int(digits12[:4]), int(digits12[4:6]), day)


def normalize_personnummer(text: str | None, *, today: _dt.date | None = None) -> str:
    """The 12-digit form, or ``""`` if missing or invalid."""
    p = parse_personnummer(text, today=today)
    return p.digits12 if p else ""


def birth_date_from_personnummer(text: str | None) -> str:
    """ISO birth date from a personnummer (samordningsnummer day corrected), or ``""``."""
    p = parse_personnummer(text)
    return p.birth_date.isoformat() if p else ""


def mask_personnummer(text: str | None) -> str:
    """``YYYYMMDD-****``: enough to recognise a person, not enough to identify one."""
    if not text:
        return ""
    digits = re.sub(r"\D", "", str(text))
    if len(digits) == 12:
        return digits[:8] + "-****"
    if len(digits) == 10:
        return digits[:6] + "-****"
    return "****"
