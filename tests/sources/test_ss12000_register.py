"""The SS 12000 register as the sync needs it, against the spec-shaped stand-in in each mode.

Only pupils (or only staff), every unit a name, the current enrolment and the school e-mail,
OAuth2 tokens renewed before expiry and on 401, servers that ignore filters or names.
"""

from __future__ import annotations

import datetime as _dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from ss12000_standin import (
    CLIENT_ID,
    CLIENT_SECRET,
    ORG_HAGA,
    ORG_NORR,
    Running,
    StandIn,
    example_data,
    serve,
)

from passerlink.config import Ss12000SourceConfig, parse_source
from passerlink.errors import SourceError
from passerlink.people import PeopleTable
from passerlink.sources import read_source
from passerlink.sources._ss12000 import read_ss12000

TODAY = _dt.date(2026, 11, 1)
PUPILS = {"pupil-nils", "pupil-lo", "pupil-future", "pupil-protected", "pupil-confidential",
          "pupil-emigrated", "pupil-lost-unit", "pupil-last-day", "pupil-first-day"}
STAFF = {"staff-anna", "staff-bo"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")

#: The ways servers differ, each a mode of the stand-in the reader must handle.
MODES = {
    "spec": {},
    "ignores filters": {"ignore_filters": True},
    "no names": {"expand_names": False},
    "small pages": {"max_page": 2},
    "ignores everything": {"ignore_filters": True, "expand_names": False, "expand_duties": False, "max_page": 3},
}


@pytest.fixture(scope="module")
def standin() -> Iterator[Running]:
    with serve(StandIn(example_data(TODAY))) as running:
        yield running


@pytest.fixture()
def server(standin: Running, monkeypatch: pytest.MonkeyPatch) -> Running:
    standin.standin.configure(**{k: v for k, v in vars(type(standin.standin.settings)()).items()})
    monkeypatch.setenv("PL_TEST_SS12000_ID", CLIENT_ID)
    monkeypatch.setenv("PL_TEST_SS12000_SECRET", CLIENT_SECRET)
    return standin


def source(server: Running, **kw: object) -> Ss12000SourceConfig:
    spec = parse_source({"name": "elever", "kind": "ss12000", "url": server.url, "token_url": server.token_url,
                         "client_id_env": "PL_TEST_SS12000_ID", "client_secret_env": "PL_TEST_SS12000_SECRET",
                         "page_size": 50, **kw})
    assert isinstance(spec, Ss12000SourceConfig)
    return spec


def read(server: Running, **kw: object) -> PeopleTable:
    return read_ss12000(source(server, **kw), today=TODAY)


def by_id(table: PeopleTable, column: str) -> dict[str, str]:
    frame = table.extra if column in table.extra.columns else table.people
    return dict(zip(table.people["source_id"], frame[column], strict=True))


@pytest.mark.parametrize("mode", MODES)
def test_only_pupils_are_read(server: Running, mode: str) -> None:
    server.standin.configure(**MODES[mode])
    table = read(server)
    assert set(table.people["source_id"]) == PUPILS  # no guardian, no staff, no former pupil
    first = server.standin.api_calls("/persons")[0]["query"]
    assert first["relationship.entity.type"] == ["enrolment"]
    assert first["expandReferenceNames"] == ["true"]


@pytest.mark.parametrize("mode", MODES)
def test_only_staff_are_read_with_the_unit_of_their_current_duty(server: Running, mode: str) -> None:
    server.standin.configure(**MODES[mode])
    table = read(server, role="staff")
    assert set(table.people["source_id"]) == STAFF
    assert by_id(table, "org_unit") == {"staff-anna": "Norrskolan", "staff-bo": "Hagaskolan"}
    assert by_id(table, "email") == {"staff-anna": "anna.larare@kommun.se", "staff-bo": "bo.rektor@kommun.se"}
    assert by_id(table, "dutyRole") == {"staff-anna": "Lärare", "staff-bo": "Rektor"}
    asked = server.standin.api_calls("/persons")[0]["query"]
    assert (asked["relationship.entity.type"], asked["expand"]) == (["duty"], ["duties"])
    assert bool(server.standin.api_calls("/duties")) == (not server.standin.settings.expand_duties)


@pytest.mark.parametrize("mode", MODES)
def test_every_unit_is_a_name(server: Running, mode: str) -> None:
    server.standin.configure(**MODES[mode])
    table = read(server)
    units = by_id(table, "org_unit")
    assert not any(UUID.match(u) for u in units.values())
    assert units["pupil-nils"] == "Hagaskolan"
    assert units["pupil-lost-unit"] == ""  # its unit is not among /organisations: a row issue
    assert [(i.column, i.problem) for i in table.issues] == [
        ("enroledAt", "unit 0b7f4d1c-0000-4000-8000-000000000099 has no name in the API's organisations")]
    org_reads = [c for c in server.standin.api_calls("/organisations") if "pageToken" not in c["query"]]
    assert len(org_reads) == 1  # read once (paged), only because some reference had no name
    assert not org_reads[0]["query"].keys() - {"limit"}


def test_organisations_are_read_only_when_a_name_is_missing(server: Running) -> None:
    data = example_data(TODAY)
    data["persons"] = [p for p in data["persons"] if p["id"] != "pupil-lost-unit"]
    with serve(StandIn(data)) as other:
        read(other)
        assert other.standin.api_calls("/organisations") == []


@pytest.mark.parametrize("mode", MODES)
def test_current_enrolment_by_date_and_school_email(server: Running, mode: str) -> None:
    server.standin.configure(**MODES[mode])
    table = read(server)
    units, emails = by_id(table, "org_unit"), by_id(table, "email")
    starts, ends = by_id(table, "startDate"), by_id(table, "endDate")
    # Nils: not the 2022 enrolment at Norrskolan, nor the cancelled one; the school address, not Privat
    assert (units["pupil-nils"], emails["pupil-nils"]) == ("Hagaskolan", "nils.akesson@edu.kommun.se")
    assert starts["pupil-nils"] == (TODAY - _dt.timedelta(days=400)).isoformat()
    # Lo: two current enrolments (a school change overlapping): the latest start wins
    assert units["pupil-lo"] == "Norrskolan"
    assert ends["pupil-lo"] == (TODAY + _dt.timedelta(days=300)).isoformat()
    # Fia starts next term: a future start, and only a private e-mail, which is not used
    assert starts["pupil-future"] == (TODAY + _dt.timedelta(days=45)).isoformat()
    assert (units["pupil-future"], emails["pupil-future"]) == ("Norrskolan", "")
    # both ends of an enrolment are days it holds: not yet the next school, already the first day
    assert (units["pupil-last-day"], ends["pupil-last-day"]) == ("Hagaskolan", TODAY.isoformat())
    assert (units["pupil-first-day"], starts["pupil-first-day"]) == ("Norrskolan", TODAY.isoformat())
    # another non-private type is taken when there is no school one
    assert emails["pupil-lost-unit"] == "vera@edu.kommun.se"


def test_private_email_only_when_allowed(server: Running) -> None:
    table = read(server, private_email=True)
    assert by_id(table, "email")["pupil-future"] == "fia.privat@example.com"
    assert by_id(table, "email")["pupil-nils"] == "nils.akesson@edu.kommun.se"


def test_markings_and_person_status(server: Running) -> None:
    table = read(server)
    protected = by_id(table, "protected")
    assert (protected["pupil-protected"], protected["pupil-confidential"], protected["pupil-nils"]) == ("1", "1", "0")
    row = table.people.set_index("source_id").loc["pupil-confidential"]
    assert (row["personnummer"], row["email"], row["org_unit"]) == ("", "", "")
    assert by_id(table, "endDate")["pupil-emigrated"] == TODAY.isoformat()  # Utvandrad: ends today

    ordinary = read(server, sekretessmarkering="ordinary")
    assert by_id(ordinary, "protected")["pupil-confidential"] == "0"
    assert by_id(ordinary, "email")["pupil-confidential"] == "sara.sekret@edu.kommun.se"
    assert by_id(ordinary, "protected")["pupil-protected"] == "1"  # Skyddad folkbokföring always


@pytest.mark.parametrize("mode", ["spec", "ignores filters"])
def test_school_units_limit_the_read(server: Running, mode: str) -> None:
    server.standin.configure(**MODES[mode])
    table = read(server, school_units=[ORG_NORR])
    # pupil-last-day leaves Hagaskolan today and starts at Norrskolan tomorrow: a future start there
    assert set(table.people["source_id"]) == {"pupil-lo", "pupil-future", "pupil-emigrated", "pupil-first-day",
                                              "pupil-last-day"}
    assert by_id(table, "startDate")["pupil-last-day"] == (TODAY + _dt.timedelta(days=1)).isoformat()
    assert set(by_id(table, "org_unit").values()) == {"Norrskolan"}
    assert [c["query"]["relationship.organisation"] for c in server.standin.api_calls("/persons")] == [[ORG_NORR]]
    both = read(server, school_units=[ORG_NORR, ORG_HAGA])
    assert "pupil-nils" in set(both.people["source_id"]) and len(both) == len(set(both.people["source_id"]))


@pytest.mark.parametrize("mode", MODES)
def test_token_expiring_mid_read_is_renewed_on_401(server: Running, mode: str) -> None:
    server.standin.configure(**{"max_page": 2, "expand_names": False, **MODES[mode], "token_uses": 2})
    table = read(server)
    assert set(table.people["source_id"]) == PUPILS
    refused = [c for c in server.standin.calls if not c["ok"]]
    assert refused  # the server did end tokens mid-read ...
    assert server.standin.token_requests == len(refused) + 1  # ... and each was renewed once


def test_token_is_renewed_before_it_expires(server: Running) -> None:
    now = [0.0]

    def clock() -> float:  # every look at the clock is 40 s later: a slow read
        now[0] += 40.0
        return now[0]

    server.standin.clock = clock
    try:
        server.standin.configure(token_lifetime=120, max_page=2)
        table = read_ss12000(source(server), today=TODAY, clock=clock)
    finally:
        server.standin.clock = StandIn(data={}).clock
    assert set(table.people["source_id"]) == PUPILS
    assert all(c["ok"] for c in server.standin.calls)  # never sent an expired token
    assert server.standin.token_requests > 1


def test_refused_client_credentials_name_the_token_url_not_the_secret(server: Running,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_TEST_SS12000_SECRET", "wrong-secret")
    with pytest.raises(SourceError) as info:
        read(server)
    assert str(info.value) == (f"the OAuth2 token endpoint {server.token_url} refused the client credentials "
                               "(HTTP 401: invalid_client)")


def test_client_credentials_in_the_form_body(server: Running) -> None:
    assert set(read(server, client_auth="body").people["source_id"]) == PUPILS


def test_fixed_token_still_works(server: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    server.standin.configure(fixed_token="fixed-123")
    monkeypatch.setenv("PL_TEST_SS12000_TOKEN", "fixed-123")
    spec = parse_source({"name": "elever", "kind": "ss12000", "url": server.url, "token_env": "PL_TEST_SS12000_TOKEN"})
    assert set(read_source(spec).people["source_id"]) <= PUPILS
    assert server.standin.token_requests == 0


# --- client-certificate TLS --------------------------------------------------------------------
@pytest.fixture(scope="module")
def client_cert(tls_cert: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A client certificate signed by the test CA (``tls_cert``): (cert.pem, key.pem)."""
    openssl = shutil.which("openssl")
    assert openssl is not None  # tls_cert skipped already otherwise
    d = tmp_path_factory.mktemp("client")
    key, csr, cert = d / "client-key.pem", d / "client.csr", d / "client.pem"
    subprocess.run([openssl, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
                    "-subj", "/CN=passerlink"], check=True, capture_output=True)
    subprocess.run([openssl, "x509", "-req", "-in", str(csr), "-CA", str(tls_cert[0]), "-CAkey", str(tls_cert[1]),
                    "-set_serial", "7", "-days", "2", "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_client_certificate_tls(tls_cert: tuple[Path, Path], client_cert: tuple[Path, Path],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_TEST_SS12000_ID", CLIENT_ID)
    monkeypatch.setenv("PL_TEST_SS12000_SECRET", CLIENT_SECRET)
    with serve(StandIn(example_data(TODAY)), tls=tls_cert, client_ca=tls_cert[0]) as running:
        with pytest.raises(SourceError, match=r"https://127\.0\.0\.1:\d+/(token|ss12000/v2/persons) .*see 'client_cert'"):
            read_ss12000(source(running, ca_file=str(tls_cert[0])), today=TODAY)
        table = read_ss12000(source(running, ca_file=str(tls_cert[0]), client_cert=str(client_cert[0]),
                                    client_key=str(client_cert[1])), today=TODAY)
    assert set(table.people["source_id"]) == PUPILS
    with pytest.raises(SourceError, match="cannot use it as a client certificate"):
        read_ss12000(source(running, client_cert=str(tls_cert[0].parent / "nope.pem")), today=TODAY)


def test_the_sync_sees_future_starts_leavers_and_protection(server: Running) -> None:
    """The reader's extras are what the sync reads: dates per [sync.dates], 'protected'."""
    from passerlink.policy import SyncPolicy
    from passerlink.sync.desired import build_desired

    policy = SyncPolicy.model_validate({"dates": {"elever": {"start": "startDate", "end": "endDate"}}})
    desired = build_desired({"elever": read(server)}, None, policy)
    users = {u.key[1]: u for u in desired.users}
    assert users["pupil-future"].fields["startdate"] == (TODAY + _dt.timedelta(days=45)).isoformat()
    assert users["pupil-emigrated"].fields["enddate"] == TODAY.isoformat()
    assert users["pupil-nils"].fields["enddate"] == ""  # an open enrolment: no end
    assert users["pupil-confidential"].protected and users["pupil-protected"].protected
    assert not users["pupil-nils"].protected
    assert users["pupil-nils"].fields["department"] == "Hagaskolan"


def test_unreachable_token_endpoint_is_named(server: Running) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SourceError, match=rf"^cannot reach the OAuth2 token endpoint http://127\.0\.0\.1:{port}/token \("):
        read(server, token_url=f"http://127.0.0.1:{port}/token")
