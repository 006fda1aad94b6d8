"""The pupils' reality: households of siblings, graduates still in M5, schools typed many ways.

A school office knows its pupils by name and class; what it typed into M5 years ago is a name and
a school, a birth date for about one pupil in ten and a personnummer for a few. Brothers and
sisters go to the same school and share a family name; an older sibling who left school is still
in M5 at the school a younger one goes to now, sometimes under the younger one's given name (a
school office that reused the record, or a family that gave both children the same first name).
That is the world where a matcher that only looks at names and school must ask rather than
guess, and where an operator's "no" to one namesake must not unlearn "same name, same school".

This module is a leaf (names tables only): the population, the registers and M5 call it.
"""

from __future__ import annotations

import numpy as np

from passerlink.sampleworld import names as _names

__all__ = [
    "PUPIL_SHARES",
    "FLAT_GIVEN_Q",
    "TAIL_SHARE",
    "tail_family_names",
    "plant_households",
    "graduate_count",
    "write_school",
]

#: shares that shape the pupil-realistic world (``generate_world(pupil_reality=True)``)
PUPIL_SHARES: dict[str, float] = {
    "household_sizes_1": 0.35,  # households of one pupil (twins count as one)
    "household_sizes_2": 0.40,
    "household_sizes_3": 0.20,
    "household_sizes_4": 0.05,
    "stale": 0.08,  # graduates still in M5, of all M5 users of the pupil part
    "graduate_sibling": 0.55,  # graduates with a younger sibling among the current pupils
    "graduate_sibling_name": 0.25,  # ... of those: carrying that sibling's given name
    "graduate_family_variant": 0.60,  # ... of those: family name as a spelling variant (Persson)
    "graduate_sibling_school": 0.65,  # a sibling graduate's M5 school is the sibling's school now
    "graduate_active": 0.75,  # status 1 in M5 (nobody closed the record)
    "twins_same_class": 0.90,
    "personnummer_field": 0.03,  # M5 pupil records with a personnummer (customfield1)
    "birth_date_field": 0.10,  # ... with a birth date (customfield2)
    "email": 0.05,
    "school_as_registered": 0.55,  # M5 department written exactly as the register writes it
}


#: The classic world draws family names from the 130 most common only (Andersson 7.6 % of people
#: instead of Sweden's 2.1 %) and given names steeply (the top name 10 % of a sex instead of
#: about 2 %): in a names-and-school world that makes one pupil in ten share first name, family
#: name and school with another. The pupil-realistic world draws as Swedes are named: 72 % of
#: family names from a tail of rarer compound names (the table's names are 28 % of Swedes) and
#: given names from a flatter popularity curve.
TAIL_SHARE = 0.72
FLAT_GIVEN_Q = 30.0

_TAIL_STEMS = ["Ek", "Berg", "Lind", "Sand", "Sjö", "Holm", "Björk", "Al", "Hag", "Ny", "Öst", "Vik",
               "Fors", "Dahl", "Löf", "Gran", "Ros", "Ahl", "Hed", "Lund", "Ström", "Ask", "Nord",
               "Sved", "Mal", "Rund", "Kull", "Stjern", "Borg", "Lilje", "Tall", "Äng", "Gyllen", "Hall"]
_TAIL_ENDS = ["berg", "ström", "gren", "lund", "qvist", "dahl", "holm", "man", "ell", "én", "bäck",
              "lid", "sten", "blad", "fors", "vall", "mark", "ling", "hag", "näs"]


def tail_family_names() -> list[tuple[str, float]]:
    """Rarer Swedish compound family names (Ekblad, Sjöqvist, Gyllenhag...), with falling weights."""
    out: list[tuple[str, float]] = []
    for i, stem in enumerate(_TAIL_STEMS):
        for j, end in enumerate(_TAIL_ENDS):
            if stem.lower() == end or stem.lower().endswith(end):
                continue
            out.append((stem + end, 1.0 / (1.0 + 0.15 * (i + j))))
    return out


def graduate_count(pupils: int, in_m5: float, manual_share: float) -> int:
    """Graduates so that they are ``PUPIL_SHARES["stale"]`` of the pupil part of M5 (pupils in
    M5, graduates and that part's share of manual records)."""
    stale = PUPIL_SHARES["stale"]
    return int(round(pupils * in_m5 * stale / max(1.0 - stale - manual_share, 0.05)))


def _household_sizes(rng: np.random.Generator, units: int) -> list[int]:
    sizes = np.array([1, 2, 3, 4])
    p = np.array([PUPIL_SHARES[f"household_sizes_{k}"] for k in sizes])
    out, total = [], 0
    draws = rng.choice(sizes, size=max(units, 1), p=p / p.sum())
    for k in draws.tolist():
        if total >= units:
            break
        k = min(k, units - total)
        out.append(k)
        total += k
    return out


def plant_households(
    rng: np.random.Generator,
    roles: np.ndarray,
    births: np.ndarray,
    given: list[tuple[str, ...]],
    call: np.ndarray,
    family: list[str],
    double: np.ndarray,
    intl: np.ndarray,
    male: np.ndarray,
    twin_of: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group pupils into households (siblings share the family name) and attach graduates.

    Works in place on the name arrays (before personnummer are assigned, so a graduate who takes
    a sibling's given name also takes the matching sex). Returns ``family_id`` (household per
    person, -1 alone), ``sibling_of`` (per graduate: the current pupil it is the sibling of, -1)
    and ``sibling_name`` (per graduate: it carries that pupil's given name).
    """
    n = roles.shape[0]
    family_id = np.full(n, -1, dtype=np.int64)
    pupils = np.flatnonzero(roles == "pupil")
    members_of = _siblings(rng, pupils, births, given, family, double, intl, twin_of)
    for h, members in enumerate(members_of):
        if len(members) > 1:
            family_id[members] = h
    sibling_of, sibling_name = _attach_graduates(
        rng, roles, pupils, family_id, len(members_of), given, call, family, double, intl, male)
    return family_id, sibling_of, sibling_name


def _siblings(rng: np.random.Generator, pupils: np.ndarray, births: np.ndarray, given: list[tuple[str, ...]],
              family: list[str], double: np.ndarray, intl: np.ndarray, twin_of: np.ndarray) -> list[list[int]]:
    """Pupils grouped into households; each household takes its first member's family name."""
    units = pupils[(twin_of[pupils] < 0) | (twin_of[pupils] > pupils)]  # a twin pair is one unit
    units = units[rng.permutation(units.size)]
    sizes = _household_sizes(rng, units.size)
    members_of: list[list[int]] = []
    pos = 0
    for k in sizes:
        house = [int(u) for u in units[pos:pos + k]]
        pos += k
        head = house[0]
        kept = [head]
        for u in house[1:]:
            if births[u] == births[head]:  # not twins: a same-day sibling would look like one
                continue
            if given[u][0] in {given[k][0] for k in kept}:  # parents do not name two children alike
                continue
            kept.append(u)
        members: list[int] = []
        for u in kept:
            members.append(u)
            if twin_of[u] >= 0:
                members.append(int(twin_of[u]))
        for m in members:
            family[m], double[m], intl[m] = family[head], double[head], intl[head]
        members_of.append(members)
    return members_of


def _attach_graduates(rng: np.random.Generator, roles: np.ndarray, pupils: np.ndarray, family_id: np.ndarray,
                      next_id: int, given: list[tuple[str, ...]], call: np.ndarray, family: list[str],
                      double: np.ndarray, intl: np.ndarray, male: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Some graduates become an older sibling of a current pupil, a share under its given name."""
    n = roles.shape[0]
    sibling_of = np.full(n, -1, dtype=np.int64)
    sibling_name = np.zeros(n, dtype=bool)
    graduates = np.flatnonzero(roles == "graduate")
    u = rng.random((graduates.size, 3))
    pick = rng.integers(0, max(pupils.size, 1), graduates.size)
    for g, (u_sib, u_name, _), p in zip(graduates.tolist(), u.tolist(), pick.tolist(), strict=True):
        if not pupils.size or u_sib >= PUPIL_SHARES["graduate_sibling"]:
            continue
        p = int(pupils[p])
        family[g], double[g], intl[g] = family[p], double[p], intl[p]
        if family_id[p] < 0:
            family_id[p] = next_id
            next_id += 1
        family_id[g] = family_id[p]
        sibling_of[g] = p
        if u_name < PUPIL_SHARES["graduate_sibling_name"]:
            given[g], call[g], male[g] = given[p], call[p], male[p]
            sibling_name[g] = True
    return sibling_of, sibling_name


def _compound(school: str) -> str:
    """"Mörlunda skola" <-> "Mörlundaskolan" (the two ways a Swedish school is named)."""
    if school.endswith(" skola"):
        return school[: -len(" skola")] + "skolan"
    if school.endswith("skolan"):
        return school[: -len("skolan")] + " skola"
    return school


def _abbreviated(school: str) -> str:
    if school.endswith(" skola"):
        return school[: -len(" skola")] + " sk."
    if school.endswith("skolan"):
        return school[: -len("skolan")] + "sk."
    if school.endswith(" gymnasium"):
        return school[: -len(" gymnasium")] + " gy"
    return school


def _grades(school: str) -> str:
    for name, low, high, _, _ in _names.PRIMARY_SCHOOLS + _names.UPPER_SCHOOLS:
        if name == school:
            return f"{school} {'F' if low == 0 else low}-{high}"
    return f"{school} år 1-3"


def write_school(school: str, u: float) -> str:
    """The school as some school office typed it into M5: mostly as registered, else compound or
    split, abbreviated, with its grades, in capitals or without å/ä/ö."""
    keep = PUPIL_SHARES["school_as_registered"]
    if u < keep:
        return school
    k = int((u - keep) / (1 - keep) * 5)
    if k == 0:
        return _compound(school)
    if k == 1:
        return _abbreviated(school)
    if k == 2:
        return _grades(school)
    if k == 3:
        return school.upper()
    return _names.fold_ascii(school)
