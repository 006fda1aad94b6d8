"""The pupils (or the staff) of an SS 12000 v2 API, as the sync needs them.

``GET {url}/persons`` returns everyone the school platform knows: pupils, their guardians, staff.
A ``role = "pupil"`` source asks for pupils only (``relationship.entity.type=enrolment``, and
``relationship.organisation`` per configured school unit) and, because servers may ignore
filters, keeps on its own side only persons with a current or future enrolment; a ``role =
"staff"`` source does the same with duties (``expand=duties``, else ``/duties``). Guardians are
never read as people to sync.

* **Names, not ids**: references are asked with ``expandReferenceNames=true``; a reference still
  without ``displayName`` is looked up in ``/organisations`` (read once, paged). A unit that
  cannot be named is a row issue and an empty ``org_unit`` – never a UUID in M5.
* **Current by date** and **the school e-mail**: see ``_ss12000_pick``.
* **Dates and leavers** go to ``PeopleTable.extra`` as ``startDate``/``endDate`` (ISO), which
  ``[sync.dates.<source>]`` hands to M5's start and end dates: a pupil who starts next term is a
  future start; ``personStatus`` Avliden or Utvandrad sets ``endDate`` to the day of the read
  (unless the enrolment ends earlier), so the sync ends the card as a known end.
* **Protected identity**: ``Skyddad folkbokföring`` – and ``Sekretessmarkering`` unless the
  source says ``sekretessmarkering = "ordinary"`` – keep only id and names and are marked
  ``protected=1`` in ``extra`` (the sync's protected column).
* **Authentication**: OAuth2 client credentials (``token_url``) or a fixed token
  (``token_env``); TLS verified against the system store or ``ca_file``, with ``client_cert``
  and ``client_key`` when the server asks for a client certificate.
"""

from __future__ import annotations

import datetime as _dt
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import httpx
import pandas as pd

from passerlink.config import Ss12000SourceConfig, secret_from_env
from passerlink.errors import SourceError
from passerlink.people import PeopleTable, RowIssue
from passerlink.sources._canonical import canonicalize
from passerlink.sources._ss12000_auth import ClientCredentialsAuth, FixedTokenAuth
from passerlink.sources._ss12000_http import Api, Params
from passerlink.sources._ss12000_pick import (
    PROTECTED_MARKING,
    Span,
    current_span,
    is_leaver,
    is_protected,
    pick_email,
)

__all__ = ["read_ss12000", "PAGE_SIZE", "PROTECTED_MARKING"]

PAGE_SIZE = 500
JSONObject = Mapping[str, object]

#: SS 12000 person attribute (as flattened below) -> canonical field; the unit column is the
#: role's (``enroledAt`` for pupils, ``dutyAt`` for staff).
_MAPPING = {
    "givenName": "given_names",
    "middleName": "family_name",  # mellannamn: first part of a two-part family name
    "familyName": "family_name",
    "civicNo": "personnummer",
    "birthDate": "birth_date",
    "email": "email",
}
_UNIT_COLUMN = {"pupil": "enroledAt", "staff": "dutyAt"}
_WHAT = {"pupil": "pupil with a current or future enrolment", "staff": "staff member with a current or future duty"}


def _text(value: object) -> str:
    return "" if value is None else str(value)


# --- connection ---------------------------------------------------------------------------------
def _tls(spec: Ss12000SourceConfig) -> ssl.SSLContext | bool:
    """Verified TLS: the system store or ``ca_file``; plus the client certificate if configured."""
    if spec.ca_file is None and spec.client_cert is None:
        return True
    try:
        ctx = ssl.create_default_context(cafile=str(spec.ca_file) if spec.ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise SourceError(f"{spec.ca_file}: cannot use it as a CA bundle ({exc})") from None
    if spec.client_cert is not None:
        try:
            ctx.load_cert_chain(str(spec.client_cert), str(spec.client_key) if spec.client_key else None)
        except (OSError, ssl.SSLError) as exc:
            raise SourceError(f"{spec.client_cert}: cannot use it as a client certificate ({exc})") from None
    return ctx


def _auth(
    spec: Ss12000SourceConfig, config_path: Path | None, clock: Callable[[], float]
) -> tuple[httpx.Auth | None, str]:
    """The source's way of authenticating, and how a refusal names it."""
    if spec.token_url:
        what = f"of source {spec.name!r}"
        client_id = secret_from_env(spec.client_id_env or "", f"SS 12000 client id {what}", config_path)
        secret = secret_from_env(spec.client_secret_env or "", f"SS 12000 client secret {what}", config_path)
        auth = ClientCredentialsAuth(
            spec.token_url, client_id, secret, scope=spec.scope, basic=spec.client_auth == "basic", clock=clock
        )
        return auth, f"the OAuth2 token from {spec.token_url}"
    if spec.token_env:
        token = secret_from_env(spec.token_env, f"SS 12000 token of source {spec.name!r}", config_path)
        return FixedTokenAuth(token), f"the token in {spec.token_env}"
    return None, "a request without a token"


# --- reading ------------------------------------------------------------------------------------
def _persons(api: Api, spec: Ss12000SourceConfig) -> list[dict[str, object]]:
    """The persons the server offers for the role (one query per school unit), each id once."""
    base: dict[str, str] = {"expandReferenceNames": "true"}
    if spec.role == "pupil":
        base["relationship.entity.type"] = "enrolment"
    else:
        base |= {"relationship.entity.type": "duty", "expand": "duties"}
    queries: list[Params] = [base] if not spec.school_units else [
        {**base, "relationship.organisation": unit} for unit in spec.school_units
    ]
    seen: set[str] = set()
    persons: list[dict[str, object]] = []
    for query in queries:
        for person in api.collection("persons", query):
            pid = _text(person.get("id"))
            if pid and pid in seen:
                continue
            seen.add(pid)
            persons.append(person)
    return persons


def _duties_by_person(api: Api, spec: Ss12000SourceConfig) -> dict[str, list[object]]:
    """``/duties`` grouped by person id: for servers that do not embed duties in persons."""
    queries: list[Params] = [{"expandReferenceNames": "true"}]
    if spec.school_units:
        queries = [{"expandReferenceNames": "true", "organisation": unit} for unit in spec.school_units]
    by_person: dict[str, list[object]] = {}
    for query in queries:
        for duty in api.collection("duties", query):
            person = duty.get("person")
            pid = _text(person.get("id")) if isinstance(person, Mapping) else ""
            if pid:
                by_person.setdefault(pid, []).append(duty)
    return by_person


def _spans_of(
    person: JSONObject, spec: Ss12000SourceConfig, duties: Mapping[str, list[object]] | None
) -> list[JSONObject]:
    """The person's enrolments (pupils) or duties (staff), limited to the configured units."""
    if spec.role == "pupil":
        items = person.get("enrolments")
        key = "enroledAt"
    elif duties is not None:
        items = duties.get(_text(person.get("id")), [])
        key = "dutyAt"
    else:
        embedded = person.get("_embedded")
        items = embedded.get("duties") if isinstance(embedded, Mapping) else None
        key = "dutyAt"
    found = [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []
    if spec.school_units:
        units = set(spec.school_units)
        found = [i for i in found if isinstance(i.get(key), Mapping) and _text(i[key].get("id")) in units]
    return found


class _UnitNames:
    """Names of organisation references: ``displayName``, else ``/organisations`` (read once)."""

    def __init__(self, api: Api) -> None:
        self._api = api
        self._names: dict[str, str] | None = None

    def name(self, ref: object) -> tuple[str, str]:
        """(name, id) of a reference; name "" if nobody knows it."""
        if not isinstance(ref, Mapping):
            return "", _text(ref)
        uid = _text(ref.get("id"))
        shown = _text(ref.get("displayName")).strip()
        if shown or not uid:
            return shown, uid
        if self._names is None:
            self._names = {
                _text(o.get("id")): _text(o.get("displayName")).strip()
                for o in self._api.collection("organisations", {})
            }
        return self._names.get(uid, ""), uid


def _row(
    person: JSONObject, span: Span, spec: Ss12000SourceConfig, today: _dt.date, unit: str
) -> dict[str, str]:
    """One kept person as text columns (canonical ones plus the extras the sync reads)."""
    civic = person.get("civicNo")
    emails = person.get("emails")
    protected = is_protected(person.get("securityMarking"), confidential_protects=spec.sekretessmarkering == "protected")
    end = span.end
    if is_leaver(person.get("personStatus")) and (end is None or end > today):
        end = today
    detail = "schoolYear" if spec.role == "pupil" else "dutyRole"
    row = {
        "id": _text(person.get("id")),
        "givenName": _text(person.get("givenName")),
        "middleName": _text(person.get("middleName")),
        "familyName": _text(person.get("familyName")),
        "civicNo": _text(civic.get("value") if isinstance(civic, Mapping) else civic),
        "birthDate": _text(person.get("birthDate")),
        "email": pick_email(emails if isinstance(emails, list) else [], spec.role, private_ok=spec.private_email),
        _UNIT_COLUMN[spec.role]: unit,
        "protected": "1" if protected else "0",
        "personStatus": _text(person.get("personStatus")),
        "startDate": span.start.isoformat() if span.start else "",
        "endDate": end.isoformat() if end else "",
        detail: _text(span.item.get(detail)),
    }
    if protected:
        for key in ("civicNo", "birthDate", "email", _UNIT_COLUMN[spec.role]):
            row[key] = ""
    return row


def _keep(
    persons: Iterable[dict[str, object]],
    spec: Ss12000SourceConfig,
    today: _dt.date,
    duties: Mapping[str, list[object]] | None,
    names: _UnitNames,
) -> tuple[list[dict[str, str]], list[int], list[RowIssue]]:
    """Rows of the persons who are the role today (or will be), their read positions, issues."""
    rows: list[dict[str, str]] = []
    numbers: list[int] = []
    issues: list[RowIssue] = []
    column = _UNIT_COLUMN[spec.role]
    for number, person in enumerate(persons, start=1):
        span = current_span(_spans_of(person, spec, duties), today)
        if span is None:
            continue  # a guardian, a former pupil, someone of the other role
        unit, uid = names.name(span.item.get(column))
        row = _row(person, span, spec, today, unit)
        if not unit and row["protected"] == "0":
            issues.append(RowIssue(number, column, f"unit {uid or '(no id)'} has no name in the API's organisations"))
        rows.append(row)
        numbers.append(number)
    return rows, numbers, issues


def read_ss12000(
    spec: Ss12000SourceConfig,
    *,
    config_path: Path | None = None,
    transport: httpx.BaseTransport | None = None,
    today: _dt.date | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> PeopleTable:
    """Read the source's role (pupils or staff) as of ``today`` and canonicalise them.

    ``clock`` (seconds, monotonic) decides when an OAuth2 token is renewed; ``today`` which
    enrolment or duty is current. Both default to the real ones.
    """
    day = today or _dt.date.today()
    auth, who = _auth(spec, config_path, clock)
    api_url = spec.url.rstrip("/")
    with httpx.Client(
        headers={"Accept": "application/json"}, verify=_tls(spec), timeout=spec.timeout_seconds, transport=transport
    ) as client:
        api = Api(client, api_url, auth, who, spec.page_size, client_cert=spec.client_cert is not None)
        persons = _persons(api, spec)
        embedded = any(isinstance(p.get("_embedded"), Mapping) for p in persons)
        duties = _duties_by_person(api, spec) if spec.role == "staff" and persons and not embedded else None
        rows, numbers, issues = _keep(persons, spec, day, duties, _UnitNames(api))
    origin = api.url("persons")
    if not persons:
        raise SourceError(f"the SS 12000 API at {origin} returned no persons")
    if not rows:
        raise SourceError(
            f"the SS 12000 API at {origin} returned {len(persons)} persons, none of them a {_WHAT[spec.role]}"
        )
    frame = pd.DataFrame(rows, dtype=object)
    mapping = {**_MAPPING, _UNIT_COLUMN[spec.role]: "org_unit", **spec.columns}
    table = canonicalize(
        frame,
        source=spec.name,
        id_column=spec.id_column or "id",
        mapping={k: v for k, v in mapping.items() if k != (spec.id_column or "id")},
        origin=origin,
        row_numbers=numbers,
        issues=issues,
        recognise=False,
    )
    table.people.attrs["read_as"] = _read_as(spec, len(persons), rows, day)
    return table


def _read_as(spec: Ss12000SourceConfig, offered: int, rows: list[dict[str, str]], today: _dt.date) -> str:
    """The summary line: how many were kept of how many offered, and the situations among them."""
    span = "enrolment" if spec.role == "pupil" else "duty"
    role = "pupils" if spec.role == "pupil" else "staff"
    future = sum(1 for r in rows if r["startDate"] > today.isoformat())
    leaving = sum(1 for r in rows if is_leaver(r["personStatus"]))
    protected = sum(1 for r in rows if r["protected"] == "1")
    return (
        f"SS 12000 {role}: {len(rows)} kept of {offered} persons the API returned "
        f"({offered - len(rows)} without a current or future {span} left out); "
        f"{future} future starts, {leaving} ending (Avliden/Utvandrad), {protected} protected"
    )
