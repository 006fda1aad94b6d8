"""Pair comparisons: each turns two prepared tables and candidate pairs into a level per pair.

A comparison is a short list of levels from "missing" (-1, never 0: a missing birth date is not a
disagreeing one) through "disagree" (0) to its strongest agreement, plus a similarity score. All
of it is vectorised over the pair arrays ``(il, ir)``; string similarities are computed once per
distinct pair of values (a shared "Andersson"/"Anderson" costs one Jaro-Winkler call however many
pairs carry it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from rapidfuzz import distance, fuzz, process

from passerlink.features.prepare import FAMILY_SLOTS, GIVEN_SLOTS, GROUP_SLOTS, PreparedPeople
from passerlink.features.text import phonetic_key

__all__ = [
    "Comparison",
    "MISSING",
    "MISSING_LEFT",
    "MISSING_RIGHT",
    "pair_similarity",
    "default_comparisons",
    "compare_pairs",
    "GIVEN",
    "FAMILY",
    "SWAP",
    "swapped_names",
    "BIRTH_DATE",
    "PERSONNUMMER",
    "EMAIL",
    "EMPLOYEE",
    "ORG_UNIT",
    "extra_comparison",
]

MISSING = -1  # missing on both sides (or the comparison cannot tell which)
MISSING_LEFT = -2  # only the left value is missing
MISSING_RIGHT = -3  # only the right value is missing
MISSING_LABELS = {MISSING: "missing on both sides", MISSING_LEFT: "missing on the left",
                  MISSING_RIGHT: "missing on the right"}

_JW = distance.JaroWinkler.normalized_similarity
_LEV = distance.Levenshtein.distance


def pair_similarity(
    left: np.ndarray, right: np.ndarray, il: np.ndarray, ir: np.ndarray, scorer: Callable = _JW
) -> np.ndarray:
    """``scorer(left[il[k]], right[ir[k]])`` for every k, computed once per distinct value pair."""
    n = len(il)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    codes, uniques = pd.factorize(np.concatenate([left, right]), sort=False)
    width = np.int64(max(len(uniques), 1))
    key = codes[: len(left)][il].astype(np.int64) * width + codes[len(left):][ir]
    ukey, inverse = np.unique(key, return_inverse=True)
    uniques = np.asarray(uniques, dtype=object)
    scores = process.cpdist(uniques[ukey // width], uniques[ukey % width], scorer=scorer, workers=-1)
    return np.asarray(scores, dtype=np.float32)[inverse]


def _any_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise: do the (P, k) and (P, m) hash arrays share a non-zero value?"""
    out = np.zeros(len(a), dtype=bool)
    for i in range(a.shape[1]):
        ai = a[:, i]
        nz = ai != 0
        for j in range(b.shape[1]):
            out |= nz & (ai == b[:, j])
    return out


def _best_slot_similarity(lt: np.ndarray, rt: np.ndarray, il: np.ndarray, ir: np.ndarray) -> np.ndarray:
    best = np.zeros(len(il), dtype=np.float32)
    for i in range(lt.shape[1]):
        lcol = lt[:, i]
        lhas = (lcol != "")[il]
        if not lhas.any():
            continue
        for j in range(rt.shape[1]):
            rcol = rt[:, j]
            has = lhas & (rcol != "")[ir]
            if not has.any():
                continue
            sim = pair_similarity(lcol, rcol, il, ir)
            best = np.where(has, np.maximum(best, sim), best)
    return best


@dataclass(frozen=True)
class Comparison:
    """One field comparison: levels (label per level) and the function computing them."""

    name: str
    labels: dict[int, str]
    compute: Callable[[PreparedPeople, PreparedPeople, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    fields: tuple[str, ...]  # canonical fields it reads (for explanations)

    def __call__(self, left: PreparedPeople, right: PreparedPeople, il: np.ndarray, ir: np.ndarray):
        level, score = self.compute(left, right, il, ir)
        level = level.astype(np.int8)
        present = _FIELD_PRESENCE.get(self.name)
        if present is None and self.name in left.extra and self.name in right.extra:
            present = _extra_presence(self.name)
        if present is not None:  # say which side is missing: an M5 user with an employee number
            lp, rp = present(left)[il], present(right)[ir]  # against a pupil without one is a hint
            miss = level < 0
            level[miss & lp & ~rp] = MISSING_RIGHT
            level[miss & ~lp & rp] = MISSING_LEFT
        return level, score.astype(np.float32)


# ---- names --------------------------------------------------------------------------------------

def _initials(names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per person (not per pair): first letter and length of the name in use."""
    first = np.array([n[:1] for n in names], dtype=object)
    length = np.array([len(n) for n in names], dtype=np.int32)
    return first, length


def _given(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    lu, ru = L.in_use[il], R.in_use[ir]
    missing = (lu == "") | (ru == "")
    exact_in_use = lu == ru
    phon_in_use = L.in_use_phon[il] == R.in_use_phon[ir]
    lg, rg = L.given_groups[il], R.given_groups[ir]
    group_in_use = _any_equal(lg[:, :1], rg) & _any_equal(rg[:, :1], lg)
    token_shared = _any_equal(L.given_token_hash[il], R.given_token_hash[ir])
    group_shared = _any_equal(lg, rg) | _any_equal(L.given_phon_hash[il], R.given_phon_hash[ir])
    best = _best_slot_similarity(L.given_tokens, R.given_tokens, il, ir)
    l_first, l_len = _initials(L.in_use)
    r_first, r_len = _initials(R.in_use)
    initial = ((l_len[il] == 1) | (r_len[ir] == 1)) & (l_first[il] == r_first[ir])
    level = np.select(
        [missing, exact_in_use, group_in_use | phon_in_use, token_shared, group_shared,
         best >= 0.92, best >= 0.85, initial | (best >= 0.75)],
        [MISSING, 7, 6, 5, 4, 3, 2, 1],
        0,
    )
    return level, np.where(missing, np.nan, best)


GIVEN = Comparison(
    "given_name",
    {MISSING: "missing", 0: "different", 1: "initial or weak similarity", 2: "similar (JW>=0.85)",
     3: "nearly equal (JW>=0.92)", 4: "nickname/variant of another given name",
     5: "equal to another given name", 6: "nickname or spelling variant", 7: "equal"},
    _given,
    ("given_names", "call_name"),
)


def _family(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    lf, rf = L.family_full[il], R.family_full[ir]
    missing = (lf == "") | (rf == "")
    exact = lf == rf
    phon = L.family_phon[il] == R.family_phon[ir]
    lev = pair_similarity(L.family_full, R.family_full, il, ir, _LEV)
    jw = pair_similarity(L.family_full, R.family_full, il, ir)
    shared = _any_equal(L.family_token_hash[il], R.family_token_hash[ir]) | _any_equal(
        L.family_phon_hash[il], R.family_phon_hash[ir]
    )
    best_tok = _best_slot_similarity(L.family_tokens, R.family_tokens, il, ir)
    level = np.select(
        [missing, exact, phon, lev <= 1, shared, (jw >= 0.9) | (best_tok >= 0.92), jw >= 0.8],
        [MISSING, 6, 5, 4, 3, 2, 1],
        0,
    )
    return level, np.where(missing, np.nan, np.maximum(jw, best_tok))


FAMILY = Comparison(
    "family_name",
    {MISSING: "missing", 0: "different", 1: "similar (JW>=0.8)", 2: "nearly equal (JW>=0.9)",
     3: "one part of a double name in common", 4: "one typo apart", 5: "same sound", 6: "equal"},
    _family,
    ("family_name",),
)


def swapped_names(p: PreparedPeople) -> PreparedPeople:
    """The same people with given and family name exchanged (for sources that mixed them up)."""
    g = p.family_tokens.shape[1]
    pad = GIVEN_SLOTS - g
    tokens = np.concatenate([p.family_tokens, np.full((len(p), pad), "", dtype=object)], axis=1)
    hashes = np.concatenate([p.family_token_hash, np.zeros((len(p), pad), np.uint64)], axis=1)
    phon = np.concatenate([p.family_phon_hash, np.zeros((len(p), pad), np.uint64)], axis=1)
    groups = np.concatenate([p.family_phon_hash, np.zeros((len(p), GROUP_SLOTS - g), np.uint64)], axis=1)
    first_family = np.array([t.split(" ", 1)[0] for t in p.family_full], dtype=object)
    given_tokens = p.given_tokens[:, :FAMILY_SLOTS]
    return replace(
        p,
        given_full=p.family_full,
        in_use=first_family,
        first_given=first_family,
        given_tokens=tokens,
        given_token_hash=hashes,
        given_phon_hash=phon,
        given_groups=groups,
        in_use_phon=np.array([k.split(" ", 1)[0] for k in p.family_phon], dtype=object),
        family_full=p.given_full,
        family_tokens=given_tokens,
        family_token_hash=p.given_token_hash[:, :FAMILY_SLOTS],
        family_phon_hash=p.given_phon_hash[:, :FAMILY_SLOTS],
        family_phon=np.array([" ".join(phonetic_key(t) for t in g.split()) for g in p.given_full], dtype=object),
        family_freq=p.given_freq,
        given_freq=p.family_freq,
    )


SWAP = Comparison(
    "swapped_names",
    {MISSING: "missing", 0: "in their fields", 1: "given and family name swapped"},
    lambda L, R, il, ir: (np.zeros(len(il), np.int8), np.zeros(len(il), np.float32)),  # set by compare_pairs
    ("given_names", "family_name"),
)


# ---- dates and identifiers ---------------------------------------------------------------------

def _two_digit(d: np.ndarray, start: int) -> np.ndarray:
    return d[:, start].astype(np.int16) * 10 + d[:, start + 1]


def _birth_date(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    a, b = L.dob_digits[il], R.dob_digits[ir]
    missing = (a[:, 0] < 0) | (b[:, 0] < 0)
    diff = a != b
    ham = diff.sum(axis=1)
    same_year = ~diff[:, :4].any(axis=1)
    ma, da, mb, db = _two_digit(a, 4), _two_digit(a, 6), _two_digit(b, 4), _two_digit(b, 6)
    swapped = same_year & (ma == db) & (da == mb)
    transposed = np.zeros(len(il), dtype=bool)
    for k in range(7):  # one adjacent transposition: 19850312 vs 19850321
        t = a.copy()
        t[:, [k, k + 1]] = t[:, [k + 1, k]]
        transposed |= (t == b).all(axis=1)
    ya = (a[:, :4].astype(np.int32) * np.array([1000, 100, 10, 1])).sum(axis=1)
    yb = (b[:, :4].astype(np.int32) * np.array([1000, 100, 10, 1])).sum(axis=1)
    same_mmdd = ~diff[:, 4:].any(axis=1)
    year_off = same_mmdd & np.isin(np.abs(ya - yb), (1, 10))
    partial = same_mmdd | (same_year & ~diff[:, 4:6].any(axis=1))
    close = np.abs(ya - yb) <= 5
    level = np.select(
        [missing, ham == 0, ham == 1, swapped | transposed, year_off, partial, close],
        [MISSING, 6, 5, 4, 3, 2, 1],
        0,
    )
    return level, np.where(missing, np.nan, 1.0 - ham / 8.0)


BIRTH_DATE = Comparison(
    "birth_date",
    {MISSING: "missing", 0: "years apart", 1: "different, within five years",
     2: "same year and month, or same day and month", 3: "year off by one or ten",
     4: "day and month swapped, or two digits swapped", 5: "one digit off", 6: "equal"},
    _birth_date,
    ("birth_date",),
)


def _personnummer(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    a, b = L.pnr_digits[il], R.pnr_digits[ir]
    missing = (a[:, 0] < 0) | (b[:, 0] < 0)
    va, vb = L.pnr_valid[il], R.pnr_valid[ir]
    diff = a != b
    ham = diff.sum(axis=1)
    transposed = np.zeros(len(il), dtype=bool)
    for k in range(9):
        t = a.copy()
        t[:, [k, k + 1]] = t[:, [k + 1, k]]
        transposed |= (t == b).all(axis=1)
    lb, rb = L.pnr_birth[il], R.pnr_birth[ir]
    same_birth = va & vb & (lb == rb) & (lb != "")
    coord_mix = same_birth & (L.pnr_coord[il] != R.pnr_coord[ir])
    level = np.select(
        [missing, (ham == 0) & va & vb, (ham <= 1) | transposed, coord_mix, same_birth],
        [MISSING, 5, 4, 3, 2],
        0,
    )
    return level, np.where(missing, np.nan, 1.0 - ham / 10.0)


PERSONNUMMER = Comparison(
    "personnummer",
    {MISSING: "missing", 0: "different", 2: "same birth date, different serial (twins?)",
     3: "samordningsnummer and personnummer of the same birth date", 4: "one digit off", 5: "equal"},
    _personnummer,
    ("personnummer",),
)


def _email(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    la, rb = L.email_local[il], R.email_local[ir]
    missing = (la == "") | (rb == "")
    same_domain = L.email_domain[il] == R.email_domain[ir]
    jw = pair_similarity(L.email_local, R.email_local, il, ir)
    level = np.select([missing, (la == rb) & same_domain, la == rb, jw >= 0.92, jw >= 0.8],
                      [MISSING, 4, 3, 2, 1], 0)
    return level, np.where(missing, np.nan, jw)


EMAIL = Comparison(
    "email",
    {MISSING: "missing", 0: "different", 1: "similar local part", 2: "nearly equal local part",
     3: "equal local part, other domain", 4: "equal address"},
    _email,
    ("email",),
)


def _employee(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    la, rb = L.employee[il], R.employee[ir]
    missing = (la == "") | (rb == "")
    lev = pair_similarity(L.employee, R.employee, il, ir, _LEV)
    level = np.select([missing, la == rb, lev <= 1], [MISSING, 2, 1], 0)
    return level, np.where(missing, np.nan, (la == rb).astype(np.float32))


EMPLOYEE = Comparison(
    "employee_number",
    {MISSING: "missing", 0: "different", 1: "one edit apart", 2: "equal"},
    _employee,
    ("employee_number",),
)


def _org_unit(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    la, rb = L.org_unit[il], R.org_unit[ir]
    missing = (la == "") | (rb == "")
    sim = pair_similarity(L.org_unit, R.org_unit, il, ir, fuzz.token_set_ratio) / 100.0
    level = np.select([missing, la == rb, sim >= 0.85, sim >= 0.6], [MISSING, 3, 2, 1], 0)
    return level, np.where(missing, np.nan, sim)


ORG_UNIT = Comparison(
    "org_unit",
    {MISSING: "missing", 0: "different", 1: "some words in common", 2: "nearly equal", 3: "equal"},
    _org_unit,
    ("org_unit",),
)


def extra_comparison(field: str) -> Comparison:
    """A generic comparison of one extra text field (addresses, foreign ids in benchmarks)."""

    def compute(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
        lv, rv = L.extra[field], R.extra[field]
        la, rb = lv[il], rv[ir]
        missing = (la == "") | (rb == "")
        jw = pair_similarity(lv, rv, il, ir)
        lev = pair_similarity(lv, rv, il, ir, _LEV)
        level = np.select([missing, la == rb, lev <= 1, jw >= 0.9, jw >= 0.75], [MISSING, 4, 3, 2, 1], 0)
        return level, np.where(missing, np.nan, jw)

    return Comparison(
        field,
        {MISSING: "missing", 0: "different", 1: "similar", 2: "nearly equal", 3: "one edit apart", 4: "equal"},
        compute,
        (field,),
    )


# ---- assembling --------------------------------------------------------------------------------

_FIELD_PRESENCE: dict[str, Callable[[PreparedPeople], np.ndarray]] = {
    "given_name": lambda p: p.in_use != "",
    "family_name": lambda p: p.family_full != "",
    "swapped_names": lambda p: (p.in_use != "") & (p.family_full != ""),
    "birth_date": lambda p: p.dob_digits[:, 0] >= 0,
    "personnummer": lambda p: p.pnr_digits[:, 0] >= 0,
    "email": lambda p: p.email_local != "",
    "employee_number": lambda p: p.employee != "",
    "org_unit": lambda p: p.org_unit != "",
}


def _extra_presence(field: str) -> Callable[[PreparedPeople], np.ndarray]:
    return lambda p: p.extra[field] != ""


def default_comparisons(left: PreparedPeople, right: PreparedPeople) -> list[Comparison]:
    """Every comparison whose fields are filled in on both sides (somewhere)."""
    out = []
    for comp in (GIVEN, FAMILY, SWAP, BIRTH_DATE, PERSONNUMMER, EMAIL, EMPLOYEE, ORG_UNIT):
        present = _FIELD_PRESENCE[comp.name]
        if present(left).any() and present(right).any():
            out.append(comp)
    for f in sorted(set(left.extra) & set(right.extra)):
        if (left.extra[f] != "").any() and (right.extra[f] != "").any():
            out.append(extra_comparison(f))
    return out


def compare_pairs(
    left: PreparedPeople,
    right: PreparedPeople,
    il: np.ndarray,
    ir: np.ndarray,
    comparisons: Sequence[Comparison] | None = None,
    *,
    chunk_size: int = 400_000,
) -> pd.DataFrame:
    """One row per pair: a level column per comparison, ``<name>_score`` columns and term frequencies.

    Term-frequency columns (``family_tf``, ``given_tf``) hold -log10 of the share of people
    carrying the agreed value, NaN unless the names agree exactly. Pairs are compared in chunks
    of ``chunk_size`` so that the temporary per-pair arrays stay small (100,000 x 100,000 people
    give millions of candidate pairs).
    """
    il = np.asarray(il, dtype=np.int64)
    ir = np.asarray(ir, dtype=np.int64)
    comps = list(comparisons) if comparisons is not None else default_comparisons(left, right)
    if len(il) > chunk_size:
        parts = [_compare_chunk(left, right, il[k:k + chunk_size], ir[k:k + chunk_size], comps)
                 for k in range(0, len(il), chunk_size)]
        return pd.concat(parts, ignore_index=True)
    return _compare_chunk(left, right, il, ir, comps)


def _compare_chunk(left: PreparedPeople, right: PreparedPeople, il: np.ndarray, ir: np.ndarray,
                   comps: list[Comparison]) -> pd.DataFrame:
    cols: dict[str, np.ndarray] = {}
    names = {c.name for c in comps}
    swapped = np.zeros(len(il), dtype=bool)
    for comp in comps:
        if comp.name == SWAP.name:
            continue
        level, score = comp(left, right, il, ir)
        cols[comp.name] = level
        cols[f"{comp.name}_score"] = score
    if SWAP.name in names and GIVEN.name in cols and FAMILY.name in cols:
        # score the names in both orientations and keep, per pair, the one that fits better
        rs = swapped_names(right)
        g2, gs2 = GIVEN(left, rs, il, ir)
        f2, fs2 = FAMILY(left, rs, il, ir)
        g1, f1 = cols[GIVEN.name], cols[FAMILY.name]
        direct = np.maximum(g1, 0).astype(np.int16) * 2 + np.maximum(f1, 0)
        crossed = np.maximum(g2, 0).astype(np.int16) * 2 + np.maximum(f2, 0)
        swapped = (crossed > direct + 2) & (g2 > 0) & (f2 > 0)
        cols[GIVEN.name] = np.where(swapped, g2, g1)
        cols[FAMILY.name] = np.where(swapped, f2, f1)
        cols[f"{GIVEN.name}_score"] = np.where(swapped, gs2, cols[f"{GIVEN.name}_score"])
        cols[f"{FAMILY.name}_score"] = np.where(swapped, fs2, cols[f"{FAMILY.name}_score"])
        missing = (left.in_use[il] == "") & (left.family_full[il] == "") | (
            (right.in_use[ir] == "") & (right.family_full[ir] == ""))
        cols[SWAP.name] = np.where(missing, MISSING, swapped.astype(np.int8)).astype(np.int8)
    if FAMILY.name in cols and len(left.family_freq) == len(left):
        freq = np.maximum(left.family_freq[il], np.where(swapped, right.given_freq[ir], right.family_freq[ir]))
        cols["family_tf"] = np.where(cols[FAMILY.name] == 6, -np.log10(np.maximum(freq, 1e-9)), np.nan).astype(np.float32)
    if GIVEN.name in cols and len(left.given_freq) == len(left):
        freq = np.maximum(left.given_freq[il], np.where(swapped, right.family_freq[ir], right.given_freq[ir]))
        cols["given_tf"] = np.where(cols[GIVEN.name] == 7, -np.log10(np.maximum(freq, 1e-9)), np.nan).astype(np.float32)
    return pd.DataFrame(cols)
