"""Pair comparisons: each turns two prepared tables and candidate pairs into a level per pair.

A comparison declares its levels by name, as Splink's ``ComparisonLevel`` does: a "null" level
(the value is missing: never the same as disagreeing, a missing birth date is not a different
one), then its agreement levels from the strongest to the weakest, and last the level for
everything else ("different"). Each level carries flags: ``exact`` (the values are equal),
``null`` and ``term_frequency`` (the agreement is weighed by how rare the value is). The compute
function returns one condition per named level; the comparison applies them in declared order,
the first that holds wins. The integer stored per pair is only the level's rank (null -1, the
else level 0, the strongest the highest) for the models' arrays: every rule elsewhere asks by
name (``Comparison.code``, ``Comparison.isin``, ``level_in``), so adding a level to a comparison
shifts no rule. All of it is vectorised over the pair arrays ``(il, ir)``; string similarities
are computed once per distinct pair of values (a shared "Andersson"/"Anderson" costs one
Jaro-Winkler call however many pairs carry it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as _field

import numpy as np
import pandas as pd
from rapidfuzz import distance, fuzz, process

from passerlink.features.prepare import FAMILY_SLOTS, GIVEN_SLOTS, GROUP_SLOTS, PreparedPeople
from passerlink.features.text import phonetic_key

__all__ = [
    "Comparison",
    "ComparisonLevel",
    "level_in",
    "MISSING",
    "MISSING_LEFT",
    "MISSING_RIGHT",
    "pair_similarity",
    "default_comparisons",
    "compare_pairs",
    "GIVEN",
    "FAMILY",
    "RECORD_AGE",
    "SCHOOL_START_AGE",
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


Conditions = dict[str, np.ndarray]
ComputeFn = Callable[[PreparedPeople, PreparedPeople, np.ndarray, np.ndarray], tuple[Conditions, np.ndarray]]
_MISSING_NAMES = {MISSING_LEFT: "missing_left", MISSING_RIGHT: "missing_right"}


@dataclass(frozen=True)
class ComparisonLevel:
    """One named level of a comparison (Splink's ``ComparisonLevel``): a name rules ask for, the
    words an explanation shows, and what kind of agreement it is."""

    name: str
    label: str
    exact: bool = False  # the two values are equal
    null: bool = False  # the value is missing (on one side or both): neutral, not a disagreement
    term_frequency: bool = False  # weighed by how rare the agreed value is (``<field>_tf`` columns)


@dataclass(frozen=True)
class Comparison:
    """One field comparison: named levels and the function computing their conditions.

    ``levels``: the null level first, then the agreement levels strongest first, and last the
    level of everything else. ``compute(L, R, il, ir)`` returns ``(conditions, score)``: one
    boolean array per level name except the last (the null level's included), and a similarity
    score per pair. The level array the comparison returns holds ranks (``code``): -1 for null
    (-2/-3 when only the left/right value is missing), 0 for the else level, up to
    ``n_levels - 1`` for the strongest.
    """

    name: str
    levels: tuple[ComparisonLevel, ...]
    compute: ComputeFn
    fields: tuple[str, ...]  # canonical fields it reads (for explanations)
    _codes: dict[str, int] = _field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise ValueError(f"comparison {self.name!r} declares a level name twice: {names}")
        nulls = [lv for lv in self.levels if lv.null]
        if len(nulls) != 1 or self.levels[0] is not nulls[0]:
            raise ValueError(f"comparison {self.name!r} needs exactly one null level, declared first")
        ranked = self.levels[1:]
        if len(ranked) < 2:
            raise ValueError(f"comparison {self.name!r} needs an agreement level and an else level")
        codes = {nulls[0].name: MISSING}
        for k, lv in enumerate(ranked):
            codes[lv.name] = len(ranked) - 1 - k
        object.__setattr__(self, "_codes", codes)

    # ---- asking by name --------------------------------------------------------------------
    @property
    def n_levels(self) -> int:
        """Number of non-null levels (codes 0 .. n_levels - 1)."""
        return len(self.levels) - 1

    @property
    def labels(self) -> dict[int, str]:
        """Code -> the level's words (what explanations show)."""
        return {self._codes[lv.name]: lv.label for lv in self.levels}

    def code(self, name: str) -> int:
        """The rank stored for the level called ``name`` (a KeyError names the known levels)."""
        try:
            return self._codes[name]
        except KeyError:
            raise KeyError(f"comparison {self.name!r} has no level {name!r} "
                           f"(known: {', '.join(self._codes)})") from None

    def codes(self, *names: str) -> list[int]:
        return [self.code(n) for n in names]

    def level(self, name: str) -> ComparisonLevel:
        self.code(name)  # an unknown name raises, naming the known ones
        return next(lv for lv in self.levels if lv.name == name)

    def level_name(self, code: int) -> str:
        """The name of the level stored as ``code`` (``missing_left``/``missing_right`` for -2/-3)."""
        if code in _MISSING_NAMES:
            return _MISSING_NAMES[code]
        for name, c in self._codes.items():
            if c == code:
                return name
        raise KeyError(f"comparison {self.name!r} has no level with code {code}")

    def label_of(self, code: int) -> str:
        """The words of the level stored as ``code`` (missing says on which side: ``MISSING_LABELS``)."""
        if code < 0:
            return MISSING_LABELS.get(code, "missing")
        return self.labels[code]

    def isin(self, levels: np.ndarray, names: Iterable[str]) -> np.ndarray:
        """Mask of the pairs whose level is one of ``names``."""
        return np.isin(np.asarray(levels), self.codes(*names))

    def flagged(self, flag: str) -> list[str]:
        """Names of the levels with ``flag`` (``exact``, ``null`` or ``term_frequency``) set."""
        if flag not in ("exact", "null", "term_frequency"):
            raise ValueError(f"unknown level flag {flag!r}")
        return [lv.name for lv in self.levels if getattr(lv, flag)]

    # ---- computing -------------------------------------------------------------------------
    def __call__(self, left: PreparedPeople, right: PreparedPeople, il: np.ndarray,
                 ir: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        conditions, score = self.compute(left, right, il, ir)
        expected = {lv.name for lv in self.levels[:-1]}
        if set(conditions) != expected:
            raise ValueError(f"comparison {self.name!r}: conditions for {sorted(conditions)}, "
                             f"levels need {sorted(expected)}")
        order = self.levels[:-1]
        level = np.select([np.asarray(conditions[lv.name], dtype=bool) for lv in order],
                          [self._codes[lv.name] for lv in order], self._codes[self.levels[-1].name]).astype(np.int8)
        present = _FIELD_PRESENCE.get(self.name)
        if present is None and self.name in left.extra and self.name in right.extra:
            present = _extra_presence(self.name)
        if present is not None:  # say which side is missing: an M5 user with an employee number
            lp, rp = present(left)[il], present(right)[ir]  # against a pupil without one is a hint
            miss = level < 0
            level[miss & lp & ~rp] = MISSING_RIGHT
            level[miss & ~lp & rp] = MISSING_LEFT
        return level, np.asarray(score).astype(np.float32)


def level_in(features: pd.DataFrame, comparisons: Mapping[str, Comparison], column: str,
             *names: str) -> np.ndarray:
    """Mask of the pairs whose ``column`` level is one of ``names``; all False when the column
    was not compared (no such field on one side). Unknown level names are a KeyError."""
    comp = comparisons.get(column)
    if comp is None:
        return np.zeros(len(features), dtype=bool)
    mask = comp.isin(features[column].to_numpy() if column in features.columns else np.zeros(0), names)
    return mask if column in features.columns else np.zeros(len(features), dtype=bool)


def _lv(name: str, label: str, **flags: bool) -> ComparisonLevel:
    return ComparisonLevel(name, label, **flags)


_NULL = _lv("missing", "missing", null=True)
_ELSE = _lv("different", "different")


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
    conditions = {"missing": missing, "exact": exact_in_use, "variant": group_in_use | phon_in_use,
                  "equal_to_other": token_shared, "variant_of_other": group_shared,
                  "nearly_equal": best >= 0.92, "similar": best >= 0.85,
                  "initial_or_weak": initial | (best >= 0.75)}
    return conditions, np.where(missing, np.nan, best)


GIVEN = Comparison(
    "given_name",
    (_NULL,
     _lv("exact", "equal", exact=True, term_frequency=True),
     _lv("variant", "nickname or spelling variant"),
     _lv("equal_to_other", "equal to another given name"),
     _lv("variant_of_other", "nickname/variant of another given name"),
     _lv("nearly_equal", "nearly equal (JW>=0.92)"),
     _lv("similar", "similar (JW>=0.85)"),
     _lv("initial_or_weak", "initial or weak similarity"),
     _ELSE),
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
    conditions = {"missing": missing, "exact": exact, "same_sound": phon, "one_typo": lev <= 1,
                  "part_in_common": shared, "nearly_equal": (jw >= 0.9) | (best_tok >= 0.92),
                  "similar": jw >= 0.8}
    return conditions, np.where(missing, np.nan, np.maximum(jw, best_tok))


FAMILY = Comparison(
    "family_name",
    (_NULL,
     _lv("exact", "equal", exact=True, term_frequency=True),
     _lv("same_sound", "same sound"),
     _lv("one_typo", "one typo apart"),
     _lv("part_in_common", "one part of a double name in common"),
     _lv("nearly_equal", "nearly equal (JW>=0.9)"),
     _lv("similar", "similar (JW>=0.8)"),
     _ELSE),
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


def _not_computed_here(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    """The swap is decided by ``compare_pairs`` (it scores the names both ways round)."""
    none = np.zeros(len(il), dtype=bool)
    return {"missing": none, "swapped": none}, np.zeros(len(il), np.float32)


#: The levels at which a name read the other way round counts as agreeing (``compare_pairs``).
SWAP_AGREES: dict[str, tuple[str, ...]] = {
    "given_name": ("exact", "variant", "equal_to_other", "variant_of_other", "nearly_equal", "similar",
                   "initial_or_weak"),
    "family_name": ("exact", "same_sound", "one_typo", "part_in_common", "nearly_equal", "similar"),
}

SWAP = Comparison(
    "swapped_names",
    (_NULL, _lv("swapped", "given and family name swapped"), _lv("in_their_fields", "in their fields")),
    _not_computed_here,
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
    conditions = {"missing": missing, "exact": ham == 0, "one_digit_off": ham == 1,
                  "swapped_digits": swapped | transposed, "year_off": year_off, "partial": partial,
                  "within_five_years": close}
    return conditions, np.where(missing, np.nan, 1.0 - ham / 8.0)


BIRTH_DATE = Comparison(
    "birth_date",
    (_NULL,
     _lv("exact", "equal", exact=True),
     _lv("one_digit_off", "one digit off"),
     _lv("swapped_digits", "day and month swapped, or two digits swapped"),
     _lv("year_off", "year off by one or ten"),
     _lv("partial", "same year and month, or same day and month"),
     _lv("within_five_years", "different, within five years"),
     _lv("different", "years apart")),
    _birth_date,
    ("birth_date",),
)


#: School starts (förskoleklass) in August of the year a child turns six: an M5 user created
#: before that year began was created for somebody else (an older sibling, a graduate). The
#: spring before the start is given the benefit of the doubt (a card made early); a year
#: earlier (age five) the signal already loses a third of what it tells apart on pupil worlds.
SCHOOL_START_AGE = 6
_SCHOOL_YEAR_OPENS = 101  # MMDD: 1 January of the year the child turns SCHOOL_START_AGE


def _record_age(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    """The record's creation day against the person's birth, on whichever side has each (the
    worse reading when both sides have both)."""
    school = np.full(len(il), True)
    born_first = np.full(len(il), True)
    known = np.zeros(len(il), dtype=bool)
    for born, created in ((L.born[il], R.created[ir]), (R.born[ir], L.created[il])):
        both = (born > 0) & (created > 0)
        known |= both
        school &= ~both | (created >= (born // 10000 + SCHOOL_START_AGE) * 10000 + _SCHOOL_YEAR_OPENS)
        born_first &= ~both | (created >= born)
    conditions = {"missing": ~known, "school_age": school, "before_school_age": born_first}
    return conditions, np.where(known, school.astype(np.float64), np.nan)


RECORD_AGE = Comparison(
    "record_age",
    (_NULL,
     _lv("school_age", "record created in or after the year the person turned six"),
     _lv("before_school_age", "record created before the year the person turned six"),
     _lv("before_birth", "record created before the person was born")),
    _record_age,
    ("birth_date", "created"),
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
    conditions = {"missing": missing, "exact": (ham == 0) & va & vb, "one_digit_off": (ham <= 1) | transposed,
                  "coordination_number": coord_mix, "same_birth_date": same_birth}
    return conditions, np.where(missing, np.nan, 1.0 - ham / 10.0)


PERSONNUMMER = Comparison(
    "personnummer",
    (_NULL,
     _lv("exact", "equal", exact=True),
     _lv("one_digit_off", "one digit off"),
     _lv("coordination_number", "samordningsnummer and personnummer of the same birth date"),
     _lv("same_birth_date", "same birth date, different serial (twins?)"),
     _ELSE),
    _personnummer,
    ("personnummer",),
)


def _email(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    la, rb = L.email_local[il], R.email_local[ir]
    missing = (la == "") | (rb == "")
    same_domain = L.email_domain[il] == R.email_domain[ir]
    jw = pair_similarity(L.email_local, R.email_local, il, ir)
    conditions = {"missing": missing, "exact": (la == rb) & same_domain, "same_local_part": la == rb,
                  "nearly_equal_local_part": jw >= 0.92, "similar_local_part": jw >= 0.8}
    return conditions, np.where(missing, np.nan, jw)


EMAIL = Comparison(
    "email",
    (_NULL,
     _lv("exact", "equal address", exact=True),
     _lv("same_local_part", "equal local part, other domain"),
     _lv("nearly_equal_local_part", "nearly equal local part"),
     _lv("similar_local_part", "similar local part"),
     _ELSE),
    _email,
    ("email",),
)


def _employee(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    la, rb = L.employee[il], R.employee[ir]
    missing = (la == "") | (rb == "")
    lev = pair_similarity(L.employee, R.employee, il, ir, _LEV)
    conditions = {"missing": missing, "exact": la == rb, "one_edit": lev <= 1}
    return conditions, np.where(missing, np.nan, (la == rb).astype(np.float32))


EMPLOYEE = Comparison(
    "employee_number",
    (_NULL, _lv("exact", "equal", exact=True), _lv("one_edit", "one edit apart"), _ELSE),
    _employee,
    ("employee_number",),
)


def _org_unit(L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray):
    la, rb = L.org_unit[il], R.org_unit[ir]
    missing = (la == "") | (rb == "")
    sim = pair_similarity(L.org_unit, R.org_unit, il, ir, fuzz.token_set_ratio) / 100.0
    conditions = {"missing": missing, "exact": la == rb, "nearly_equal": sim >= 0.85, "some_words": sim >= 0.6}
    return conditions, np.where(missing, np.nan, sim)


ORG_UNIT = Comparison(
    "org_unit",
    (_NULL, _lv("exact", "equal", exact=True), _lv("nearly_equal", "nearly equal"),
     _lv("some_words", "some words in common"), _ELSE),
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
        conditions = {"missing": missing, "exact": la == rb, "one_edit": lev <= 1, "nearly_equal": jw >= 0.9,
                      "similar": jw >= 0.75}
        return conditions, np.where(missing, np.nan, jw)

    return Comparison(
        field,
        (_NULL, _lv("exact", "equal", exact=True), _lv("one_edit", "one edit apart"),
         _lv("nearly_equal", "nearly equal"), _lv("similar", "similar"), _ELSE),
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
#: Comparisons across two fields: a person's birth on one side, a record's creation on the other.
_CROSS_PRESENCE: dict[str, tuple[Callable[[PreparedPeople], np.ndarray], Callable[[PreparedPeople], np.ndarray]]] = {
    "record_age": (lambda p: p.born > 0, lambda p: p.created > 0),
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
    born, created = _CROSS_PRESENCE[RECORD_AGE.name]
    if born(left).any() and created(right).any() or created(left).any() and born(right).any():
        out.append(RECORD_AGE)
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
    by_name = {c.name: c for c in comps}
    swapped = np.zeros(len(il), dtype=bool)
    for comp in comps:
        if comp.name == SWAP.name:
            continue
        level, score = comp(left, right, il, ir)
        cols[comp.name] = level
        cols[f"{comp.name}_score"] = score
    given, family = by_name.get(GIVEN.name), by_name.get(FAMILY.name)
    if SWAP.name in by_name and given is not None and family is not None:
        swapped = _score_both_orientations(left, right, il, ir, given, family, cols)
        swap = by_name[SWAP.name]
        missing = (left.in_use[il] == "") & (left.family_full[il] == "") | (
            (right.in_use[ir] == "") & (right.family_full[ir] == ""))
        level = np.where(swapped, swap.code("swapped"), swap.code(swap.levels[-1].name))
        cols[SWAP.name] = np.where(missing, MISSING, level).astype(np.int8)
    for name_comp, tf_col, own, other in ((family, "family_tf", "family_freq", "given_freq"),
                                          (given, "given_tf", "given_freq", "family_freq")):
        if name_comp is None or name_comp.name not in cols or len(getattr(left, own)) != len(left):
            continue
        freq = np.maximum(getattr(left, own)[il], np.where(swapped, getattr(right, other)[ir], getattr(right, own)[ir]))
        weighed = name_comp.isin(cols[name_comp.name], name_comp.flagged("term_frequency"))
        cols[tf_col] = np.where(weighed, -np.log10(np.maximum(freq, 1e-9)), np.nan).astype(np.float32)
    return pd.DataFrame(cols)


def _score_both_orientations(left: PreparedPeople, right: PreparedPeople, il: np.ndarray, ir: np.ndarray,
                             given: Comparison, family: Comparison, cols: dict[str, np.ndarray]) -> np.ndarray:
    """Score the names in both orientations and keep, per pair, the one that fits better (in
    ``cols``); returns the mask of the pairs read the other way round.

    The crossed reading wins when both its names agree (a level of ``SWAP_AGREES``, by name) and
    it is at least as good on both names and better on one: an order of levels, never a sum of
    their ranks, so a level added to a comparison moves no pair's reading.
    """
    rs = swapped_names(right)
    g2, gs2 = given(left, rs, il, ir)
    f2, fs2 = family(left, rs, il, ir)
    g1, f1 = cols[given.name], cols[family.name]
    G1, F1, G2, F2 = (np.maximum(x, 0) for x in (g1, f1, g2, f2))  # missing ranks with different
    agree = given.isin(g2, SWAP_AGREES[given.name]) & family.isin(f2, SWAP_AGREES[family.name])
    swapped = agree & (G2 >= G1) & (F2 >= F1) & ((G2 > G1) | (F2 > F1))
    cols[given.name] = np.where(swapped, g2, g1)
    cols[family.name] = np.where(swapped, f2, f1)
    cols[f"{given.name}_score"] = np.where(swapped, gs2, cols[f"{given.name}_score"])
    cols[f"{family.name}_score"] = np.where(swapped, fs2, cols[f"{family.name}_score"])
    return swapped
