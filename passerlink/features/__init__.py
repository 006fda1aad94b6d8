"""Normalising and comparing person fields (names, dates, personnummer, e-mail, org units)."""

from passerlink.features.comparisons import (
    BIRTH_DATE,
    EMAIL,
    EMPLOYEE,
    FAMILY,
    GIVEN,
    MISSING,
    MISSING_LEFT,
    MISSING_RIGHT,
    ORG_UNIT,
    PERSONNUMMER,
    RECORD_AGE,
    SWAP,
    Comparison,
    ComparisonLevel,
    compare_pairs,
    default_comparisons,
    level_in,
    pair_similarity,
)
from passerlink.features.nicknames import NAME_GROUPS, name_groups
from passerlink.features.orgunit import fold_org_unit
from passerlink.features.personnummer import (
    ParsedPersonnummer,
    birth_date_from_personnummer,
    luhn_check_digit,
    luhn_ok,
    mask_personnummer,
    normalize_personnummer,
    parse_personnummer,
)
from passerlink.features.prepare import PreparedPeople, add_frequencies, prepare_people
from passerlink.features.text import fold_email_local, fold_name, name_tokens, phonetic_key

__all__ = [
    "ParsedPersonnummer",
    "birth_date_from_personnummer",
    "luhn_check_digit",
    "luhn_ok",
    "mask_personnummer",
    "normalize_personnummer",
    "parse_personnummer",
    # folding and keys
    "fold_name",
    "name_tokens",
    "phonetic_key",
    "fold_email_local",
    "fold_org_unit",
    "NAME_GROUPS",
    "name_groups",
    # per-person preparation and pair comparisons
    "PreparedPeople",
    "prepare_people",
    "add_frequencies",
    "Comparison",
    "ComparisonLevel",
    "level_in",
    "compare_pairs",
    "default_comparisons",
    "pair_similarity",
    "MISSING",
    "MISSING_LEFT",
    "MISSING_RIGHT",
    "GIVEN",
    "FAMILY",
    "SWAP",
    "BIRTH_DATE",
    "RECORD_AGE",
    "PERSONNUMMER",
    "EMAIL",
    "EMPLOYEE",
    "ORG_UNIT",
]
