"""The two registers as their systems export them: an HR file and a school-system file.

Both frames hold ``str`` only (``""`` for empty), exactly what a reader with ``dtype=str`` gets
back from the written files. Alongside each frame comes what M5 needs to know about the same
people (e-mail addresses before a name change, employment numbers as integers, ...).
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd

from passerlink.sampleworld import names as _names
from passerlink.sampleworld._personnummer import format_personnummer, split_dates
from passerlink.sampleworld._population import Population
from passerlink.sampleworld._pupils import PUPIL_SHARES

__all__ = [
    "HR_COLUMNS",
    "STUDENT_COLUMNS",
    "StaffInfo",
    "PupilInfo",
    "EmailBook",
    "build_staff",
    "staff_frame",
    "build_students",
    "school_year_start",
]

HR_COLUMNS = [
    "Anställningsnummer", "Förnamn", "Tilltalsnamn", "Efternamn", "Personnummer", "E-post",
    "Enhet", "Befattning", "Anställningsform", "Anställningsdatum", "Slutdatum",
]
STUDENT_COLUMNS = [
    "Elev-ID", "Personnummer", "Förnamn", "Mellannamn", "Efternamn", "Skola", "Klass", "E-post",
    "Skyddad",
]
STAFF_DOMAIN = "hultsfred.se"
PUPIL_DOMAIN = "edu.hultsfred.se"
PROTECTED = "Skyddad folkbokföring"
CONFIDENTIAL = "Sekretessmarkering"

_NOT_LOCAL = re.compile(r"[^a-z0-9.-]")


class EmailBook:
    """Hands out unique ``firstname.lastname@domain`` addresses, numbering the second Anna."""

    def __init__(self, domain: str) -> None:
        self.domain = domain
        self._used: dict[str, int] = {}

    def issue(self, given: str, family: str) -> str:
        local = _NOT_LOCAL.sub("", _names.fold_ascii(f"{given}.{family}").lower().replace(" ", "-"))
        count = self._used.get(local, 0) + 1
        self._used[local] = count
        suffix = "" if count == 1 else str(count)
        return f"{local}{suffix}@{self.domain}"


@dataclass
class StaffInfo:
    """What the HR side knows of staff (current or former), aligned with ``idx``."""

    idx: np.ndarray  # population indices
    employee_number: np.ndarray  # int
    unit: list[str]
    title: list[str]
    email: list[str]  # the address in HR ("" if none)
    email_before: list[str]  # the address under the former family name ("" if none)
    hire: np.ndarray  # datetime64[D]
    end: np.ndarray  # datetime64[D], NaT if open-ended
    form: np.ndarray  # FAST / VISSTID / PROV / TIM
    given_field: list[str]  # what the register's given-name column (Förnamn) says
    call_field: list[str]  # what Tilltalsnamn says ("" if empty)


@dataclass
class PupilInfo:
    idx: np.ndarray
    pupil_id: list[str]
    school: list[str]
    klass: list[str]
    email: list[str]
    marking: list[str]  # "", CONFIDENTIAL or PROTECTED
    given_field: list[str]


def _iso(d: np.datetime64) -> str:
    return "" if np.isnat(d) else str(d)


def school_year_start(today: _dt.date) -> int:
    """The calendar year the current school year started (it starts in August)."""
    return today.year if today.month >= 7 else today.year - 1


def build_staff(
    rng: np.random.Generator,
    pop: Population,
    idx: np.ndarray,
    today: _dt.date,
    numbers: np.ndarray,
    emails: EmailBook,
    *,
    former: bool,
) -> StaffInfo:
    """Employment details for current (``former=False``) or former staff.

    The steps draw from ``rng`` in a fixed order (units and titles, hire dates, contracts, name
    fields and addresses): that order is the committed sample world's identity.
    """
    n = idx.size
    t = np.datetime64(today, "D")
    unit, title = _draw_units(rng, n)
    hire = _draw_hire(rng, pop, idx, t)
    if former:
        hire, end, forms = _former_contracts(rng, hire, t)
    else:
        hire, end, forms = _current_contracts(rng, hire, t)
    given_field, call_field, email, before = _draw_name_fields(rng, pop, idx, emails)
    return StaffInfo(idx=idx, employee_number=numbers, unit=unit, title=title, email=email,
                     email_before=before, hire=hire, end=end, form=forms,
                     given_field=given_field, call_field=call_field)


def _draw_units(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    """Each employee's unit (by the units' weights) and a title common in that unit."""
    units, unit_w, unit_titles = zip(*[(u[0], u[1], u[2]) for u in _names.ORG_UNITS], strict=True)
    w = np.array(unit_w, dtype=float)
    unit_i = rng.choice(len(units), size=n, p=w / w.sum())
    u_title = rng.random(n)
    unit = [units[i] for i in unit_i.tolist()]
    cumulative = []
    for titles in unit_titles:  # the first title of a unit is the common one, the last is the boss
        tw = 1.0 / (np.arange(len(titles)) + 1.0) ** 1.6
        cumulative.append(np.cumsum(tw / tw.sum()))
    title = [unit_titles[i][min(int(np.searchsorted(cumulative[i], u)), len(unit_titles[i]) - 1)]
             for i, u in zip(unit_i.tolist(), u_title.tolist(), strict=True)]
    return unit, title


def _draw_hire(rng: np.random.Generator, pop: Population, idx: np.ndarray, t: np.datetime64) -> np.ndarray:
    """A hire date between the year someone turned 19 (1985 at the earliest) and today."""
    years, _, _ = split_dates(pop.birth[idx])
    earliest = np.maximum(
        (years + 19 - 1970).astype("datetime64[Y]").astype("datetime64[D]"), np.datetime64("1985-01-01")
    )
    span = (t - earliest).astype(np.int64)
    hire: np.ndarray = earliest + (rng.random(idx.size) * span).astype(np.int64).astype("timedelta64[D]")
    return hire


def _former_contracts(
    rng: np.random.Generator, hire: np.ndarray, t: np.datetime64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Former staff: permanent, left between 2014 and a month ago after at least half a year."""
    n = hire.size
    left = np.datetime64("2014-01-01") + (rng.random(n) * ((t - 30) - np.datetime64("2014-01-01")).astype(np.int64)).astype(np.int64).astype("timedelta64[D]")
    hire = np.minimum(hire, left - 180)
    forms = np.full(n, "FAST", dtype=object)
    return hire, left, forms


def _current_contracts(
    rng: np.random.Generator, hire: np.ndarray, t: np.datetime64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Current staff: the form of employment (FAST / VISSTID / PROV / TIM), hire dates that fit
    it (a few start in the coming months) and end dates for the fixed-term ones."""
    n = hire.size
    end = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    forms = rng.choice(np.array(["FAST", "VISSTID", "PROV", "TIM"], dtype=object), size=n,
                       p=[0.75, 0.14, 0.04, 0.07])
    u = rng.random((n, 3))
    days = lambda lo, hi, col: (lo + u[:, col] * (hi - lo)).astype(np.int64).astype("timedelta64[D]")  # noqa: E731
    prov = forms == "PROV"
    hire = np.where(prov, t - days(0, 180, 0), hire)
    visstid = forms == "VISSTID"
    hire = np.where(visstid, t - days(0, 700, 0), hire)
    tim = forms == "TIM"
    hire = np.where(tim, t - days(0, 1500, 0), hire)
    future = rng.random(n) < 0.02
    hire = np.where(future, t + days(1, 90, 1), hire)
    end = np.where(prov, hire + np.timedelta64(182, "D"), end)
    ended_recently = u[:, 2] < 0.10
    vend = np.where(ended_recently, t - days(1, 60, 1), t + days(1, 365, 1))
    end = np.where(visstid, np.maximum(vend, hire + np.timedelta64(30, "D")), end)
    end = np.where(tim & (u[:, 2] < 0.5), t + days(30, 365, 1), end)
    fast_end = (forms == "FAST") & (u[:, 2] > 0.97)
    end = np.where(fast_end, t + days(1, 180, 1), end)
    end = np.where(np.isnat(end), end, np.maximum(end, hire + np.timedelta64(30, "D")))
    return hire, end, forms


def _draw_name_fields(
    rng: np.random.Generator, pop: Population, idx: np.ndarray, emails: EmailBook
) -> tuple[list[str], list[str], list[str], list[str]]:
    """What HR's Förnamn and Tilltalsnamn columns say, the address in HR and the one under the
    former family name (some addresses were never renamed after a marriage, a few are missing)."""
    email: list[str] = []
    before: list[str] = []
    given_field: list[str] = []
    call_field: list[str] = []
    u_mail = rng.random((idx.size, 4))
    for j, p in enumerate(idx.tolist()):
        call = pop.call_name(p)
        given = pop.given[p]
        if len(given) == 1 or u_mail[j, 2] < 0.75:
            given_field.append(" ".join(given))
            call_field.append(call if u_mail[j, 3] < (0.4 if len(given) == 1 else 0.7) else "")
        else:
            given_field.append(call)
            call_field.append(call if u_mail[j, 3] < 0.3 else "")
        old = pop.former_family[p]
        before.append(emails.issue(call, old) if old else "")
        current = emails.issue(call, pop.family[p])
        if old and u_mail[j, 0] < 0.5:
            current = before[-1]  # the address was never renamed after the marriage
        email.append("" if u_mail[j, 1] < 0.04 else current)
    return given_field, call_field, email, before


def staff_frame(
    rng: np.random.Generator, pop: Population, info: StaffInfo, today: _dt.date
) -> pd.DataFrame:
    """The HR export, personnummer written the mixed ways HR clerks write them."""
    n = info.idx.size
    pnr_forms = rng.choice(["short_dash", "long", "long_dash"], size=n, p=[0.70, 0.15, 0.15])
    rows = []
    for j, p in enumerate(info.idx.tolist()):
        rows.append((
            str(info.employee_number[j]), info.given_field[j], info.call_field[j], pop.family[p],
            format_personnummer(pop.pnr[p], str(pnr_forms[j]), today), info.email[j],
            info.unit[j], info.title[j], str(info.form[j]), _iso(info.hire[j]), _iso(info.end[j]),
        ))
    return pd.DataFrame(rows, columns=HR_COLUMNS, dtype=str) if rows else pd.DataFrame(
        {c: pd.Series([], dtype=str) for c in HR_COLUMNS})


def _per_household(rng: np.random.Generator, house: np.ndarray, choice: np.ndarray, p: np.ndarray) -> np.ndarray:
    """One school per household (``house`` -1: the pupil's own draw): siblings go to one school."""
    n_house = int(house.max()) + 1 if (house >= 0).any() else 0
    if not n_house:
        return choice
    picked = rng.choice(len(p), size=n_house, p=p)
    return np.where(house >= 0, picked[np.maximum(house, 0)], choice)


def build_students(
    rng: np.random.Generator, pop: Population, idx: np.ndarray, today: _dt.date, *, households: bool = False
) -> tuple[pd.DataFrame, PupilInfo]:
    """The school system's export of every enrolled pupil.

    With ``households`` (the pupil-realistic world) siblings go to the same school at each stage
    and twins are nearly always in one class.
    """
    n = idx.size
    sy = school_year_start(today)
    years, _, _ = split_dates(pop.birth[idx])
    grade = sy - years - 6
    prim = _names.PRIMARY_SCHOOLS
    upper = _names.UPPER_SCHOOLS
    pw = np.array([s[4] for s in prim], dtype=float)
    uw = np.array([s[4] for s in upper], dtype=float)
    prim_i = rng.choice(len(prim), size=n, p=pw / pw.sum())
    upper_i = rng.choice(len(upper), size=n, p=uw / uw.sum())
    progs = _names.UPPER_SECONDARY_PROGRAMMES
    prog_w = 1.0 / (np.arange(len(progs)) + 2.0)
    prog_i = rng.choice(len(progs), size=n, p=prog_w / prog_w.sum())
    u = rng.random((n, 6))
    raw = rng.bytes(16 * n)
    twins_together = 0.7
    if households and pop.family_id is not None and n:
        prim_i = _per_household(rng, pop.family_id[idx], prim_i, pw / pw.sum())
        upper_i = _per_household(rng, pop.family_id[idx], upper_i, uw / uw.sum())
        twins_together = PUPIL_SHARES["twins_same_class"]
    emails = EmailBook(PUPIL_DOMAIN)
    info = PupilInfo(idx=idx, pupil_id=[], school=[], klass=[], email=[], marking=[], given_field=[])
    rows = []
    twin_class: dict[int, tuple[str, str]] = {}
    for j, p in enumerate(idx.tolist()):
        g = int(grade[j])
        if g <= 6:
            school, _, _, parallel, _ = prim[prim_i[j]]
            klass = f"{'F' if g == 0 else g}{'ABCD'[int(u[j, 0] * parallel)]}"
        elif g <= 9:
            school, _, _, parallel, _ = upper[upper_i[j]]
            klass = f"{g}{'ABCD'[int(u[j, 0] * parallel)]}"
        else:
            school = _names.UPPER_SECONDARY_SCHOOL
            prog = "IM" if g > 12 else progs[prog_i[j]]
            klass = f"{prog}{(sy - min(g, 12) + 10) % 100:02d}"
        twin = int(pop.twin_of[p])
        if twin in twin_class and u[j, 1] < twins_together:
            school, klass = twin_class[twin]
        twin_class[p] = (school, klass)
        pupil_id = str(uuid.UUID(bytes=raw[16 * j: 16 * j + 16], version=4))
        given = pop.given[p]
        family = pop.family[p]
        middle = ""
        if pop.double[p] == 1 and u[j, 2] < 0.5:
            middle, family = family.split(" ", 1)
        mail = emails.issue(pop.call_name(p), pop.family[p])
        if u[j, 3] < 0.05:
            mail = ""
        marking = PROTECTED if u[j, 4] < 0.005 else (CONFIDENTIAL if u[j, 4] < 0.01 else "")
        form = "long" if u[j, 5] < 0.95 else "long_dash"
        first = " ".join(given)
        info.pupil_id.append(pupil_id)
        info.school.append(school)
        info.klass.append(klass)
        info.email.append(mail)
        info.marking.append(marking)
        info.given_field.append(first)
        rows.append((pupil_id, format_personnummer(pop.pnr[p], form, today), first, middle,
                     family, school, klass, mail, marking))
    frame = pd.DataFrame(rows, columns=STUDENT_COLUMNS, dtype=str) if rows else pd.DataFrame(
        {c: pd.Series([], dtype=str) for c in STUDENT_COLUMNS})
    return frame, info
