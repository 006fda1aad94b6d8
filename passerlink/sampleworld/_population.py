"""The people of the sample municipality, before any register or M5 has written them down.

Everyone (staff, former staff, pupils, and the contractors/visitors/substitutes that only M5
knows) is drawn in one population so that personnummer are unique across all of them and the
deliberate look-alikes (twins, namesakes) can be planted across roles.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

from passerlink.sampleworld import names as _names
from passerlink.sampleworld._personnummer import assign_personnummer, split_dates
from passerlink.sampleworld._pupils import (
    FLAT_GIVEN_Q,
    TAIL_SHARE,
    plant_households,
    tail_family_names,
)

__all__ = ["Population", "make_population", "ROLES", "GRADUATE"]

ROLES = ("staff", "former", "pupil", "manual")
#: former pupils still in M5 (graduated or moved away): only the pupil-realistic world has them
GRADUATE = "graduate"

# shares that shape the population (the README lists them)
INTERNATIONAL_SHARE = 0.07
DOUBLE_FAMILY_SHARE = {"adult": 0.05, "pupil": 0.08}
FORMER_NAME_SHARE = {"F": 0.08, "M": 0.015}  # adults 26+ whose M5 record predates a name change
COORDINATION_SHARE = {"staff": 0.01, "former": 0.02, "pupil": 0.015, "manual": 0.04}
TWIN_PAIR_SHARE = 0.015  # pairs per pupil
NAMESAKE_SHARE = 0.01  # register people given the full name of another register person
MANUAL_NAMESAKE_SHARE = 0.15  # manual M5 records that carry a register person's name


@dataclass
class Population:
    """Parallel arrays, one entry per person."""

    role: np.ndarray  # str: one of ROLES
    male: np.ndarray  # bool
    birth: np.ndarray  # datetime64[D]
    international: np.ndarray  # bool
    given: list[tuple[str, ...]]  # all given names, in registered order
    call: np.ndarray  # index into given of the name in use (tilltalsnamn)
    family: list[str]  # current family name (may be "A B" or "A-B")
    double: np.ndarray  # 0 single family name, 1 two parts with space, 2 hyphenated
    former_family: list[str]  # family name before a change, "" if none
    coordination: np.ndarray  # bool: samordningsnummer
    pnr: list[str]  # 12 digits
    twin_of: np.ndarray  # index of the other twin, -1
    namesake_of: np.ndarray  # index of the person whose full name was copied, -1
    family_id: np.ndarray | None = None  # pupils and graduates of one household share an id, -1
    sibling_of: np.ndarray | None = None  # graduates: the current pupil whose sibling they are, -1
    sibling_name: np.ndarray | None = None  # graduates: True when given that sibling's given name

    def __len__(self) -> int:
        return len(self.pnr)

    def call_name(self, i: int) -> str:
        return self.given[i][int(self.call[i])]

    def indices(self, role: str) -> np.ndarray:
        return np.flatnonzero(self.role == role)


def _zipf(n: int, s: float = 0.9, q: float = 3.0) -> np.ndarray:
    w = 1.0 / (np.arange(n) + q) ** s
    return w / w.sum()


def _weights(pairs: list[tuple[str, float]]) -> tuple[list[str], np.ndarray]:
    labels = [p[0] for p in pairs]
    w = np.array([p[1] for p in pairs], dtype=float)
    return labels, w / w.sum()


def _draw_births(rng: np.random.Generator, role: str, n: int, today: _dt.date) -> np.ndarray:
    if role == "pupil":
        years = np.arange(2007, 2021)
        w = np.where(years == 2007, 0.03, np.where(years <= 2010, 0.8, 1.0))
    elif role == GRADUATE:  # left school: graduated, or moved on to another municipality's school
        years = np.arange(2000, 2011)
        w = np.where(years <= 2006, 1.0, 0.35)
    elif role == "manual":
        years = np.arange(1950, 2008)
        w = np.ones(years.shape[0])
    else:  # staff and former staff: working ages, born 1955-2005
        years = np.arange(1955, 2006)
        age = today.year - years
        w = np.select([age < 25, age <= 64, age <= 67], [0.5, 1.0, 0.4], 0.08)
    year = rng.choice(years, size=n, p=w / w.sum())
    start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    length = ((year - 1969).astype("datetime64[Y]").astype("datetime64[D]") - start).astype(np.int64)
    offset = np.floor(rng.random(n) * length).astype(np.int64)
    births = start + offset.astype("timedelta64[D]")
    latest = np.datetime64(today, "D") - np.timedelta64(1, "D")
    return np.minimum(births, latest)


def _draw_given(
    rng: np.random.Generator, years: np.ndarray, male: np.ndarray, intl: np.ndarray, adult: np.ndarray,
    q: float = 3.0,
) -> tuple[list[tuple[str, ...]], np.ndarray]:
    n = int(years.shape[0])
    first = np.empty(n, dtype=object)
    cohorts = np.where(years < 1975, "1955", np.where(years < 2000, "1975", "2000"))
    for cohort in ("1955", "1975", "2000"):
        in_cohort = cohorts == cohort
        for sex in ("F", "M"):
            want_male = sex == "M"
            for is_intl in (False, True):
                sel = np.flatnonzero(in_cohort & (male == want_male) & (intl == is_intl))
                if sel.size == 0:
                    continue
                pool = (_names.INTERNATIONAL_GIVEN_NAMES[sex] if is_intl
                        else _names.GIVEN_NAMES[cohort][sex])
                first[sel] = np.array(pool, dtype=object)[rng.choice(len(pool), sel.size, p=_zipf(len(pool), q=q))]
    k_adult = rng.choice([1, 2, 3], size=n, p=[0.30, 0.55, 0.15])
    k_young = rng.choice([1, 2, 3], size=n, p=[0.25, 0.60, 0.15])
    k_intl = rng.choice([1, 2, 3], size=n, p=[0.70, 0.25, 0.05])
    k = np.where(intl, k_intl, np.where(adult, k_adult, k_young))
    mids = {sex: (_names.MIDDLE_GIVEN_NAMES[sex], _zipf(len(_names.MIDDLE_GIVEN_NAMES[sex]), q=2.0))
            for sex in ("F", "M")}
    m_idx = {sex: rng.choice(len(mids[sex][0]), size=(n, 2), p=mids[sex][1]) for sex in ("F", "M")}
    u_call = rng.random(n)
    given: list[tuple[str, ...]] = []
    call = np.zeros(n, dtype=np.int64)
    for i in range(n):
        sex = "M" if male[i] else "F"
        pool = mids[sex][0]
        names = [first[i]]
        for j in range(int(k[i]) - 1):
            idx = int(m_idx[sex][i, j])
            name = pool[idx]
            while name in names:
                idx = (idx + 1) % len(pool)
                name = pool[idx]
            names.append(name)
        given.append(tuple(names))
        if len(names) > 1:
            if u_call[i] < 0.13:
                call[i] = 1
            elif u_call[i] < 0.15:
                call[i] = len(names) - 1
    return given, call


def make_population(
    rng: np.random.Generator, counts: dict[str, int], today: _dt.date, *, households: bool = False
) -> Population:
    """Draw everybody; plant twins and namesakes; give each a unique personnummer.

    ``households`` (the pupil-realistic world) also groups pupils into siblings who share a
    family name, and attaches graduates (``counts["graduate"]``) to some of those households,
    a share of them with a current sibling's given name. The steps draw from ``rng`` in a fixed
    order: that order is the committed sample world's identity.
    """
    roles_used = (*ROLES, GRADUATE) if counts.get(GRADUATE) else ROLES
    roles: np.ndarray = np.concatenate([np.full(counts[r], r, dtype=object) for r in roles_used]).astype(str)
    n = int(roles.shape[0])
    births: np.ndarray = (np.concatenate([_draw_births(rng, r, counts[r], today) for r in roles_used])
                          if n else np.array([], dtype="datetime64[D]"))
    male: np.ndarray = rng.random(n) < 0.5
    intl: np.ndarray = rng.random(n) < INTERNATIONAL_SHARE
    years, _, _ = split_dates(births)
    adult = roles != "pupil"
    # the pupil-realistic world draws names as often as Swedes carry them (FLAT_GIVEN_Q, TAIL_SHARE)
    given, call = _draw_given(rng, years, male, intl, adult, q=FLAT_GIVEN_Q if households else 3.0)
    family, double, former = _draw_family_names(rng, roles, male, intl, today.year - years, households)
    coordination = _draw_coordination(rng, roles, intl)
    names = _Names(given, call, family, double, intl, male, former)
    twin_of = _plant_twins(rng, roles, births, names, coordination)

    taken = twin_of >= 0
    family_id = sibling_of = sibling_name = None
    if households:
        family_id, sibling_of, sibling_name = plant_households(
            rng, roles, births, given, call, family, double, intl, male, twin_of)
        taken |= family_id >= 0
    namesake_of = _plant_namesakes(rng, roles, births, taken, names)
    _plant_manual_namesakes(rng, roles, births, namesake_of, names)

    pnr = assign_personnummer(rng, births, male, coordination)
    return Population(
        role=roles, male=male, birth=births, international=intl, given=given, call=call,
        family=family, double=double, former_family=former, coordination=coordination,
        pnr=pnr, twin_of=twin_of, namesake_of=namesake_of,
        family_id=family_id, sibling_of=sibling_of, sibling_name=sibling_name,
    )


@dataclass
class _Names:
    """The per-person name columns that twins and namesakes copy between people (in place)."""

    given: list[tuple[str, ...]]
    call: np.ndarray
    family: list[str]
    double: np.ndarray
    intl: np.ndarray
    male: np.ndarray
    former: list[str]

    def copy(self, a: int, b: int) -> None:
        _copy_name(a, b, self.given, self.call, self.family, self.double, self.intl, self.male, self.former)


def _draw_family_names(
    rng: np.random.Generator, roles: np.ndarray, male: np.ndarray, intl: np.ndarray, age: np.ndarray,
    households: bool,
) -> tuple[list[str], np.ndarray, list[str]]:
    """Family names (double and hyphenated ones included) and former (maiden) names."""
    n = int(roles.shape[0])
    swe_labels, swe_p = _weights(_names.FAMILY_NAMES)
    int_labels, int_p = _weights(_names.INTERNATIONAL_FAMILY_NAMES)
    fam_swe = rng.choice(len(swe_labels), size=(n, 3), p=swe_p)
    if households:  # most Swedes carry a name outside the table's 130: the rare tail
        tail = tail_family_names()
        swe_labels = swe_labels + [t[0] for t in tail]
        tail_i = len(swe_p) + rng.choice(len(tail), size=(n, 3), p=_weights(tail)[1])
        fam_swe = np.where(rng.random((n, 3)) < TAIL_SHARE, tail_i, fam_swe)
    fam_int = rng.choice(len(int_labels), size=n, p=int_p)
    u_double = rng.random(n)
    u_sep = rng.random(n)
    u_former = rng.random(n)
    family: list[str] = []
    double = np.zeros(n, dtype=np.int64)
    former: list[str] = [""] * n
    for i in range(n):
        if intl[i]:
            family.append(int_labels[fam_int[i]])
            continue
        base = swe_labels[fam_swe[i, 0]]
        share = DOUBLE_FAMILY_SHARE["pupil" if roles[i] == "pupil" else "adult"]
        if u_double[i] < share:
            other = swe_labels[fam_swe[i, 1]]
            if other == base:
                other = swe_labels[(fam_swe[i, 1] + 7) % len(swe_labels)]
            double[i] = 1 if u_sep[i] < 0.5 else 2
            base = f"{base} {other}" if double[i] == 1 else f"{base}-{other}"
        family.append(base)
        share = FORMER_NAME_SHARE["M" if male[i] else "F"]
        if roles[i] in ("staff", "former") and age[i] >= 26 and u_former[i] < share:
            old = swe_labels[fam_swe[i, 2]]
            if old in base.replace("-", " ").split(" "):
                old = swe_labels[(fam_swe[i, 2] + 11) % len(swe_labels)]
            former[i] = old
    return family, double, former


def _draw_coordination(rng: np.random.Generator, roles: np.ndarray, intl: np.ndarray) -> np.ndarray:
    """Who has a samordningsnummer (far more often people from abroad)."""
    n = int(roles.shape[0])
    coordination = np.zeros(n, dtype=bool)
    u_coord = rng.random(n)
    for r in ROLES:
        sel = roles == r
        p = np.where(intl, min(1.0, COORDINATION_SHARE[r] * 8), COORDINATION_SHARE[r] * 0.5)
        coordination |= sel & (u_coord < p)
    return coordination


def _plant_twins(
    rng: np.random.Generator, roles: np.ndarray, births: np.ndarray, names: _Names, coordination: np.ndarray
) -> np.ndarray:
    """Pairs of pupils with one birth date and family name and different given names."""
    twin_of = np.full(roles.shape[0], -1, dtype=np.int64)
    pupils = np.flatnonzero(roles == "pupil")
    n_pairs = int(round(pupils.size * TWIN_PAIR_SHARE))
    if not n_pairs or pupils.size < 2 * n_pairs:
        return twin_of
    given, male, intl = names.given, names.male, names.intl
    chosen = rng.choice(pupils, size=2 * n_pairs, replace=False)
    u_twin = rng.random((n_pairs, 2))
    for (a, b), (u_sex, u_name) in zip(chosen.reshape(-1, 2), u_twin, strict=True):
        births[b] = births[a]
        names.family[b], names.double[b], intl[b] = names.family[a], names.double[a], intl[a]
        male[b] = u_sex < 0.5
        coordination[b] = coordination[a]
        pool = (_names.INTERNATIONAL_GIVEN_NAMES if intl[b] else _names.GIVEN_NAMES["2000"])[
            "M" if male[b] else "F"]
        first = pool[int(u_name * len(pool))]
        if first == given[a][0] or first in given[b][1:]:
            first = pool[(int(u_name * len(pool)) + 1) % len(pool)]
        given[b] = (first, *given[b][1:])
        twin_of[a], twin_of[b] = b, a
    return twin_of


def _plant_namesakes(
    rng: np.random.Generator, roles: np.ndarray, births: np.ndarray, taken: np.ndarray, names: _Names
) -> np.ndarray:
    """Staff and pupils who share a whole name with another of their kind (other birth date)."""
    namesake_of = np.full(roles.shape[0], -1, dtype=np.int64)
    for r in ("staff", "pupil"):
        members = np.flatnonzero((roles == r) & ~taken)
        k = int(round(members.size * NAMESAKE_SHARE))
        if k == 0 or members.size < 2 * k:
            continue
        chosen = rng.choice(members, size=2 * k, replace=False)
        for a, b in chosen.reshape(-1, 2):
            if births[a] == births[b]:
                continue
            names.copy(a, b)
            namesake_of[b] = a
            taken[a] = taken[b] = True
    return namesake_of


def _plant_manual_namesakes(
    rng: np.random.Generator, roles: np.ndarray, births: np.ndarray, namesake_of: np.ndarray, names: _Names
) -> None:
    """Hand-made M5 records (substitutes, contractors) carrying a staff member's or pupil's name."""
    manual = np.flatnonzero(roles == "manual")
    staff_pool = np.flatnonzero((roles == "staff") & (namesake_of < 0))
    pupil_pool = np.flatnonzero((roles == "pupil") & (namesake_of < 0))
    k = int(round(manual.size * MANUAL_NAMESAKE_SHARE))
    if not k or not (staff_pool.size or pupil_pool.size):
        return
    from_staff = (rng.random(k) < 0.8) if pupil_pool.size else np.ones(k, dtype=bool)
    if not staff_pool.size:
        from_staff[:] = False
    sources = np.where(
        from_staff,
        staff_pool[rng.integers(0, max(staff_pool.size, 1), k)] if staff_pool.size else 0,
        pupil_pool[rng.integers(0, max(pupil_pool.size, 1), k)] if pupil_pool.size else 0,
    )
    for a, b in zip(sources, manual[:k], strict=True):
        if births[a] == births[b]:
            births[b] = births[b] - np.timedelta64(400, "D")
        names.copy(a, b)
        names.given[b] = (names.given[a][int(names.call[a])],)
        names.call[b] = 0
        namesake_of[b] = a


def _copy_name(a, b, given, call, family, double, intl, male, former) -> None:
    given[b], call[b] = given[a], call[a]
    family[b], double[b], intl[b], male[b] = family[a], double[a], intl[a], male[a]
    former[b] = ""
