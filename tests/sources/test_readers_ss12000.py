"""SS 12000 protocol over real HTTP: paging, the envelope, civicNo, errors (a bare handler on 127.0.0.1).

Who is read and how (pupils only, names, dates, e-mail, OAuth2) is in ``test_ss12000_register.py``
against the spec-shaped stand-in.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from passerlink.config import SourceConfig, parse_source
from passerlink.errors import ConfigError, SourceError
from passerlink.features import luhn_ok
from passerlink.sources import read_source

TOKEN = "test-token-123"


def pnr(date8: str, serial: str) -> str:
    return next(date8 + serial + c for c in "0123456789" if luhn_ok(date8[2:] + serial + c))


NOW = {"enroledAt": {"id": "su-1", "displayName": "Hagaskolan"}, "schoolType": "GR", "startDate": "2020-08-15"}
PERSONS = [
    {"id": "p1", "givenName": "Nils", "middleName": "Erik", "familyName": "Åkesson",
     "civicNo": {"value": pnr("20100517", "234"), "nationality": "SE"}, "birthDate": "2010-05-17",
     "securityMarking": "Ingen", "personStatus": "Aktiv",
     "emails": [{"value": "Nils.Akesson@Skola.se", "type": "Skola elev"}],
     "enrolments": [{"enroledAt": {"id": "su-1", "displayName": "Hagaskolan"}, "schoolYear": 4}]},
    {"id": "p2", "givenName": "Lo", "familyName": "Ström", "birthDate": "2011-02-03",
     "enrolments": [{"enroledAt": {"id": "su-2"}, "cancelled": True},
                    {"enroledAt": {"id": "su-3", "displayName": "Norrskolan"}}]},  # no startDate: begun
    {"id": "p3", "givenName": "Hemlig", "familyName": "Person",
     "civicNo": {"value": pnr("20120101", "238")}, "birthDate": "2012-01-01",
     "securityMarking": "Skyddad folkbokföring", "emails": [{"value": "h@skola.se"}],
     "enrolments": [{"enroledAt": {"id": "su-1", "displayName": "Hagaskolan"}}]},
    {"id": "p4", "givenName": "Bad", "familyName": "Number", "civicNo": {"value": "201001011112"},
     "enrolments": [NOW]},
    {"id": "p5", "givenName": "Ada", "familyName": "Al", "enrolments": [NOW]},
    {"id": "p6", "givenName": "Bea", "familyName": "Bo", "enrolments": [{"enroledAt": {"id": "su-9"}}]},
    {"id": "p7", "givenName": "Cid", "familyName": "Ceder", "enrolments": [NOW]},
]
PAGE = 3


class Handler(BaseHTTPRequestHandler):
    requests: list[dict[str, object]] = []

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        Handler.requests.append({"path": url.path, "query": query,
                                 "auth": self.headers.get("Authorization")})
        if url.path == "/html/persons":
            self._send(200, b"<html><body>Login</body></html>", "text/html")
            return
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, b'{"error": "unauthorized"}')
            return
        if url.path == "/loop/persons":
            self._send(200, json.dumps({"data": PERSONS[:1], "pageToken": "same"}).encode())
            return
        if url.path == "/ss12000/organisations":
            self._send(200, json.dumps({"data": [{"id": "su-9", "displayName": "Bergskolan"}]}).encode())
            return
        if url.path == "/empty/persons":
            self._send(200, json.dumps({"data": [], "pageToken": None}).encode())
            return
        if url.path != "/ss12000/persons":
            self._send(404, b"{}")
            return
        start = int(query.get("pageToken", ["0"])[0].removeprefix("tok-"))
        size = min(int(query["limit"][0]), PAGE)
        end = start + size
        token = f"tok-{end}" if end < len(PERSONS) else None
        self._send(200, json.dumps({"data": PERSONS[start:end], "pageToken": token}).encode())


@pytest.fixture(scope="module")
def server(loopback_http) -> str:
    return loopback_http(Handler)


@pytest.fixture()
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SS12000_TEST_TOKEN", TOKEN)
    return "SS12000_TEST_TOKEN"


def spec(url: str, token_env: str | None = None, **kw: object) -> SourceConfig:
    return parse_source({"name": "elever", "kind": "ss12000", "url": url, "token_env": token_env, **kw})


def test_reads_all_three_pages(server: str, token: str) -> None:
    Handler.requests.clear()
    table = read_source(spec(f"{server}/ss12000/", token))
    pages = [r for r in Handler.requests if r["path"] == "/ss12000/persons"]
    assert len(pages) == 3
    assert [r["query"].get("pageToken") for r in pages] == [None, ["tok-3"], ["tok-6"]]
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in pages)
    people = table.people.set_index("source_id")
    assert list(people.index) == [p["id"] for p in PERSONS]
    assert people.loc["p1", "given_names"] == "Nils"
    assert people.loc["p1", "family_name"] == "Erik Åkesson"  # middleName is a mellannamn
    assert people.loc["p1", "personnummer"] == PERSONS[0]["civicNo"]["value"]
    assert people.loc["p1", "email"] == "nils.akesson@skola.se"
    assert people.loc["p1", "org_unit"] == "Hagaskolan"
    assert people.loc["p2", "org_unit"] == "Norrskolan"  # the cancelled enrolment is skipped
    assert people.loc["p6", "org_unit"] == "Bergskolan"  # no displayName: named from /organisations
    assert people.loc["p2", "birth_date"] == "2011-02-03"


def test_protected_identity_keeps_only_id_and_names(server: str, token: str) -> None:
    table = read_source(spec(f"{server}/ss12000", token))
    row = table.people[table.people["source_id"] == "p3"].iloc[0]
    assert (row["given_names"], row["family_name"]) == ("Hemlig", "Person")
    assert (row["personnummer"], row["birth_date"], row["email"], row["org_unit"]) == ("", "", "", "")
    assert table.extra["protected"].tolist() == ["0", "0", "1", "0", "0", "0", "0"]


def test_invalid_civic_number_is_a_row_issue(server: str, token: str) -> None:
    table = read_source(spec(f"{server}/ss12000", token))
    assert [(i.row, i.column) for i in table.issues] == [(4, "civicNo")]
    assert "201001011112" not in str(table.issues[0])


@pytest.mark.parametrize(
    ("path", "token_value", "message"),
    [
        ("/ss12000", "wrong", r"/ss12000/persons refused the token in SS12000_TEST_TOKEN \(HTTP 401\)"),
        ("/html", TOKEN, r"/html/persons answered something that is not JSON \(text/html\)"),
        ("/loop", TOKEN, r"/loop/persons repeats page token 'same'"),
        ("/empty", TOKEN, r"/empty/persons returned no persons"),
        ("/missing", TOKEN, r"/missing/persons answered HTTP 404"),
    ],
)
def test_api_errors_name_the_url(server: str, monkeypatch: pytest.MonkeyPatch, path: str,
                                 token_value: str, message: str) -> None:
    monkeypatch.setenv("SS12000_TEST_TOKEN", token_value)
    with pytest.raises(SourceError, match=message):
        read_source(spec(server + path, "SS12000_TEST_TOKEN"))


def test_unreachable_and_missing_token(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SourceError, match=rf"cannot reach the SS 12000 API at http://127.0.0.1:{port}/persons"):
        read_source(spec(f"http://127.0.0.1:{port}"))
    with pytest.raises(ConfigError, match="SS12000_TEST_NOT_SET"):
        read_source(spec(f"http://127.0.0.1:{port}", "SS12000_TEST_NOT_SET"))
    with pytest.raises(SourceError, match="cannot use it as a CA bundle"):
        read_source(spec(f"https://127.0.0.1:{port}", ca_file=str(tmp_path / "nope.pem")))
