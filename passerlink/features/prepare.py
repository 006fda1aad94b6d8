"""Turn a canonical people table into folded, keyed arrays once, before any pair is compared.

Everything per-person (folding, phonetic keys, nickname groups, personnummer parsing) happens
here, once per distinct value; the pair comparisons in ``comparisons`` then only index and compare
arrays. A column that holds the same value for many people (a common family name, a school) costs
one fold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from passerlink.features.nicknames import name_groups
from passerlink.features.orgunit import fold_org_unit
from passerlink.features.personnummer import parse_personnummer
from passerlink.features.text import fold_email_local, fold_many, phonetic_key

__all__ = [
    "PreparedPeople",
    "prepare_people",
    "add_frequencies",
    "stable_hash",
    "GIVEN_SLOTS",
    "FAMILY_SLOTS",
    "GROUP_SLOTS",
]

GIVEN_SLOTS = 4  # given-name tokens kept per person (call name first, then the given names)
FAMILY_SLOTS = 3  # family-name tokens kept per person (double names, a maiden name)
GROUP_SLOTS = 6  # nickname/variant group keys kept per person


def stable_hash(values: np.ndarray) -> np.ndarray:
    """A process-independent 64-bit hash per string; ``""`` hashes to 0 (= missing)."""
    arr = np.asarray(values, dtype=object)
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint64)
    h = pd.util.hash_array(arr, categorize=True)
    h[arr == ""] = 0
    return h


@dataclass
class PreparedPeople:
    """Per-person arrays (all of length ``n``) that the pair comparisons read."""

    ids: np.ndarray
    given_full: np.ndarray  # folded, all given names
    in_use: np.ndarray  # folded name in use: call name, else first given name
    first_given: np.ndarray
    given_tokens: np.ndarray  # (n, GIVEN_SLOTS) object, "" padded
    given_token_hash: np.ndarray  # (n, GIVEN_SLOTS) uint64, 0 padded
    given_phon_hash: np.ndarray  # (n, GIVEN_SLOTS) uint64
    given_groups: np.ndarray  # (n, GROUP_SLOTS) uint64
    in_use_phon: np.ndarray  # object
    family_full: np.ndarray  # folded, tokens joined by a space
    family_tokens: np.ndarray  # (n, FAMILY_SLOTS) object
    family_token_hash: np.ndarray
    family_phon_hash: np.ndarray
    family_phon: np.ndarray  # phonetic key of the whole family name (tokens joined)
    dob: np.ndarray  # "YYYYMMDD" or "" (from personnummer when the birth date is missing)
    pnr: np.ndarray  # 12 digits as written (may be invalid) or ""
    pnr_valid: np.ndarray  # bool
    pnr_coord: np.ndarray  # bool: samordningsnummer
    pnr_birth: np.ndarray  # "YYYYMMDD" of a valid number, coordination day corrected, or ""
    email_local: np.ndarray
    email_domain: np.ndarray
    employee: np.ndarray
    org_unit: np.ndarray
    family_freq: np.ndarray = field(default_factory=lambda: np.zeros(0))  # share of people with this family name
    given_freq: np.ndarray = field(default_factory=lambda: np.zeros(0))
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # folded extra fields (benchmarks)
    dob_digits: np.ndarray = field(default_factory=lambda: np.zeros((0, 8), dtype=np.int8))  # -1 = missing
    pnr_digits: np.ndarray = field(default_factory=lambda: np.zeros((0, 10), dtype=np.int8))  # last 10
    created: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # YYYYMMDD, 0 = missing
    born: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # ``dob`` as YYYYMMDD, 0 = missing

    def __len__(self) -> int:
        return len(self.ids)


def _column(df: pd.DataFrame, name: str) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), "", dtype=object)
    return df[name].fillna("").astype(str).to_numpy(dtype=object)


def _slots(token_lists: list[list[str]], width: int) -> np.ndarray:
    out = np.full((len(token_lists), width), "", dtype=object)
    for i, toks in enumerate(token_lists):
        toks = toks[:width]
        out[i, : len(toks)] = toks
    return out


def _hash_2d(tokens: np.ndarray) -> np.ndarray:
    flat = stable_hash(tokens.ravel())
    return flat.reshape(tokens.shape)


def _map_unique(values: np.ndarray, func) -> np.ndarray:
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), sort=False)
    mapped = [func(u) for u in uniques]
    out = np.empty(len(values), dtype=object)
    for i, code in enumerate(codes):
        out[i] = mapped[code]
    return out


def digits_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """``(n, width)`` int8 digits of the last ``width`` characters; a row of -1 where empty."""
    out = np.full((len(values), width), -1, dtype=np.int8)
    if len(values) == 0:
        return out
    text = np.array([v[-width:] if len(v) >= width else "" for v in values], dtype=f"U{width}")
    ok = np.char.str_len(text) == width
    if ok.any():
        raw = np.frombuffer(text[ok].tobytes(), dtype=np.uint32).reshape(-1, width)
        out[ok] = (raw.astype(np.int16) - ord("0")).clip(0, 9).astype(np.int8)
    return out


def _dob8(iso: str) -> str:
    digits = "".join(ch for ch in iso if ch.isdigit())
    return digits if len(digits) == 8 else ""


def _pnr_parts(text: str) -> tuple[str, bool, bool, str]:
    digits = "".join(ch for ch in text if ch.isdigit())
    p = parse_personnummer(text) if digits else None
    if p is None:
        return (digits if len(digits) in (10, 12) else "", False, False, "")
    return (p.digits12, True, p.is_coordination, p.birth_date.strftime("%Y%m%d"))


def _employee(text: str) -> str:
    s = "".join(text.split()).upper()
    stripped = s.lstrip("0")
    return stripped if stripped else s


def prepare_people(df: pd.DataFrame, *, extra_fields: list[str] | tuple[str, ...] = ()) -> PreparedPeople:
    """Fold and key one canonical table (``source_id`` is the id; missing columns are empty)."""
    n = len(df)
    ids = _column(df, "source_id")
    given = fold_many(_column(df, "given_names"))
    call = fold_many(_column(df, "call_name"))

    given_lists = [g.split() for g in given]
    call_lists = [c.split() for c in call]
    token_lists = []
    for g, c in zip(given_lists, call_lists, strict=True):
        toks = list(c)
        toks += [t for t in g if t not in toks]
        token_lists.append(toks)
    in_use = np.array([(c[0] if c else (g[0] if g else "")) for g, c in zip(given_lists, call_lists, strict=True)],
                      dtype=object)
    first_given = np.array([g[0] if g else "" for g in given_lists], dtype=object)
    given_tokens = _slots(token_lists, GIVEN_SLOTS)
    phon_cache: dict[str, str] = {}

    def phon(t: str) -> str:
        k = phon_cache.get(t)
        if k is None:
            k = phon_cache[t] = phonetic_key(t) if t else ""
        return k

    given_phon = np.vectorize(phon, otypes=[object])(given_tokens) if n else given_tokens
    group_lists = []
    for toks in token_lists:
        groups: list[str] = []
        for t in toks:
            for g in sorted(name_groups(t)):
                if g not in groups:
                    groups.append(g)
        group_lists.append(groups)
    given_groups = _hash_2d(_slots(group_lists, GROUP_SLOTS))

    family = fold_many(_column(df, "family_name"))
    family_tokens = _slots([f.split() for f in family], FAMILY_SLOTS)
    family_phon_tok = np.vectorize(phon, otypes=[object])(family_tokens) if n else family_tokens
    family_phon = np.array([" ".join(t for t in row if t) for row in family_phon_tok], dtype=object)

    dob = _map_unique(_column(df, "birth_date"), _dob8)
    pnr_info = _map_unique(_column(df, "personnummer"), _pnr_parts)
    pnr = np.array([p[0] for p in pnr_info], dtype=object)
    pnr_valid = np.array([p[1] for p in pnr_info], dtype=bool)
    pnr_coord = np.array([p[2] for p in pnr_info], dtype=bool)
    pnr_birth = np.array([p[3] for p in pnr_info], dtype=object)
    dob = np.where(dob == "", pnr_birth, dob)

    extra = {f: fold_many(_column(df, f), _fold_extra) for f in extra_fields}
    return PreparedPeople(
        ids=ids,
        given_full=given,
        in_use=in_use,
        first_given=first_given,
        given_tokens=given_tokens,
        given_token_hash=_hash_2d(given_tokens),
        given_phon_hash=_hash_2d(given_phon),
        given_groups=given_groups,
        in_use_phon=np.vectorize(phon, otypes=[object])(in_use) if n else in_use,
        family_full=family,
        family_tokens=family_tokens,
        family_token_hash=_hash_2d(family_tokens),
        family_phon_hash=_hash_2d(family_phon_tok),
        family_phon=family_phon,
        dob=dob,
        pnr=pnr,
        pnr_valid=pnr_valid,
        pnr_coord=pnr_coord,
        pnr_birth=pnr_birth,
        email_local=fold_many(_column(df, "email"), fold_email_local),
        email_domain=fold_many(_column(df, "email"), _email_domain),
        employee=fold_many(_column(df, "employee_number"), _employee),
        org_unit=fold_many(_column(df, "org_unit"), fold_org_unit),
        extra=extra,
        dob_digits=digits_matrix(dob, 8),
        pnr_digits=digits_matrix(pnr, 10),
        created=_map_unique(_column(df, "created"), _day_number).astype(np.int32),
        born=_map_unique(dob, _day_number).astype(np.int32),
    )


def _day_number(text: str) -> int:
    """``YYYY-MM-DD`` (the canonical form) or ``YYYYMMDD`` as the number YYYYMMDD, 0 when missing
    or malformed."""
    digits = text.replace("-", "")[:8]
    return int(digits) if len(digits) == 8 and digits.isdigit() else 0


def _email_domain(text: str) -> str:
    return text.rsplit("@", 1)[1].strip().casefold() if "@" in text else ""


def _fold_extra(text: str) -> str:
    return " ".join(text.casefold().split())


def add_frequencies(*tables: PreparedPeople) -> None:
    """Share of all people (over every table given) with each family name and name in use.

    Term frequency is what makes a shared "Wahlqvist" count more than a shared "Andersson".
    """
    fam = pd.Series(np.concatenate([t.family_full for t in tables])) if tables else pd.Series([], dtype=object)
    giv = pd.Series(np.concatenate([t.in_use for t in tables])) if tables else pd.Series([], dtype=object)
    total = max(len(fam), 1)
    fam_counts = fam[fam != ""].value_counts()
    giv_counts = giv[giv != ""].value_counts()
    for t in tables:
        t.family_freq = (pd.Series(t.family_full).map(fam_counts).fillna(0).to_numpy(dtype=np.float64) / total)
        t.given_freq = (pd.Series(t.in_use).map(giv_counts).fillna(0).to_numpy(dtype=np.float64) / total)

