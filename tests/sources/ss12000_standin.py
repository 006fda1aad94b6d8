"""A spec-shaped SS 12000 v2 stand-in: a real HTTP server on loopback, for tests and the demo.

Not the product: a school platform as the reader meets one, shaped after SIS's OpenAPI
specification 2.1 (``/persons``, ``/duties``, ``/organisations`` with the ``data`` envelope and
``pageToken`` paging; ``relationship.entity.type``, ``relationship.organisation``,
``expand=duties``, ``expandReferenceNames``), with an OAuth2 client-credentials ``/token``
endpoint whose tokens expire, and the ways real servers differ, as switches in ``Settings``:

    ignore_filters   answer every person whatever the relationship filters say
    expand_names     honour expandReferenceNames (False: references keep only their id)
    expand_duties    honour expand=duties (False: the client must read /duties)
    token_lifetime   expires_in of new tokens, enforced by the stand-in's (injectable) clock
    token_uses       a token stops working after this many API calls (a server ending it early)
    max_page         the server's own cap on ``limit``

Data is one JSON document ``{"persons": [...], "duties": [...], "organisations": [...]}`` with
references stored as ``{"id": ...}`` (optionally with a ``displayName``); ``example_data`` builds
a small one with every kind of person and date, ``passerlink.sampleworld.render_ss12000`` the
sample municipality's. Run it for the demo:

    .venv/bin/python tests/sources/ss12000_standin.py --data data/samples/ss12000.json --port 8770
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as _dt
import json
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from passerlink.processes import free_port

CLIENT_ID = "passerlink-test"
CLIENT_SECRET = "s3cret-test"
API_PREFIX = "/ss12000/v2"


@dataclass
class Settings:
    ignore_filters: bool = False
    expand_names: bool = True
    expand_duties: bool = True
    token_lifetime: float = 3600.0
    token_uses: int | None = None
    max_page: int = 1000
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    fixed_token: str | None = None  # also accept this bearer token (a server with a fixed token)


@dataclass
class _Token:
    expires_at: float
    uses_left: int | None


@dataclass
class StandIn:
    """The server's state: its data, switches, issued tokens and every call it answered."""

    data: dict[str, list[dict[str, Any]]]
    settings: Settings = field(default_factory=Settings)
    clock: Callable[[], float] = time.monotonic
    calls: list[dict[str, Any]] = field(default_factory=list)
    token_requests: int = 0
    _tokens: dict[str, _Token] = field(default_factory=dict)

    # --- control (tests call these directly; the server runs in this process) -------------------
    def configure(self, **changes: Any) -> None:
        """Change switches; tokens issued so far are forgotten, the call log is emptied."""
        self.settings = replace(self.settings, **changes)
        self.reset()

    def reset(self) -> None:
        self.calls.clear()
        self._tokens.clear()
        self.token_requests = 0

    def expire_tokens(self) -> None:
        self._tokens.clear()

    def api_calls(self, path: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["path"] != "/token" and (path is None or c["path"].endswith(path))]

    # --- tokens -------------------------------------------------------------------------------
    def issue_token(self, body: bytes, authorization: str | None) -> JSONResponse:
        self.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if (client_id, secret) != (self.settings.client_id, self.settings.client_secret):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        token = secrets.token_urlsafe(24)
        self._tokens[token] = _Token(self.clock() + self.settings.token_lifetime, self.settings.token_uses)
        return JSONResponse({"access_token": token, "token_type": "Bearer",
                             "expires_in": int(self.settings.token_lifetime), "scope": form.get("scope", "")})

    def authorised(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        value = authorization[7:]
        if self.settings.fixed_token is not None and value == self.settings.fixed_token:
            return True
        token = self._tokens.get(value)
        if token is None or self.clock() >= token.expires_at or token.uses_left == 0:
            self._tokens.pop(value, None)
            return False
        if token.uses_left is not None:
            token.uses_left -= 1
        return True

    # --- collections --------------------------------------------------------------------------
    def _org_names(self) -> dict[str, str]:
        return {o["id"]: o["displayName"] for o in self.data.get("organisations", [])}

    def _named(self, ref: Any, names: dict[str, str], expand: bool) -> Any:
        if not isinstance(ref, dict) or "id" not in ref:
            return ref
        if expand and "displayName" not in ref and ref["id"] in names:
            return {**ref, "displayName": names[ref["id"]]}
        return dict(ref)

    def _duty(self, duty: dict[str, Any], names: dict[str, str], expand: bool) -> dict[str, Any]:
        return {**duty, "dutyAt": self._named(duty.get("dutyAt"), names, expand)}

    def persons(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        names = self._org_names()
        expand = self.settings.expand_names and query.get("expandReferenceNames", ["false"])[0] == "true"
        duties_of: dict[str, list[dict[str, Any]]] = {}
        for duty in self.data.get("duties", []):
            duties_of.setdefault(duty["person"]["id"], []).append(duty)
        relation = query.get("relationship.entity.type", [None])[0]
        org = query.get("relationship.organisation", [None])[0]
        guardians = {r["person"]["id"] for p in self.data.get("persons", []) for r in p.get("responsibles", [])}
        out = []
        for person in self.data.get("persons", []):
            enrolments = person.get("enrolments", [])
            duties = duties_of.get(person["id"], [])
            if not self.settings.ignore_filters and not _related(
                    person["id"] in guardians, relation, org, enrolments, duties):
                continue
            shown = {**person, "enrolments": [{**e, "enroledAt": self._named(e.get("enroledAt"), names, expand)}
                                              for e in enrolments]}
            if not enrolments:
                shown.pop("enrolments")
            if "duties" in query.get("expand", []) and self.settings.expand_duties:
                shown["_embedded"] = {"duties": [self._duty(d, names, expand) for d in duties]}
            out.append(shown)
        return out

    def duties(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        names = self._org_names()
        expand = self.settings.expand_names and query.get("expandReferenceNames", ["false"])[0] == "true"
        org = query.get("organisation", [None])[0]
        return [self._duty(d, names, expand) for d in self.data.get("duties", [])
                if self.settings.ignore_filters or org is None or d["dutyAt"]["id"] == org]

    def organisations(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        return [dict(o) for o in self.data.get("organisations", [])]

    # --- the HTTP app -------------------------------------------------------------------------
    def app(self) -> FastAPI:
        app = FastAPI(title="SS 12000 stand-in", openapi_url=None, docs_url=None, redoc_url=None)
        collections = {"persons": self.persons, "duties": self.duties, "organisations": self.organisations}

        @app.post("/token")
        async def token(request: Request) -> JSONResponse:
            self.calls.append({"path": "/token", "query": {}, "auth": None, "ok": True})
            return self.issue_token(await request.body(), request.headers.get("authorization"))

        @app.get(API_PREFIX + "/{collection}")
        async def collection(collection: str, request: Request) -> JSONResponse:
            query = parse_qs(request.url.query, keep_blank_values=True)
            auth = request.headers.get("authorization")
            call = {"path": request.url.path, "query": query, "auth": auth, "ok": self.authorised(auth)}
            self.calls.append(call)
            if not call["ok"]:
                return JSONResponse({"code": "Unauthorized", "message": "token missing or expired"}, status_code=401)
            if collection not in collections:
                return JSONResponse({"code": "NotFound", "message": collection}, status_code=404)
            return self.page(collections[collection], query)

        return app

    def page(self, produce: Callable[[dict[str, list[str]]], list[dict[str, Any]]],
             query: dict[str, list[str]]) -> JSONResponse:
        limit = min(int(query.pop("limit", [str(self.settings.max_page)])[0]), self.settings.max_page)
        offset = 0
        if "pageToken" in query:
            if len(query) > 1:  # the standard: a page token cannot be combined with other filters
                return JSONResponse({"code": "BadRequest", "message": "pageToken with filters"}, status_code=400)
            try:
                state = json.loads(base64.urlsafe_b64decode(query["pageToken"][0]))
                query, offset = state["q"], int(state["o"])
            except (ValueError, KeyError, binascii.Error):
                return JSONResponse({"code": "BadRequest", "message": "bad pageToken"}, status_code=400)
        items = produce(query)
        end = offset + limit
        token = None
        if end < len(items):
            token = base64.urlsafe_b64encode(json.dumps({"q": query, "o": end}).encode()).decode()
        return JSONResponse({"data": items[offset:end], "pageToken": token})


def _related(guardian: bool, relation: str | None, org: str | None,
             enrolments: list[dict[str, Any]], duties: list[dict[str, Any]]) -> bool:
    """The standard's relationship filter: enrolment, duty or responsibleFor.enrolment, per unit."""
    if relation == "enrolment":
        return any(org is None or e["enroledAt"]["id"] == org for e in enrolments)
    if relation == "duty":
        return any(org is None or d["dutyAt"]["id"] == org for d in duties)
    if relation == "responsibleFor.enrolment":
        return guardian
    return relation is None


@dataclass
class Running:
    standin: StandIn
    url: str  # the API base incl. /ss12000/v2
    token_url: str


@contextmanager
def serve(standin: StandIn, *, tls: tuple[Path, Path] | None = None, client_ca: Path | None = None,
          port: int | None = None) -> Iterator[Running]:
    """Serve ``standin`` on 127.0.0.1 in a thread; with ``client_ca``, TLS asks for a client cert."""
    port = port or free_port()
    kw: dict[str, Any] = {}
    if tls is not None:
        kw = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])}
        if client_ca is not None:
            kw |= {"ssl_ca_certs": str(client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    config = uvicorn.Config(standin.app(), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", **kw)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # start-up, not a TTL: poll until the socket listens
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the SS 12000 stand-in did not start")
        time.sleep(0.02)
    root = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    try:
        yield Running(standin, root + API_PREFIX, root + "/token")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- a small world with every kind of person and date ---------------------------------------------
ORG_HAGA = "0b7f4d1c-0000-4000-8000-000000000001"
ORG_NORR = "0b7f4d1c-0000-4000-8000-000000000002"
ORG_GONE = "0b7f4d1c-0000-4000-8000-000000000099"  # referenced, but not among /organisations


def _pnr(date8: str, serial: str) -> str:
    digits = date8[2:] + serial
    total = 0
    for i, ch in enumerate(digits):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return date8 + serial + str((10 - total % 10) % 10)


def example_data(today: _dt.date) -> dict[str, list[dict[str, Any]]]:
    """Pupils, guardians and staff, with past/current/future enrolments and typed e-mails."""
    def day(offset: int) -> str:
        return (today + _dt.timedelta(days=offset)).isoformat()

    def meta() -> dict[str, str]:
        return {"created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z"}

    haga, norr, gone = {"id": ORG_HAGA}, {"id": ORG_NORR}, {"id": ORG_GONE}
    persons: list[dict[str, Any]] = [
        {"id": "pupil-nils", "givenName": "Nils", "middleName": "Erik", "familyName": "Åkesson",
         "civicNo": {"value": _pnr("20100517", "234"), "nationality": "SE"}, "birthDate": "2010-05-17",
         "securityMarking": "Ingen", "personStatus": "Aktiv",
         "emails": [{"value": "nils.privat@example.com", "type": "Privat"},
                    {"value": "Nils.Akesson@edu.kommun.se", "type": "Skola elev"}],
         "enrolments": [
             {"enroledAt": {**norr, "displayName": "Norrskolan"}, "schoolType": "GR", "schoolYear": 3,
              "startDate": "2019-08-15", "endDate": "2022-06-15"},
             {"enroledAt": haga, "schoolType": "GR", "schoolYear": 7, "startDate": day(-400)},
             {"enroledAt": norr, "schoolType": "GR", "schoolYear": 7, "startDate": day(-30), "cancelled": True}],
         "responsibles": [{"person": {"id": "guardian-eva"}, "relationType": "Vårdnadshavare"}], "meta": meta()},
        {"id": "pupil-lo", "givenName": "Lo", "familyName": "Ström", "birthDate": "2011-02-03",
         "emails": [{"value": "lo.strom@edu.kommun.se", "type": "Skola elev"}],
         "responsibles": [{"person": {"id": "guardian-olle"}, "relationType": "Vårdnadshavare"}],
         "enrolments": [
             {"enroledAt": haga, "schoolType": "GR", "schoolYear": 6, "startDate": day(-700), "endDate": day(60)},
             {"enroledAt": {**norr, "displayName": "Norrskolan"}, "schoolType": "GR", "schoolYear": 7,
              "startDate": day(-20), "endDate": day(300)}], "meta": meta()},
        {"id": "pupil-future", "givenName": "Fia", "familyName": "Framtid", "birthDate": "2019-03-03",
         "civicNo": {"value": _pnr("20190303", "123")},
         "emails": [{"value": "fia.privat@example.com", "type": "Privat"}],
         "enrolments": [{"enroledAt": norr, "schoolType": "FKLASS", "schoolYear": 0, "startDate": day(45)}],
         "meta": meta()},
        {"id": "pupil-former", "givenName": "Gun", "familyName": "Gammal", "birthDate": "2004-01-01",
         "emails": [{"value": "gun@edu.kommun.se", "type": "Skola elev"}],
         "enrolments": [{"enroledAt": haga, "schoolType": "GR", "schoolYear": 9, "startDate": "2017-08-15",
                         "endDate": "2020-06-10"}], "meta": meta()},
        {"id": "pupil-protected", "givenName": "Hemlig", "familyName": "Person", "birthDate": "2012-01-01",
         "civicNo": {"value": _pnr("20120101", "238")}, "securityMarking": "Skyddad folkbokföring",
         "emails": [{"value": "h@edu.kommun.se", "type": "Skola elev"}],
         "enrolments": [{"enroledAt": haga, "schoolType": "GR", "startDate": day(-100)}], "meta": meta()},
        {"id": "pupil-confidential", "givenName": "Sara", "familyName": "Sekret", "birthDate": "2012-04-04",
         "civicNo": {"value": _pnr("20120404", "242")}, "securityMarking": "Sekretessmarkering",
         "emails": [{"value": "sara.sekret@edu.kommun.se", "type": "Skola elev"}],
         "enrolments": [{"enroledAt": haga, "schoolType": "GR", "startDate": day(-100)}], "meta": meta()},
        {"id": "pupil-emigrated", "givenName": "Ulf", "familyName": "Utflyttad", "birthDate": "2011-06-06",
         "personStatus": "Utvandrad", "emails": [{"value": "ulf@edu.kommun.se", "type": "Skola elev"}],
         "enrolments": [{"enroledAt": norr, "schoolType": "GR", "startDate": day(-200)}], "meta": meta()},
        {"id": "pupil-lost-unit", "givenName": "Vera", "familyName": "Vilse", "birthDate": "2013-07-07",
         "emails": [{"value": "vera@edu.kommun.se", "type": "Arbete övrigt"}],
         "enrolments": [{"enroledAt": gone, "schoolType": "GR", "startDate": day(-10)}], "meta": meta()},
        {"id": "pupil-last-day", "givenName": "Sista", "familyName": "Dagen", "birthDate": "2010-10-10",
         "emails": [{"value": "sista@edu.kommun.se", "type": "Skola elev"}],
         "enrolments": [{"enroledAt": haga, "schoolType": "GR", "startDate": day(-300), "endDate": day(0)},
                        {"enroledAt": norr, "schoolType": "GR", "startDate": day(1)}], "meta": meta()},
        {"id": "pupil-first-day", "givenName": "Första", "familyName": "Dagen", "birthDate": "2010-11-11",
         "emails": [{"value": "forsta@edu.kommun.se", "type": "Skola elev"}],
         "enrolments": [{"enroledAt": norr, "schoolType": "GR", "startDate": day(0)}], "meta": meta()},
        {"id": "guardian-eva", "givenName": "Eva", "familyName": "Åkesson",
         "civicNo": {"value": _pnr("19800202", "246")}, "birthDate": "1980-02-02",
         "emails": [{"value": "eva@example.com", "type": "Privat"}], "meta": meta()},
        {"id": "guardian-olle", "givenName": "Olle", "familyName": "Ström", "birthDate": "1978-09-09",
         "emails": [{"value": "olle@example.com", "type": "Privat"}], "meta": meta()},
        {"id": "staff-anna", "givenName": "Anna", "familyName": "Lärare", "birthDate": "1975-05-05",
         "civicNo": {"value": _pnr("19750505", "248")},
         "emails": [{"value": "anna.privat@example.com", "type": "Privat"},
                    {"value": "anna.larare@kommun.se", "type": "Skola personal"}], "meta": meta()},
        {"id": "staff-bo", "givenName": "Bo", "familyName": "Rektor", "birthDate": "1970-01-10",
         "emails": [{"value": "bo.rektor@kommun.se", "type": "Skola personal"}], "meta": meta()},
    ]
    duties = [
        {"id": "duty-anna-old", "person": {"id": "staff-anna"}, "dutyAt": haga, "dutyRole": "Lärare",
         "startDate": "2015-08-01", "endDate": "2020-06-30", "meta": meta()},
        {"id": "duty-anna", "person": {"id": "staff-anna"}, "dutyAt": norr, "dutyRole": "Lärare",
         "startDate": day(-500), "meta": meta()},
        {"id": "duty-bo", "person": {"id": "staff-bo"}, "dutyAt": haga, "dutyRole": "Rektor",
         "startDate": day(-900), "endDate": day(400), "meta": meta()},
    ]
    organisations = [
        {"id": ORG_HAGA, "displayName": "Hagaskolan", "organisationType": "Skolenhet", "schoolUnitCode": "12345678",
         "meta": meta()},
        {"id": ORG_NORR, "displayName": "Norrskolan", "organisationType": "Skolenhet", "schoolUnitCode": "23456789",
         "meta": meta()},
        {"id": "0b7f4d1c-0000-4000-8000-000000000010", "displayName": "Kommunen", "organisationType": "Huvudman",
         "meta": meta()},
    ]
    return {"persons": persons, "duties": duties, "organisations": organisations}


def main(argv: list[str] | None = None) -> int:
    """Serve a data file (e.g. the sample world's) until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="JSON: persons, duties, organisations")
    parser.add_argument("--port", type=int, default=8770)
    parser.add_argument("--client-id", default="demo")
    parser.add_argument("--client-secret", default="demo")
    parser.add_argument("--ignore-filters", action="store_true")
    parser.add_argument("--no-names", action="store_true", help="ignore expandReferenceNames")
    parser.add_argument("--token-lifetime", type=float, default=3600.0)
    args = parser.parse_args(argv)
    data = json.loads(args.data.read_text(encoding="utf-8"))
    standin = StandIn(data, Settings(client_id=args.client_id, client_secret=args.client_secret,
                                     ignore_filters=args.ignore_filters, expand_names=not args.no_names,
                                     token_lifetime=args.token_lifetime))
    print(f"SS 12000 stand-in: http://127.0.0.1:{args.port}{API_PREFIX} (token: http://127.0.0.1:{args.port}/token)",
          flush=True)
    uvicorn.run(standin.app(), host="127.0.0.1", port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
