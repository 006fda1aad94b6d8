"""Normalising and comparing person fields (names, dates, personnummer, e-mail, org units)."""

from passerlink.features.personnummer import (
    ParsedPersonnummer,
    birth_date_from_personnummer,
    luhn_ok,
    mask_personnummer,
    normalize_personnummer,
    parse_personnummer,
)

__all__ = [
    "ParsedPersonnummer",
    "birth_date_from_personnummer",
    "luhn_ok",
    "mask_personnummer",
    "normalize_personnummer",
    "parse_personnummer",
]
