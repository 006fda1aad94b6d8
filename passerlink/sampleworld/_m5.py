"""The M5 person database as years of hand entry left it, and the truth about who is who.

Every register person who has an M5 user gets one, typed by a receptionist or a school office
from whatever they were told: call names, nicknames, names without å/ä/ö, one half of a double
name, a maiden name, a personnummer in a custom field now and then. Each deliberate divergence is
drawn with a fixed share (:data:`SHARES`) and written down in the divergence table so that tests
and evaluations can find examples and measure recall per kind.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from passerlink.sampleworld import names as _names
from passerlink.sampleworld._personnummer import format_personnummer, split_dates
from passerlink.sampleworld._population import GRADUATE, Population
from passerlink.sampleworld._pupils import PUPIL_SHARES, write_school
from passerlink.sampleworld._registers import PROTECTED, PupilInfo, StaffInfo

__all__ = ["SHARES", "DIVERGENCE_COLUMNS", "TRUTH_COLUMNS", "build_m5", "M5_INSTALLED"]

M5_INSTALLED = _dt.date(2013, 3, 1)
TRUTH_COLUMNS = ["source", "source_id", "m5_id"]
DIVERGENCE_COLUMNS = ["kind", "source", "source_id", "m5_id", "register_value", "m5_value", "other"]

#: share of eligible M5 records that get each divergence (eligible = the name allows it)
SHARES: dict[str, float] = {
    "staff_in_m5": 0.93,
    "staff_in_m5_not_started": 0.35,
    "pupils_in_m5": 0.90,
    "all_given_names": 0.08,  # M5 first name holds every given name
    "first_given_name_not_call": 0.05,  # M5 has the first given name although another is in use
    "nickname_adult": 0.25,
    "nickname_pupil": 0.10,
    "spelling_given": 0.15,
    "spelling_family": 0.06,
    "double_family_one_part": 0.50,
    "double_family_separator": 0.10,
    "diacritics": 0.25,  # of records whose name has å/ä/ö/é/ü
    "diacritics_digraph": 0.30,  # of those: aa/ae/oe instead of a/a/o
    "typo": 0.03,
    "case": 0.02,
    "swapped_names": 0.007,
    "email_staff": 0.55,
    "email_pupil": 0.35,
    "employment_number": 0.75,
    "employment_number_typo": 0.04,
    "personnummer_field": 0.25,
    "personnummer_typo": 0.02,
    "birth_date_field": 0.35,
    "birth_date_typo": 0.03,
    "manual_personnummer_field": 0.15,
    "manual_birth_date_field": 0.30,
    "department_stale": 0.12,
    "usergroup_stale": 0.03,
    "inactive": 0.02,
    "former_still_active": 0.70,
    "card": 0.40,  # the sample carries cards for some users only (file size)
    "second_blocked_card": 0.08,
}

_NEIGHBOURS = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij", "i": "uok",
    "o": "ipl", "p": "oå", "å": "pä", "a": "qsz", "s": "adw", "d": "sfe", "f": "dgr", "g": "fht",
    "h": "gjy", "j": "hku", "k": "jli", "l": "kö", "ö": "lä", "ä": "öå", "z": "ax", "x": "zc",
    "c": "xv", "v": "cb", "b": "vn", "n": "bm", "m": "n", "é": "e",
}
_DIACRITICS = set("åäöÅÄÖéÉüÜ")
_SPELLING = {v: grp for grp in _names.SPELLING_VARIANTS for v in grp}
_FAMILY_SPELLING = {v: grp for grp in _names.FAMILY_SPELLING_VARIANTS for v in grp}
_PNR_FORMS = ["short_dash", "long", "long_dash", "short", "short_space"]
_PNR_FORM_P = np.cumsum([0.40, 0.25, 0.15, 0.15, 0.05]).tolist()
_DATE_FORMS = ["iso", "dmy_slash", "yymmdd", "yyyymmdd", "dmy_dot"]
_DATE_FORM_P = np.cumsum([0.50, 0.15, 0.20, 0.10, 0.05]).tolist()
_CREATORS = ["admin", "reception", "kansliet"]
#: who creates which kind of M5 user: shares of admin, reception, kansliet (school office)
_STAFF_CREATORS = (0.5, 0.3, 0.2)
_PUPIL_CREATORS = (0.3, 0.0, 0.7)
_CONTRACTOR_CREATORS = (0.3, 0.6, 0.1)
_SUBSTITUTE_CREATORS = (0.2, 0.2, 0.6)
_VISITOR_CREATORS = (0.2, 0.8, 0.0)
_CUMULATIVE = {c: np.cumsum(c).tolist() for c in (
    _STAFF_CREATORS, _PUPIL_CREATORS, _CONTRACTOR_CREATORS, _SUBSTITUTE_CREATORS, _VISITOR_CREATORS)}


#: one divergence as a record gathers it: kind, register value, M5 value, other
_Divergence = tuple[str, str, str, str]
#: one row of the divergence table (:data:`DIVERGENCE_COLUMNS`)
_Row = tuple[str, str, str, str, str, str, str]


@dataclass
class _Draft:
    """An M5 user before it has an id (ids follow creation time)."""

    created: _dt.datetime
    order: int
    user: dict
    source: str = ""
    source_id: str = ""
    divergences: list[_Divergence] = field(default_factory=list)


def _pick(options, u: float):
    return options[min(int(u * len(options)), len(options) - 1)]


def _typo(text: str, u_op: float, u_pos: float) -> str:
    """One keyboard slip: a neighbouring key, a dropped, swapped or doubled letter."""
    positions = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(positions) < 2:
        return text + text[-1:]
    i = positions[1 + min(int(u_pos * (len(positions) - 1)), len(positions) - 2)]
    ch = text[i]
    op = int(u_op * 4)
    if op == 0:
        rep = _pick(_NEIGHBOURS.get(ch.lower(), "e"), u_pos * 7 % 1)
        out = text[:i] + (rep.upper() if ch.isupper() else rep) + text[i + 1:]
    elif op == 1 and len(positions) > 3:
        out = text[:i] + text[i + 1:]
    elif op == 2 and i + 1 < len(text) and text[i + 1] != ch and text[i + 1].isalpha():
        out = text[:i] + text[i + 1] + ch + text[i + 2:]
    else:
        out = text[:i] + ch + text[i:]
    return out if out != text else text[:i] + ch + text[i:]


def _digit_typo(text: str, u_pos: float, u_digit: float) -> str:
    positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    i = positions[min(int(u_pos * len(positions)), len(positions) - 1)]
    new = str((int(text[i]) + 1 + int(u_digit * 8)) % 10)
    return text[:i] + new + text[i + 1:]


def _number_typo(number: int, u_op: float, u_pos: float) -> int:
    s = str(number)
    if len(s) >= 2 and u_op < 0.5:
        i = min(int(u_pos * (len(s) - 1)), len(s) - 2)
        if s[i] != s[i + 1] and not (i == 0 and s[1] == "0"):
            return int(s[:i] + s[i + 1] + s[i] + s[i + 2:])
    i = 1 + min(int(u_pos * (len(s) - 1)), len(s) - 2) if len(s) > 1 else 0
    return int(s[:i] + str((int(s[i]) + 1 + int(u_op * 8)) % 10) + s[i + 1:])


def _write_date(d: _dt.date, form: str) -> str:
    if form == "iso":
        return d.isoformat()
    if form == "dmy_slash":
        return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"
    if form == "yymmdd":
        return f"{d.year % 100:02d}{d.month:02d}{d.day:02d}"
    if form == "yyyymmdd":
        return f"{d.year:04d}{d.month:02d}{d.day:02d}"
    return f"{d.day}.{d.month}.{d.year % 100:02d}"


def _date_typo(d: _dt.date, form: str, u: float) -> str:
    if d.day <= 12 and d.day != d.month:
        return _write_date(_dt.date(d.year, d.day, d.month), form)  # day and month swapped
    return _digit_typo(_write_date(d, form), u, u * 3 % 1)


def _fold(text: str, digraph: bool) -> str:
    return _names.fold_digraph(text) if digraph else _names.fold_ascii(text)


def _stamp(created: _dt.datetime) -> str:
    return created.isoformat(timespec="seconds")


def _choose(cumulative: list[float], u: float) -> int:
    return min(bisect.bisect_right(cumulative, u), len(cumulative) - 1)


def _slips(first: str, last: str, u: list[float], div: list[_Divergence]) -> tuple[str, str]:
    """What typing does to a whole name: å/ä/ö folded, a keyboard slip, caps lock, first and last
    name in each other's field."""
    if _DIACRITICS & set(first + last) and u[8] < SHARES["diacritics"]:
        digraph = u[9] < SHARES["diacritics_digraph"]
        kind = "diacritics_digraph" if digraph else "diacritics_ascii"
        before = f"{first} {last}"
        first, last = _fold(first, digraph), _fold(last, digraph)
        div.append((kind, before, f"{first} {last}", ""))
    if u[10] < SHARES["typo"]:
        before = f"{first} {last}"
        if u[11] < 0.5:
            first = _typo(first, u[12], u[13])
        else:
            last = _typo(last, u[12], u[13])
        div.append(("typo", before, f"{first} {last}", ""))
    if u[14] < SHARES["case"]:
        before = f"{first} {last}"
        first, last = (first.upper(), last.upper()) if u[15] < 0.5 else (first.lower(), last.lower())
        div.append(("case", before, f"{first} {last}", ""))
    if u[16] < SHARES["swapped_names"]:
        div.append(("swapped_names", f"{first} {last}", f"{last} {first}", ""))
        first, last = last, first
    return first, last


class _Builder:
    def __init__(self, rng: np.random.Generator, pop: Population, today: _dt.date) -> None:
        self.rng = rng
        self.pop = pop
        self.today = today
        self.drafts: list[_Draft] = []

    # -- names ----------------------------------------------------------------------------------
    def names(self, p: int, given_field: str, u: list[float], *, pupil: bool,
              record: bool) -> tuple[str, str, list[_Divergence]]:
        """First and last name as typed into M5, and the divergences applied on the way.

        ``u`` holds the record's uniform draws (each divergence reads its own columns), so the
        steps below change no draws; they append to the divergences in the order they apply.
        """
        div: list[_Divergence] = []
        first = self._first_name(p, given_field, u, pupil=pupil, div=div)
        last = self._last_name(p, u, div)
        first, last = _slips(first, last, u, div)
        return first, last, (div if record else [])

    def _first_name(self, p: int, given_field: str, u: list[float], *, pupil: bool,
                    div: list[_Divergence]) -> str:
        """The given name M5 got: perhaps a nickname or another spelling of the one in use."""
        first = self._given_names_typed(p, given_field, u, div)
        nick_share = SHARES["nickname_pupil" if pupil else "nickname_adult"]
        if " " not in first and first in _names.NICKNAMES and u[1] < nick_share:
            nick = _pick(_names.NICKNAMES[first], u[2])
            div.append(("nickname", first, nick, ""))
            first = nick
        elif " " not in first and first in _SPELLING and u[3] < SHARES["spelling_given"]:
            options = [v for v in _SPELLING[first] if v != first]
            variant = _pick(options, u[4])
            div.append(("spelling_given", first, variant, ""))
            first = variant
        return first

    def _given_names_typed(self, p: int, given_field: str, u: list[float],
                           div: list[_Divergence]) -> str:
        """The call name, all given names or the first one (although another is in use),
        compared with what the register's given-name column says."""
        pop = self.pop
        given = pop.given[p]
        call = pop.call_name(p)
        tokens = given_field.split(" ") if given_field else [call]
        first = call
        if len(given) > 1 and u[0] < SHARES["all_given_names"]:
            first = " ".join(given)
        elif len(given) > 1 and pop.call[p] != 0 and u[0] > 1 - SHARES["first_given_name_not_call"]:
            first = given[0]
        if len(tokens) == 1 and " " in first:
            div.append(("all_given_names", given_field, first, ""))
        elif len(tokens) > 1 and " " not in first and first in tokens:
            div.append(("given_names_subset", given_field, first, ""))
            if first != tokens[0]:
                div.append(("second_given_name", given_field, first, ""))
        return first

    def _last_name(self, p: int, u: list[float], div: list[_Divergence]) -> str:
        """The family name M5 got: a maiden name, one half of a double name or the other
        separator, perhaps spelt another way."""
        pop = self.pop
        family = pop.family[p]
        last = family
        if pop.former_family[p]:
            last = pop.former_family[p]
            div.append(("maiden_name", family, last, ""))
        elif pop.double[p]:
            sep = " " if pop.double[p] == 1 else "-"
            parts = family.split(sep, 1)
            if u[5] < SHARES["double_family_one_part"]:
                last = parts[1] if u[6] < 0.6 else parts[0]
                div.append(("double_family_one_part", family, last, ""))
            elif u[5] < SHARES["double_family_one_part"] + SHARES["double_family_separator"]:
                last = parts[0] + ("-" if sep == " " else " ") + parts[1]
                div.append(("double_family_separator", family, last, ""))
        if last in _FAMILY_SPELLING and u[7] < SHARES["spelling_family"]:
            variant = _pick([v for v in _FAMILY_SPELLING[last] if v != last], u[4])
            div.append(("spelling_family", last, variant, ""))
            last = variant
        return last

    def identity_fields(self, p: int, u: list[float], *, allowed: bool = True, manual: bool = False,
                        pupil_reality: bool = False):
        """customfield1 (personnummer as typed) and customfield2 (birth date as typed)."""
        div = []
        cf1 = cf2 = ""
        pnr = self.pop.pnr[p]
        prefix = "manual_" if manual else ""
        shares = PUPIL_SHARES if pupil_reality else {
            "personnummer_field": SHARES[prefix + "personnummer_field"],
            "birth_date_field": SHARES[prefix + "birth_date_field"]}
        if allowed and u[17] < shares["personnummer_field"]:
            form = _PNR_FORMS[_choose(_PNR_FORM_P, u[18])]
            cf1 = format_personnummer(pnr, form, self.today)
            if u[19] < SHARES["personnummer_typo"]:
                typed = _digit_typo(cf1, u[18] * 5 % 1, u[19] * 50 % 1)
                div.append(("personnummer_typo", cf1, typed, ""))
                cf1 = typed
        if allowed and u[20] < shares["birth_date_field"]:
            birth = self.pop.birth[p].astype(object)
            form = _DATE_FORMS[_choose(_DATE_FORM_P, u[21])]
            cf2 = _write_date(birth, form)
            if u[22] < SHARES["birth_date_typo"]:
                typed = _date_typo(birth, form, u[21] * 7 % 1)
                div.append(("birth_date_typo", cf2, typed, ""))
                cf2 = typed
        return cf1, cf2, div

    def created(self, earliest: _dt.date, latest: _dt.date, u_day: float, u_time: float) -> _dt.datetime:
        earliest = max(earliest, M5_INSTALLED)
        latest = min(max(latest, earliest), self.today)
        earliest = min(earliest, latest)
        day = earliest + _dt.timedelta(days=int(u_day * ((latest - earliest).days + 1)))
        return _dt.datetime.combine(day, _dt.time(7)) + _dt.timedelta(seconds=int(u_time * 36000))

    def user(self, created: _dt.datetime, u, *, creators: tuple[float, float, float], **fields) -> dict:
        createdby = _CREATORS[_choose(_CUMULATIVE[creators], u[28])]
        changed = created
        changedby = createdby
        if u[29] < 0.6:
            days = (self.today - created.date()).days
            day = created.date() + _dt.timedelta(days=int(u[30] * (days + 1)))
            moment = _dt.datetime.combine(day, _dt.time(7)) + _dt.timedelta(seconds=int(u[31] * 36000))
            if moment > created:
                changed = moment
                changedby = _pick(_CREATORS, u[30] * 13 % 1)
        base = {
            "id": 0, "firstname": "", "lastname": "", "email": "", "employmentnumber": None,
            "employmenttext": "", "department": "", "usergroup": "", "customfield1": "",
            "customfield2": "", "status": 1, "startdate": "", "enddate": "", "apireference": "",
        }
        base.update(fields)
        base.update({"createdby": createdby, "createddate": _stamp(created),
                     "changedby": changedby, "changeddate": _stamp(changed)})
        return base

    def add(self, draft: _Draft) -> None:
        draft.order = len(self.drafts)
        self.drafts.append(draft)


def _other_unit(current: str, u: float, choices: list[str]) -> str:
    options = [c for c in choices if c != current]
    return _pick(options, u)


def build_m5(
    rng: np.random.Generator,
    pop: Population,
    staff: StaffInfo,
    pupils: PupilInfo,
    former: StaffInfo,
    manual_share: float,
    today: _dt.date,
    *,
    pupil_reality: bool = False,
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """The M5 seed (departments, usergroups, accessgroups, users, cards), truth and divergences.

    ``pupil_reality``: pupils' records hold names and a school written many ways (a birth date
    or personnummer for few), and graduates are still there (``_pupils``). The steps draw from
    ``rng`` in a fixed order (staff, pupils, graduates, former staff, manual records, cards):
    that order is the committed sample world's identity.
    """
    b = _Builder(rng, pop, today)
    unit_names = [u[0] for u in _names.ORG_UNITS]
    school_names = list(dict.fromkeys(
        [s[0] for s in _names.PRIMARY_SCHOOLS + _names.UPPER_SCHOOLS] + [_names.UPPER_SECONDARY_SCHOOL]))
    _staff_drafts(b, staff, unit_names)
    _pupil_drafts(b, pupils, school_names, pupil_reality=pupil_reality)
    if pupil_reality:
        _graduate_drafts(b, pupils, school_names)
    _former_staff_drafts(b, former, unit_names)
    _manual_drafts(b, unit_names)
    _number_by_creation(b.drafts)

    person_key = _person_keys(staff, pupils)
    truth_rows, div_rows = _draft_rows(b.drafts, person_key)
    m5_of = {(s, sid): str(mid) for s, sid, mid in truth_rows}
    div_rows += _pupil_register_rows(pop, pupils, m5_of, person_key)
    div_rows += _staff_register_rows(pop, staff, m5_of, person_key)
    users = [_compact(d.user) for d in b.drafts]
    seed = _seed(rng, users, unit_names, school_names)
    return seed, _truth_frame(truth_rows), _divergence_frame(div_rows)


def _staff_drafts(b: _Builder, staff: StaffInfo, unit_names: list[str]) -> None:
    """Most current staff have an M5 user (fewer of those who have not started yet)."""
    t = np.datetime64(b.today, "D")
    in_m5 = (b.rng.random(staff.idx.size) < np.where(
        staff.hire > t, SHARES["staff_in_m5_not_started"], SHARES["staff_in_m5"])).tolist()
    U = b.rng.random((staff.idx.size, 40)).tolist()
    for j, p in enumerate(staff.idx.tolist()):
        if not in_m5[j]:
            continue
        _staff_draft(b, p, staff, j, U[j], unit_names, source="hr")


def _pupil_drafts(b: _Builder, pupils: PupilInfo, school_names: list[str], *,
                  pupil_reality: bool) -> None:
    """Most pupils have an M5 user, created the August they started school."""
    in_m5 = (b.rng.random(pupils.idx.size) < SHARES["pupils_in_m5"]).tolist()
    U = b.rng.random((pupils.idx.size, 40)).tolist()
    years = split_dates(b.pop.birth[pupils.idx])[0].tolist()
    for j, p in enumerate(pupils.idx.tolist()):
        if not in_m5[j]:
            continue
        _pupil_draft(b, p, pupils, j, U[j], int(years[j]), school_names, pupil_reality=pupil_reality)


def _pupil_draft(b: _Builder, p: int, pupils: PupilInfo, j: int, u: list[float], year: int,
                 school_names: list[str], *, pupil_reality: bool) -> None:
    """One pupil's M5 user; a protected identity has no personnummer, birth date or e-mail."""
    protected = pupils.marking[j] == PROTECTED
    first, last, div = b.names(p, pupils.given_field[j], u, pupil=True, record=True)
    cf1, cf2, div2 = b.identity_fields(p, u, allowed=not protected, pupil_reality=pupil_reality)
    school = pupils.school[j]
    dept = school
    if u[23] < SHARES["department_stale"]:
        dept = _other_unit(school, u[24], school_names)
        div.append(("department_stale", school, dept, ""))
    if pupil_reality:
        dept = _school_written(dept, u[38], div)
    email_share = PUPIL_SHARES["email"] if pupil_reality else SHARES["email_pupil"]
    email = pupils.email[j] if (u[25] < email_share and not protected) else ""
    status = 1
    if u[27] < SHARES["inactive"]:
        status = 0
        div.append(("inactive", "", "0", ""))
    entry = _dt.date(max(year + 6, M5_INSTALLED.year), 8, 10)
    created = b.created(entry, entry + _dt.timedelta(days=40), u[32], u[33])
    user = b.user(created, u, creators=_PUPIL_CREATORS, firstname=first, lastname=last,
                  email=email, department=dept, usergroup="Elev", customfield1=cf1,
                  customfield2=cf2, status=status)
    b.add(_Draft(created, 0, user, "students", pupils.pupil_id[j], div + div2))


def _former_staff_drafts(b: _Builder, former: StaffInfo, unit_names: list[str]) -> None:
    """Former staff: still in M5, gone from HR."""
    U = b.rng.random((former.idx.size, 40)).tolist()
    for j, p in enumerate(former.idx.tolist()):
        _staff_draft(b, p, former, j, U[j], unit_names, source="")


def _manual_drafts(b: _Builder, unit_names: list[str]) -> None:
    """Manual records: contractors, substitutes, visitors (some carry a register person's name)."""
    manual_idx = b.pop.indices("manual")
    U = b.rng.random((manual_idx.size, 40)).tolist()
    care_and_school = [n for n in unit_names if "skola" in n or "Förskol" in n or "Hemtjänst" in n
                       or "boende" in n] + ["Albäcksskolan", "Lindblomskolan", _names.UPPER_SECONDARY_SCHOOL]
    for j, p in enumerate(manual_idx.tolist()):
        _manual_draft(b, p, U[j], care_and_school)


@dataclass
class _ManualRole:
    """What kind of manual record and what its receptionist filled in."""

    group: str  # usergroup
    department: str
    creators: tuple[float, float, float]
    text: str = ""  # employmenttext: the contractor's company
    email: str = ""


def _manual_draft(b: _Builder, p: int, u: list[float], care_and_school: list[str]) -> None:
    """One contractor, substitute or visitor; a namesake carries exactly the register person's
    name."""
    pop = b.pop
    if pop.namesake_of[p] >= 0:
        first, last = pop.call_name(p), pop.family[p]
    else:
        first, last, _ = b.names(p, pop.given[p][0], u, pupil=False, record=False)
    role = _manual_role(pop, p, u, first, last, care_and_school)
    cf1, cf2, _ = b.identity_fields(p, u, manual=True)
    created = b.created(b.today - _dt.timedelta(days=6 * 365), b.today, u[32], u[33])
    end = ""
    if (role.group != "Vikarie" or u[34] < 0.5) and u[35] < 0.6:
        end = (created.date() + _dt.timedelta(days=30 + int(u[36] * 370))).isoformat()
    user = b.user(created, u, creators=role.creators, firstname=first, lastname=last,
                  email=role.email, employmenttext=role.text, department=role.department,
                  usergroup=role.group, customfield1=cf1, customfield2=cf2, enddate=end)
    draft = _Draft(created, 0, user, "", "", [("manual", "", role.group, "")])
    if pop.namesake_of[p] >= 0:
        draft.divergences.append(("namesake_manual", "", f"{first} {last}", f"person:{int(pop.namesake_of[p])}"))
    b.add(draft)


def _manual_role(pop: Population, p: int, u: list[float], first: str, last: str,
                 care_and_school: list[str]) -> _ManualRole:
    """Contractor (company, a technical department, now and then a company address), substitute
    (a care or school unit, now and then a private address) or visitor."""
    if u[23] < 0.40:
        company = _pick(_names.CONTRACTOR_COMPANIES, u[24])
        dept = "Entreprenörer" if u[25] < 0.6 else _pick(
            ["Tekniska förvaltningen", "Fastighetsavdelningen", "VA-avdelningen"], u[26])
        email = ""
        if u[27] < 0.3:
            domain = "".join(ch for ch in _names.fold_ascii(company.split(" ")[0].lower()) if ch.isalnum())
            email = f"{_email_local(first, last)}@{domain}.se"
        return _ManualRole("Entreprenör", dept, _CONTRACTOR_CREATORS, text=company, email=email)
    if u[23] < 0.75:
        dept = _pick(care_and_school, u[24])
        email = ""
        if u[27] < 0.15:
            year = int(str(pop.birth[p])[2:4])
            email = f"{_email_local(first, last)}{year:02d}@{_pick(['gmail.com', 'hotmail.com', 'outlook.com'], u[25])}"
        return _ManualRole("Vikarie", dept, _SUBSTITUTE_CREATORS, email=email)
    return _ManualRole("Besökare", "Besökare", _VISITOR_CREATORS)


def _email_local(first: str, last: str) -> str:
    """``first.last`` as people make up their own address: the first given name, ASCII only."""
    return f"{_names.fold_ascii(first.split(' ')[0]).lower()}.{_names.fold_ascii(last).lower().replace(' ', '')}"


def _number_by_creation(drafts: list[_Draft]) -> None:
    """Ids follow creation time, as in a real database."""
    drafts.sort(key=lambda d: (d.created, d.order))
    for i, d in enumerate(drafts, start=1):
        d.user["id"] = i


def _draft_rows(drafts: list[_Draft], person_key: dict[int, str]
                ) -> tuple[list[tuple[str, str, int]], list[_Row]]:
    """The truth (source, source id, M5 id) and the divergences recorded on the M5 records,
    ``person:N`` resolved to the register key of population index N."""
    truth_rows: list[tuple[str, str, int]] = []
    div_rows: list[_Row] = []
    for d in drafts:
        if d.source:
            truth_rows.append((d.source, d.source_id, d.user["id"]))
        for kind, reg, m5v, other in d.divergences:
            if other.startswith("person:"):
                other = person_key.get(int(other.split(":")[1]), "")
            div_rows.append((kind, d.source, d.source_id, str(d.user["id"]), reg, m5v, other))
    return truth_rows, div_rows


def _pupil_register_rows(pop: Population, pupils: PupilInfo, m5_of: dict[tuple[str, str], str],
                         person_key: dict[int, str]) -> list[_Row]:
    """What the school register itself plants: twins, namesakes, siblings, samordningsnummer,
    protected identities."""
    rows: list[_Row] = []
    for j, p in enumerate(pupils.idx.tolist()):
        sid = pupils.pupil_id[j]
        mid = m5_of.get(("students", sid), "")
        if pop.twin_of[p] >= 0:
            rows.append(("twin", "students", sid, mid, "", "", person_key[int(pop.twin_of[p])]))
        if pop.namesake_of[p] >= 0:
            rows.append(("namesake", "students", sid, mid, "", "", person_key[int(pop.namesake_of[p])]))
        if pop.family_id is not None and pop.family_id[p] >= 0:
            rows.append(("sibling", "students", sid, mid, "", "", str(int(pop.family_id[p]))))
        if pop.coordination[p]:
            rows.append(("samordningsnummer", "students", sid, mid, "", "", ""))
        if pupils.marking[j]:
            rows.append(("protected_identity", "students", sid, mid, pupils.marking[j], "", ""))
    return rows


def _staff_register_rows(pop: Population, staff: StaffInfo, m5_of: dict[tuple[str, str], str],
                         person_key: dict[int, str]) -> list[_Row]:
    """What the HR register itself plants: namesakes and samordningsnummer."""
    rows: list[_Row] = []
    for j, p in enumerate(staff.idx.tolist()):
        sid = str(staff.employee_number[j])
        mid = m5_of.get(("hr", sid), "")
        if pop.namesake_of[p] >= 0:
            rows.append(("namesake", "hr", sid, mid, "", "", person_key[int(pop.namesake_of[p])]))
        if pop.coordination[p]:
            rows.append(("samordningsnummer", "hr", sid, mid, "", "", ""))
    return rows


def _truth_frame(truth_rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    """HR links first, each source by M5 id."""
    truth = pd.DataFrame(
        sorted(truth_rows, key=lambda r: (r[0] != "hr", r[2])), columns=TRUTH_COLUMNS)
    truth["m5_id"] = truth["m5_id"].astype(np.int64)
    return truth


def _divergence_frame(div_rows: list[_Row]) -> pd.DataFrame:
    """The divergence table, all ``str``; with its columns even when nothing diverged."""
    if div_rows:
        return pd.DataFrame(div_rows, columns=DIVERGENCE_COLUMNS, dtype=str)
    return pd.DataFrame({c: pd.Series([], dtype=str) for c in DIVERGENCE_COLUMNS})


def _seed(rng: np.random.Generator, users: list[dict], unit_names: list[str],
          school_names: list[str]) -> dict:
    """The M5 seed file's tables; the cards are the generator's last draws."""
    return {
        "departments": _departments(users, unit_names, school_names),
        "usergroups": [{"id": i, "groupname": g, "groupdata": ""} for i, g in
                       enumerate(["Personal", "Elev", "Entreprenör", "Besökare", "Vikarie"], start=1)],
        "accessgroups": [
            {"id": i, "name": name, "blocked": blocked, "startdate": "",
             "enddate": "2019-06-30" if blocked else "", "timeperiod": period}
            for i, (name, blocked, period) in enumerate(_names.ACCESS_GROUPS, start=1)],
        "users": users,
        "cards": _cards(rng, users),
    }


def _school_written(school: str, u: float, div: list) -> str:
    written = write_school(school, u)
    if written != school:
        div.append(("school_written", school, written, ""))
    return written


def _graduate_drafts(b: _Builder, pupils: PupilInfo, school_names: list[str]) -> None:
    """Former pupils still in M5 (``Elev``, mostly active) at their last school: for a sibling of a
    current pupil, usually that pupil's school; some under the sibling's given name, a few of
    those with the family name spelt another way (Persson for Pettersson)."""
    pop = b.pop
    graduates = pop.indices(GRADUATE)
    U = b.rng.random((graduates.size, 40)).tolist()
    school_of = {int(p): pupils.school[j] for j, p in enumerate(pupils.idx.tolist())}
    years = split_dates(pop.birth[graduates])[0].tolist() if graduates.size else []
    for j, p in enumerate(graduates.tolist()):
        u = U[j]
        sib = int(pop.sibling_of[p]) if pop.sibling_of is not None else -1
        first, last, _ = b.names(p, " ".join(pop.given[p]), u, pupil=True, record=False)
        kind = "graduate"
        if sib >= 0 and pop.sibling_name is not None and pop.sibling_name[p]:
            kind = "graduate_sibling_name"
            if last in _FAMILY_SPELLING and u[39] < PUPIL_SHARES["graduate_family_variant"]:
                last = _pick([v for v in _FAMILY_SPELLING[last] if v != last], u[4])
        if sib >= 0 and u[23] < PUPIL_SHARES["graduate_sibling_school"]:
            school = school_of.get(sib, _names.UPPER_SECONDARY_SCHOOL)
        else:
            school = _pick(school_names, u[24])
        dept = write_school(school, u[38])
        cf1, cf2, _ = b.identity_fields(p, u, pupil_reality=True)
        status = 1 if u[27] < PUPIL_SHARES["graduate_active"] else 0
        entry = _dt.date(max(int(years[j]) + 6, M5_INSTALLED.year), 8, 10)
        created = b.created(entry, entry + _dt.timedelta(days=40), u[32], u[33])
        user = b.user(created, u, creators=_PUPIL_CREATORS, firstname=first, lastname=last,
                      department=dept, usergroup="Elev", customfield1=cf1, customfield2=cf2, status=status)
        other = f"person:{sib}" if sib >= 0 else ""
        b.add(_Draft(created, 0, user, "", "", [(kind, "", f"{first} {last}", other)]))


def _person_keys(staff: StaffInfo, pupils: PupilInfo) -> dict[int, str]:
    keys = {int(p): f"hr:{staff.employee_number[j]}" for j, p in enumerate(staff.idx.tolist())}
    keys.update({int(p): f"students:{pupils.pupil_id[j]}" for j, p in enumerate(pupils.idx.tolist())})
    return keys


def _staff_draft(b: _Builder, p: int, info: StaffInfo, j: int, u: list[float],
                 unit_names: list[str], *, source: str) -> None:
    """One staff member's M5 user: linked to HR (``source="hr"``) or a former employee still in
    M5 (``source=""``, whose divergences other than ``former_staff`` are not recorded)."""
    linked = bool(source)
    first, last, div = b.names(p, info.given_field[j], u, pupil=False, record=linked)
    cf1, cf2, div2 = b.identity_fields(p, u)
    if not linked:
        div2 = []
    unit = info.unit[j]
    dept = unit
    if u[23] < SHARES["department_stale"]:
        dept = _other_unit(unit, u[24], unit_names)
        div.append(("department_stale", unit, dept, ""))
    email = _staff_email(b.pop, p, info, j, u, div)
    number = _employment_number(info, j, u, div)
    group = "Personal"
    if u[37] < SHARES["usergroup_stale"]:
        group = "Vikarie"
        div.append(("usergroup_stale", "Personal", group, ""))
    if linked:
        created, status, enddate = _current_staff_dates(b, info, j, u, div)
    else:
        created, status, enddate = _former_staff_dates(b, info, j, u)
        div.append(("former_staff", "", f"{first} {last}", ""))
    user = b.user(created, u, creators=_STAFF_CREATORS, firstname=first, lastname=last,
                  email=email, employmentnumber=number, department=dept, usergroup=group,
                  customfield1=cf1, customfield2=cf2, status=status, enddate=enddate)
    b.add(_Draft(created, 0, user, source, str(info.employee_number[j]) if linked else "", div + div2))


def _staff_email(pop: Population, p: int, info: StaffInfo, j: int, u: list[float],
                 div: list[_Divergence]) -> str:
    """The address in M5, if any: the one under the maiden name for someone who married since."""
    email = ""
    if u[25] < SHARES["email_staff"]:
        email = info.email_before[j] if pop.former_family[p] else info.email[j]
        if email and info.email[j] and email != info.email[j]:
            div.append(("old_email", info.email[j], email, ""))
    return email


def _employment_number(info: StaffInfo, j: int, u: list[float], div: list[_Divergence]) -> int | None:
    """The employment number in M5, if any, now and then with a slip."""
    number = None
    if u[26] < SHARES["employment_number"]:
        number = int(info.employee_number[j])
        if u[34] < SHARES["employment_number_typo"]:
            typed = _number_typo(number, u[35], u[36])
            div.append(("employment_number_typo", str(number), str(typed), ""))
            number = typed
    return number


def _current_staff_dates(b: _Builder, info: StaffInfo, j: int, u: list[float],
                         div: list[_Divergence]) -> tuple[_dt.datetime, int, str]:
    """Created around the hire date (or M5's installation, or lately for who starts soon),
    active but for a few; no end date."""
    hire = info.hire[j].astype(object)
    status = 1
    if u[27] < SHARES["inactive"]:
        status = 0
        div.append(("inactive", "", "0", ""))
    if hire < M5_INSTALLED:
        created = b.created(M5_INSTALLED, M5_INSTALLED + _dt.timedelta(days=60), u[32], u[33])
    elif hire > b.today:
        created = b.created(b.today - _dt.timedelta(days=20), b.today, u[32], u[33])
    else:
        created = b.created(hire - _dt.timedelta(days=10), hire, u[32], u[33])
    return created, status, ""


def _former_staff_dates(b: _Builder, info: StaffInfo, j: int,
                        u: list[float]) -> tuple[_dt.datetime, int, str]:
    """Created while employed; mostly still active, some with the end date typed in."""
    hire = info.hire[j].astype(object)
    end = info.end[j].astype(object)
    status = 1 if u[27] < SHARES["former_still_active"] else 0
    enddate = end.isoformat() if u[38] < 0.3 else ""
    start = M5_INSTALLED if hire < M5_INSTALLED else hire - _dt.timedelta(days=10)
    created = b.created(start, min(start + _dt.timedelta(days=60), end - _dt.timedelta(days=30)), u[32], u[33])
    return created, status, enddate


#: user fields always present; the others are left out when empty (keeps the committed seed small)
_ALWAYS = ("id", "firstname", "lastname", "department", "usergroup", "status", "apireference",
           "createdby", "createddate", "changedby", "changeddate")


def _compact(user: dict) -> dict:
    return {k: v for k, v in user.items() if k in _ALWAYS or v not in ("", None)}


def _departments(users: list[dict], unit_names: list[str], school_names: list[str]) -> list[dict]:
    codes = {u[0]: u[3] for u in _names.ORG_UNITS}
    names = list(dict.fromkeys(unit_names + school_names + ["Entreprenörer", "Besökare"]))
    names += sorted({u["department"] for u in users} - set(names))
    return [{"id": i, "departmentname": n, "departmentdata": codes.get(n, "")}
            for i, n in enumerate(names, start=1)]


def _cards(rng: np.random.Generator, users: list[dict]) -> list[dict]:
    n = len(users)
    u = rng.random((n, 4))
    wanted = int(n * 1.2) + 10
    identities = list(dict.fromkeys(rng.integers(10**9, 10**10, size=wanted).tolist()))
    cards: list[dict] = []
    labels = {"Elev": "Elevkort", "Entreprenör": "Entreprenörskort", "Besökare": "Besökskort"}
    for j, user in enumerate(users):
        if u[j, 0] >= SHARES["card"]:
            continue
        start = user["createddate"][:10]
        label = labels.get(user["usergroup"], "Passerkort")
        kind = 2 if u[j, 2] < 0.3 else 1  # 1 card, 2 key tag
        if u[j, 1] < SHARES["second_blocked_card"]:
            cards.append({"id": 0, "fkusernumber": user["id"], "name": label, "type": 1,
                          "cardidentity": str(identities.pop()), "isblocked": True,
                          "startdate": start})
        card = {"id": 0, "fkusernumber": user["id"], "name": label, "type": kind,
                "cardidentity": str(identities.pop()), "isblocked": user["status"] == 0,
                "startdate": start}
        if user.get("enddate"):
            card["enddate"] = user["enddate"]
        cards.append(card)
    for i, card in enumerate(cards, start=1):
        card["id"] = i
    return cards
