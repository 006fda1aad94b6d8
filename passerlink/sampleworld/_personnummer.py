"""Making unique, valid personnummer in bulk, and writing them the ways people do.

Numbers are built vectorised (a 100,000-person world must not spend its time in a Python Luhn
loop); the tests check every one against ``passerlink.features.luhn_ok`` and
``parse_personnummer``, the reference implementations.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

__all__ = ["assign_personnummer", "split_dates", "format_personnummer", "PNR_FORMS"]

#: written forms of a personnummer: name -> description
PNR_FORMS = {
    "short_dash": "YYMMDD-NNNN ('+' from the year the person turns 100)",
    "long": "YYYYMMDDNNNN",
    "long_dash": "YYYYMMDD-NNNN",
    "short": "YYMMDDNNNN",
    "short_space": "YYMMDD NNNN",
}


def split_dates(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day arrays of a ``datetime64[D]`` array."""
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months_since = dates.astype("datetime64[M]")
    months = months_since.astype(np.int64) % 12 + 1
    days = (dates - months_since.astype("datetime64[D]")).astype(np.int64) + 1
    return years, months, days


def _digit_sum(x: np.ndarray) -> np.ndarray:
    return x // 10 + x % 10


def _check_digits(yy: np.ndarray, mm: np.ndarray, dd: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """Luhn check digit over YYMMDDNNN with weights 2,1,2,1,...: the tenth digit."""
    digits = [yy // 10, yy % 10, mm // 10, mm % 10, dd // 10, dd % 10,
              serial // 100, (serial // 10) % 10, serial % 10]
    total = np.zeros_like(yy)
    for i, d in enumerate(digits):
        total += _digit_sum(d * 2) if i % 2 == 0 else d
    return (10 - total % 10) % 10


def _draw_serials(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """Three-digit birth numbers; the last is odd for men, even for women; never 000."""
    n = male.shape[0]
    serial = rng.integers(0, 100, n) * 10 + rng.integers(0, 5, n) * 2 + male.astype(np.int64)
    return np.where(serial == 0, 10, serial)


def assign_personnummer(
    rng: np.random.Generator, births: np.ndarray, male: np.ndarray, coordination: np.ndarray
) -> list[str]:
    """One unique 12-digit number per person (samordningsnummer: day + 60)."""
    years, months, days = split_dates(births)
    dayfield = days + 60 * coordination.astype(np.int64)
    datekey = years * 10000 + months * 100 + dayfield
    serial = _draw_serials(rng, male)
    while True:
        key = datekey * 1000 + serial
        _, first = np.unique(key, return_index=True)
        dup = np.ones(key.shape[0], dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        serial[dup] = _draw_serials(rng, male[dup])
    check = _check_digits(years % 100, months, dayfield, serial)
    return [
        f"{y:04d}{m:02d}{d:02d}{s:03d}{c}"
        for y, m, d, s, c in zip(
            years.tolist(), months.tolist(), dayfield.tolist(), serial.tolist(), check.tolist(),
            strict=True,
        )
    ]


def format_personnummer(digits12: str, form: str, today: _dt.date) -> str:
    """Write a 12-digit number in one of :data:`PNR_FORMS`."""
    if form == "long":
        return digits12
    if form == "long_dash":
        return f"{digits12[:8]}-{digits12[8:]}"
    short, tail = digits12[2:8], digits12[8:]
    if form == "short":
        return short + tail
    if form == "short_space":
        return f"{short} {tail}"
    if form == "short_dash":
        sep = "+" if today.year - int(digits12[:4]) >= 100 else "-"
        return f"{short}{sep}{tail}"
    raise ValueError(f"unknown personnummer form {form!r}")
