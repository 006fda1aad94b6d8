"""Org units as people type them: "Norrskolan", "Norra skolan", "Norrsk.", "NORRSKOLAN F-6".

HR writes the unit's formal name, the access-control system whatever the locksmith typed. Folding
plus a few Swedish abbreviation rules make the token-set similarity meaningful.
"""

from __future__ import annotations

import re

from passerlink.features.text import fold_name

__all__ = ["fold_org_unit", "ABBREVIATIONS"]

#: folded token -> the token it abbreviates or inflects
ABBREVIATIONS: dict[str, str] = {
    "skolan": "skola",
    "sk": "skola",
    "skol": "skola",
    "gymnasiet": "gymnasium",
    "gy": "gymnasium",
    "gymn": "gymnasium",
    "forskolan": "forskola",
    "fsk": "forskola",
    "forvaltningen": "forvaltning",
    "forv": "forvaltning",
    "avd": "avdelning",
    "avdelningen": "avdelning",
    "enheten": "enhet",
    "kontoret": "kontor",
    "kansliet": "kansli",
    "fritids": "fritidshem",
    "fritidshemmet": "fritidshem",
    "kommunen": "kommun",
    "komm": "kommun",
    "centralen": "central",
    "biblioteket": "bibliotek",
    "bibl": "bibliotek",
    "admin": "administration",
    "adm": "administration",
    "ekon": "ekonomi",
    "personalavd": "personal avdelning",
    "it": "it",
}

# compound unit names: "Norrskolan" -> "norr skola", "Ekonomiavd." -> "ekonomi avdelning"
_SUFFIXES = re.compile(
    r"^(\w{3,}?)(forskolan|forskola|skolan|skola|gymnasiet|gymnasium|avdelningen|avdelning|avd"
    r"|enheten|enhet|kontoret|kontor)$"
)


def fold_org_unit(text: str) -> str:
    """Folded tokens with abbreviations expanded and school suffixes split off."""
    tokens: list[str] = []
    for tok in fold_name(text).split():
        m = _SUFFIXES.match(tok)
        parts = [m.group(1), m.group(2)] if m else [tok]
        for part in parts:
            tokens.extend(ABBREVIATIONS.get(part, part).split())
    return " ".join(tokens)
