"""The sample municipality's pupil register as an SS 12000 v2 school platform would serve it.

The same pupils as ``students.csv`` (same ids, names, personnummer, school, e-mail and marking),
so the demo and the matching truth hold for either form, but dressed as SS 12000 holds them:

* every pupil has a current enrolment at their school (``schoolType``/``schoolYear`` from the
  class); about a third also one at an earlier school that has ended, a few a cancelled one,
  and a few a change of school next term (the current enrolment ends, a future one waits);
* e-mails are typed: the school's is ``Skola elev``; about a fifth also have a ``Privat`` one,
  listed first;
* references to school units carry ``displayName`` only sometimes (servers vary), the names
  being in ``organisations``;
* guardians (``responsibles``) and school staff with ``duties`` are persons too: a reader that
  takes everyone from ``/persons`` gets them;
* a few pupils have ``personStatus`` Utvandrad.

Deterministic for a world (``seed``); ``ss12000_bytes`` writes one record per line so the
committed file diffs readably.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import uuid
from typing import Any

import numpy as np
import pandas as pd

from passerlink.sampleworld import names as _names

__all__ = ["render_ss12000", "ss12000_bytes", "SS12000_FILE"]

SS12000_FILE = "ss12000.json"
_NAMESPACE = uuid.UUID("6f1d2b9e-5a55-4c43-9b1e-2f0f5d1c1200")
_SHARES = {"earlier_school": 0.33, "cancelled": 0.02, "moves_next_term": 0.02, "private_email": 0.2,
           "guardian": 0.6, "emigrated": 0.003, "name_in_reference": 0.5}
_STAFF = 40
_DIGITS = re.compile(r"\D+")
_PROTECTED = "Skyddad folkbokföring"


def _id(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def _school_type(klass: str) -> tuple[str, int]:
    """(schoolType, schoolYear) of a class name: F -> FKLASS 0, 1–9 -> GR, programme -> GY."""
    if klass.startswith("F"):
        return "FKLASS", 0
    if klass[:1].isdigit():
        return "GR", int(klass[0])
    return "GY", 1


def _birth(pnr: str) -> str:
    digits = _DIGITS.sub("", pnr)
    if len(digits) != 12:
        return ""
    day = int(digits[6:8])
    return f"{digits[:4]}-{digits[4:6]}-{day - 60 if day > 60 else day:02d}"


def _meta(today: _dt.date) -> dict[str, str]:
    stamp = f"{today.isoformat()}T02:00:00Z"
    return {"created": stamp, "modified": stamp}


def _organisations(schools: list[str], today: _dt.date) -> list[dict[str, Any]]:
    owner = _id("org", "Hultsfreds kommun")
    orgs: list[dict[str, Any]] = [{"id": owner, "displayName": "Hultsfreds kommun", "organisationType": "Huvudman",
                                   "municipalityCode": "0860", "meta": _meta(today)}]
    for i, name in enumerate(schools):
        orgs.append({"id": _id("org", name), "displayName": name, "organisationType": "Skolenhet",
                     "schoolUnitCode": f"{86012340 + i}", "municipalityCode": "0860",
                     "parentOrganisation": {"id": owner}, "meta": _meta(today)})
    return orgs


def _ref(school: str, named: bool) -> dict[str, str]:
    return {"id": _id("org", school), "displayName": school} if named else {"id": _id("org", school)}


def _enrolments(rng: np.random.Generator, school: str, klass: str, schools: list[str],
                today: _dt.date) -> list[dict[str, Any]]:
    """Current at ``school``; maybe an ended one before, a cancelled one, a change next term."""
    kind, year = _school_type(klass)
    term = _dt.date(today.year if today.month >= 7 else today.year - 1, 8, 18)
    started = term.replace(year=term.year - min(year, 3))
    current: dict[str, Any] = {"enroledAt": _ref(school, rng.random() < _SHARES["name_in_reference"]),
                               "schoolType": kind, "schoolYear": year, "startDate": started.isoformat()}
    out = [current]
    others = [s for s in schools if s != school]
    if rng.random() < _SHARES["earlier_school"] and others and year > 0:
        before = others[int(rng.integers(len(others)))]
        out.insert(0, {"enroledAt": _ref(before, rng.random() < 0.5), "schoolType": "GR",
                       "schoolYear": max(year - 1, 0), "startDate": started.replace(year=started.year - 2).isoformat(),
                       "endDate": (started - _dt.timedelta(days=60)).isoformat()})
    if rng.random() < _SHARES["cancelled"] and others:
        elsewhere = others[int(rng.integers(len(others)))]
        out.append({"enroledAt": _ref(elsewhere, False), "schoolType": kind, "schoolYear": year,
                    "startDate": (today - _dt.timedelta(days=20)).isoformat(), "cancelled": True})
    if rng.random() < _SHARES["moves_next_term"] and others:
        spring = _dt.date(today.year + (1 if today.month >= 7 else 0), 1, 8)
        current["endDate"] = (spring - _dt.timedelta(days=1)).isoformat()
        nxt = others[int(rng.integers(len(others)))]
        out.append({"enroledAt": _ref(nxt, rng.random() < 0.5), "schoolType": kind, "schoolYear": year,
                    "startDate": spring.isoformat()})
    return out


def _emails(rng: np.random.Generator, school_mail: str, given: str, family: str, n: int) -> list[dict[str, str]]:
    emails = [{"value": school_mail, "type": "Skola elev"}] if school_mail else []
    if rng.random() < _SHARES["private_email"]:
        local = f"{_names.fold_ascii(given.split(' ')[0]).lower()}.{_names.fold_ascii(family).lower()}{n % 97}"
        emails.insert(0, {"value": f"{local.replace(' ', '')}@example.com", "type": "Privat"})
    return emails


def _pupil(rng: np.random.Generator, row: dict[str, str], schools: list[str], today: _dt.date,
           n: int) -> dict[str, Any]:
    person: dict[str, Any] = {"id": row["Elev-ID"], "meta": _meta(today), "givenName": row["Förnamn"]}
    if row["Mellannamn"]:
        person["middleName"] = row["Mellannamn"]
    person["familyName"] = row["Efternamn"]
    pnr = _DIGITS.sub("", row["Personnummer"])
    if pnr:
        person["civicNo"] = {"value": pnr, "nationality": "SE"}
        person["birthDate"] = _birth(pnr)
    person["securityMarking"] = row["Skyddad"] or "Ingen"
    person["personStatus"] = "Utvandrad" if rng.random() < _SHARES["emigrated"] else "Aktiv"
    person["emails"] = _emails(rng, row["E-post"], row["Förnamn"], row["Efternamn"], n)
    person["enrolments"] = _enrolments(rng, row["Skola"], row["Klass"], schools, today)
    return person


def _adult(rng: np.random.Generator, key: object, family: str, today: _dt.date, kind: str) -> dict[str, Any]:
    sex = "F" if rng.random() < 0.5 else "M"
    pool = _names.GIVEN_NAMES["1975"][sex]
    given = pool[int(rng.integers(len(pool)))]
    born = _dt.date(1968 + int(rng.integers(22)), 1 + int(rng.integers(12)), 1 + int(rng.integers(28)))
    local = f"{_names.fold_ascii(given).lower()}.{_names.fold_ascii(family).lower()}".replace(" ", "")
    email = ({"value": f"{local}@hultsfred.se", "type": "Skola personal"} if kind == "staff"
             else {"value": f"{local}@example.com", "type": "Privat"})
    return {"id": _id(kind, key), "meta": _meta(today), "givenName": given, "familyName": family,
            "birthDate": born.isoformat(), "securityMarking": "Ingen", "personStatus": "Aktiv", "emails": [email]}


def render_ss12000(students: pd.DataFrame, today: _dt.date, *, seed: int = 0) -> dict[str, list[dict[str, Any]]]:
    """``{"persons", "duties", "organisations"}`` for a world's student register (see module doc)."""
    rng = np.random.default_rng([seed, 12000])
    schools = sorted(set(students["Skola"]) - {""})
    persons: list[dict[str, Any]] = []
    guardians: list[dict[str, Any]] = []
    for n, row in enumerate(students.to_dict("records")):
        pupil = _pupil(rng, row, schools, today, n)
        if rng.random() < _SHARES["guardian"] and row["Skyddad"] != _PROTECTED:
            guardian = _adult(rng, row["Elev-ID"], row["Efternamn"], today, "guardian")
            pupil["responsibles"] = [{"person": {"id": guardian["id"]}, "relationType": "Vårdnadshavare"}]
            guardians.append(guardian)
        persons.append(pupil)
    staff: list[dict[str, Any]] = []
    duties: list[dict[str, Any]] = []
    families = [f for f, _ in _names.FAMILY_NAMES]
    for k in range(_STAFF if schools else 0):
        member = _adult(rng, k, families[int(rng.integers(len(families)))], today, "staff")
        school = schools[k % len(schools)]
        duties.append({"id": _id("duty", k), "meta": _meta(today), "person": {"id": member["id"]},
                       "dutyAt": {"id": _id("org", school)}, "dutyRole": "Rektor" if k < len(schools) else "Lärare",
                       "startDate": _dt.date(2015 + k % 10, 8, 1).isoformat()})
        staff.append(member)
    return {"persons": persons + guardians + staff, "duties": duties, "organisations": _organisations(schools, today)}


def ss12000_bytes(data: dict[str, list[dict[str, Any]]]) -> bytes:
    """One record per line (compact JSON), keys in a fixed order: small and diffable."""
    parts = ["{"]
    keys = list(data)
    for k, key in enumerate(keys):
        parts.append(f"  {json.dumps(key)}: [")
        records = data[key]
        for i, rec in enumerate(records):
            parts.append("    " + json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
                         + ("," if i < len(records) - 1 else ""))
        parts.append("  ]" + ("," if k < len(keys) - 1 else ""))
    parts.append("}")
    return ("\n".join(parts) + "\n").encode("utf-8")
