"""Students (and staff) from an SS 12000 API: ``GET {url}/persons``, paged by ``pageToken``.

Authentication is a bearer token read from the environment variable ``token_env``; TLS is
verified against the system store or the config's ``ca_file``. People with protected identity
(``securityMarking == "Skyddad folkbokföring"``) keep only their id and names – no personnummer,
birth date, e-mail or school – and are marked ``protected=1`` in ``PeopleTable.extra``, so later
steps can keep them out of reports.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from passerlink.config import SourceConfig, secret_from_env
from passerlink.errors import SourceError
from passerlink.people import PeopleTable
from passerlink.sources._canonical import canonicalize

__all__ = ["read_ss12000", "PAGE_SIZE", "PROTECTED_MARKING"]

PAGE_SIZE = 500
MAX_PAGES = 100_000
PROTECTED_MARKING = "Skyddad folkbokföring"

#: SS 12000 person attribute (as flattened below) -> canonical field.
_MAPPING = {
    "id": "source_id",
    "givenName": "given_names",
    "middleName": "family_name",  # mellannamn: first part of a two-part family name
    "familyName": "family_name",
    "civicNo": "personnummer",
    "birthDate": "birth_date",
    "email": "email",
    "enroledAt": "org_unit",
}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _enrolment_unit(person: dict[str, Any]) -> str:
    enrolments = [e for e in person.get("enrolments") or [] if isinstance(e, dict)]
    current = [e for e in enrolments if not e.get("cancelled")] or enrolments
    if not current:
        return ""
    at = current[0].get("enroledAt")
    if isinstance(at, dict):
        return _text(at.get("displayName") or at.get("id"))
    return _text(at)


def _flatten(person: dict[str, Any]) -> dict[str, str]:
    civic = person.get("civicNo")
    emails = [e for e in person.get("emails") or [] if isinstance(e, dict)]
    protected = person.get("securityMarking") == PROTECTED_MARKING
    row = {
        "id": _text(person.get("id")),
        "givenName": _text(person.get("givenName")),
        "middleName": _text(person.get("middleName")),
        "familyName": _text(person.get("familyName")),
        "civicNo": _text(civic.get("value") if isinstance(civic, dict) else civic),
        "birthDate": _text(person.get("birthDate")),
        "email": _text(emails[0].get("value")) if emails else "",
        "enroledAt": _enrolment_unit(person),
        "protected": "1" if protected else "0",
        "personStatus": _text(person.get("personStatus")),
    }
    if protected:
        for key in ("civicNo", "birthDate", "email", "enroledAt"):
            row[key] = ""
    return row


def _pages(client: httpx.Client, url: str, token_env: str | None) -> Iterator[list[Any]]:
    params: dict[str, Any] = {"limit": PAGE_SIZE}
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        try:
            resp = client.get(url, params=params)
        except httpx.ConnectError as exc:
            why = "TLS certificate not trusted" if "CERTIFICATE" in str(exc).upper() else str(exc)
            raise SourceError(f"cannot reach the SS 12000 API at {url} ({why})") from None
        except httpx.TimeoutException:
            raise SourceError(f"the SS 12000 API at {url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot read the SS 12000 API at {url} ({exc})") from None
        if resp.status_code in (401, 403):
            who = f"the token in {token_env}" if token_env else "a request without a token"
            raise SourceError(
                f"the SS 12000 API at {url} refused {who} (HTTP {resp.status_code})"
            )
        if resp.status_code != 200:
            raise SourceError(f"the SS 12000 API at {url} answered HTTP {resp.status_code}")
        try:
            body = resp.json()
        except ValueError:
            kind = resp.headers.get("content-type", "unknown content")
            raise SourceError(
                f"the SS 12000 API at {url} answered something that is not JSON ({kind})"
            ) from None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise SourceError(f"the SS 12000 API at {url} answered JSON without a 'data' list")
        yield body["data"]
        token = body.get("pageToken")
        if not token:
            return
        if token in seen:
            raise SourceError(f"the SS 12000 API at {url} repeats page token {str(token)[:20]!r}")
        seen.add(str(token))
        params = {"limit": PAGE_SIZE, "pageToken": token}
    raise SourceError(f"the SS 12000 API at {url} did not stop after {MAX_PAGES} pages")


def read_ss12000(
    spec: SourceConfig,
    *,
    config_path: Path | None = None,
    transport: httpx.BaseTransport | None = None,
) -> PeopleTable:
    """Read every person from the API and canonicalise them (id = the SS 12000 person id)."""
    url = f"{(spec.url or '').rstrip('/')}/persons"
    headers = {"Accept": "application/json"}
    if spec.token_env:
        token = secret_from_env(spec.token_env, f"SS 12000 token of source {spec.name!r}", config_path)
        headers["Authorization"] = f"Bearer {token}"
    if spec.ca_file:
        try:
            verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(spec.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise SourceError(f"{spec.ca_file}: cannot use it as a CA bundle ({exc})") from None
    else:
        verify = True
    persons: list[dict[str, str]] = []
    with httpx.Client(headers=headers, verify=verify, timeout=30.0, transport=transport) as client:
        for page in _pages(client, url, spec.token_env):
            for person in page:
                if not isinstance(person, dict):
                    raise SourceError(f"the SS 12000 API at {url} answered a person that is not an object")
                persons.append(_flatten(person))
    if not persons:
        raise SourceError(f"the SS 12000 API at {url} returned no persons")
    frame = pd.DataFrame(persons, dtype=object)
    mapping = {**_MAPPING, **spec.columns}
    table = canonicalize(
        frame,
        source=spec.name,
        id_column=spec.id_column or "id",
        mapping={k: v for k, v in mapping.items() if k != "id"},
        origin=url,
        row_numbers=range(1, len(frame) + 1),
        recognise=False,
    )
    table.people.attrs["read_as"] = f"SS 12000 persons, {len(frame)} in all"
    return table
