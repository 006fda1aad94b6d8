"""Contract: the real Admin API's field names and shapes, pinned from docs/m5-admin-api.md.

One JSON fixture per resource (``contract/*.json``) lists what the doc says; the simulator's
published models, its answers over HTTP and the client's requests must agree with it, so a change
to either that drifts from the doc fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from passerlink.config import DEFAULT_M5_COLUMNS
from passerlink.m5 import M5Client
from passerlink.m5sim import models
from passerlink.m5sim.fields import CARD_KINDS, USER_KINDS
from passerlink.sync.current import INT_FIELDS

CONTRACT = Path(__file__).with_name("contract")


def contract(name: str) -> dict:
    return json.loads((CONTRACT / f"{name}.json").read_text(encoding="utf-8"))


USER, CARD, AG, LOGIN = contract("user"), contract("card"), contract("accessgroup"), contract("login")
SAMPLE = {"str": "x", "date": "2026-01-31", "int": 1, "bool": True, "float": 1.5}


def test_the_published_models_have_exactly_the_documented_fields():
    assert set(models.UserCreate.model_fields) == set(USER["writable"]) | set(USER["real_optional"])
    assert set(models.CardCreate.model_fields) == set(CARD["writable"]) | set(CARD["real_optional"])
    out = set(models.UserOut.model_fields)
    assert out >= set(USER["readonly"]) | set(USER["embedded"]) | set(USER["readonly_optional"])
    assert set(models.CardOut.model_fields) >= set(CARD["readonly"]) | set(CARD["embedded"])
    assert set(models.AccessgroupOut.model_fields) == set(AG["fields"]) | set(AG["embedded"])
    assert set(models.TimePeriod.model_fields) == set(AG["timeperiod"])
    assert set(models.LoginBody.model_fields) == set(LOGIN["body"])
    assert set(models.ErrorBody.model_fields) == set(LOGIN["error_body"])


def test_the_sync_reads_and_writes_only_documented_user_fields():
    documented = set(USER["writable"]) | set(USER["real_optional"])
    assert documented >= INT_FIELDS
    assert set(DEFAULT_M5_COLUMNS) - {"department"} <= documented


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_sessions():
    yield
    while _OPEN:
        _OPEN.pop().close()


def _session(sim) -> httpx.Client:
    http = httpx.Client(base_url=sim.url, timeout=10.0)
    _OPEN.append(http)
    token = http.post("/login", json={"id": "1", "system": "RASYSTEM", "lang": "sv", "user": "demo",
                                      "password": "demo", "apitype": "main", "apikey": "demo"}).json()
    assert set(token) == set(LOGIN["answer"])
    http.headers[LOGIN["token_header"]] = token["accesstoken"]
    return http


def test_a_user_with_every_documented_field_round_trips(m5sim):
    m5sim.reset({"departments": ["IT"], "usergroups": ["Personal"]})
    http = _session(m5sim)
    body = {k: SAMPLE[USER_KINDS[k]] for k in [*USER["writable"], *USER["real_optional"]]}
    body.update(fkdepartment=1, fkusergroup=1, status=1, type=0)
    made = http.post("/user", json=body)
    assert made.status_code == 200, made.text
    got = http.get(f"/user/{made.json()['id']}", params={"include": ",".join(USER["embedded"])}).json()
    assert set(got) >= set(USER["writable"]) | set(USER["readonly"]) | set(USER["embedded"])
    assert {k: got[k] for k in body} == body
    assert re.match(USER["rastamp"], got["rastamp"])
    for field, kind in (("createdby", "readonly"), ("floor", "readonly"), ("shoesize", "shoesize")):
        refused = http.post("/user", json={"firstname": "A", "lastname": "B", field: "x"})
        assert refused.status_code == 400 and set(refused.json()) == set(LOGIN["error_body"])
        assert kind in refused.json()["friendlymessage"].replace("read-only", "readonly")
    listed = http.get(USER["list"]["path"], params={"count": "true"}).json()
    assert set(listed) == {USER["list"]["key"], "count"}


def test_a_card_with_every_documented_field_and_its_access_groups(m5sim):
    m5sim.reset({"accessgroups": [{"id": 4, "name": "Entré"}], "users": [{"id": 9, "firstname": "A", "lastname": "B"}]})
    http = _session(m5sim)
    body = {k: SAMPLE[CARD_KINDS[k]] for k in [*CARD["writable"], *CARD["real_optional"]]}
    body.update(fkusernumber=9, fkaccessgroup=4, **dict.fromkeys(CARD["sent_as_null"]))
    made = http.post("/card", json=body)
    assert made.status_code == 200, made.text
    cid = made.json()["id"]
    assert http.post("/card", json={"fkusernumber": 9, "expired": True}).status_code == 400  # read-only
    assert http.put(f"/card/{cid}/accessgroup/4").status_code == 204
    got = http.get(f"/card/{cid}", params={"include": ",".join(CARD["embedded"])}).json()
    assert set(got) >= set(CARD["writable"]) | set(CARD["readonly"]) | set(CARD["embedded"])
    assert [a["id"] for a in got["accessgroups"]] == [4] and got["user"]["id"] == 9
    assert re.match(CARD["rastamp"], got["rastamp"])
    assert http.delete(f"/card/{cid}/accessgroup/4").status_code == 204
    listed = http.get(CARD["list"]["path"], params={"filter": "fkusernumber:'9'", "count": "true"}).json()
    assert listed["count"] == 1 and [c["id"] for c in listed[CARD["list"]["key"]]] == [cid]


def test_an_access_group_has_the_documented_fields_and_a_timeperiod_object(m5sim):
    m5sim.reset({"accessgroups": [{"id": 2, "name": "Skola", "timeperiod": "Kontorstid"}]})
    http = _session(m5sim)
    one = http.get(AG["get_one"].replace("{id}", "2"), params={"include": ",".join(AG["embedded"])}).json()
    assert set(one) == set(AG["fields"]) | set(AG["embedded"])
    assert set(one["timeperiod"]) == set(AG["timeperiod"]) and one["timeperiod"]["periods"] == [{"name": "Kontorstid"}]
    listed = http.get(AG["list"]["path"]).json()[AG["list"]["key"]]
    assert set(listed[0]) == set(AG["fields"])
    # filter= and include= on every list, as the real client sends them
    assert http.get(AG["list"]["path"], params={"filter": "name:'skola'"}).json()[AG["list"]["key"]][0]["id"] == 2
    assert http.get(AG["list"]["path"], params={"filter": "name:'annan'"}).json()[AG["list"]["key"]] == []
    assert http.get("/Department", params={"filter": "nosuchfield:'x'"}).status_code == 400
    assert http.get("/usergroup", params={"include": "cards"}).status_code == 400


def test_ids_are_never_given_again_after_a_delete(m5sim):
    http = _session(m5sim)
    first = http.post("/user", json={"firstname": "A", "lastname": "B"}).json()["id"]
    assert http.delete(f"/user/{first}").status_code == 204
    assert http.post("/user", json={"firstname": "C", "lastname": "D"}).json()["id"] > first


def test_the_client_sends_the_documented_login_and_token_header():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/login"):
            return httpx.Response(200, json={"accesstoken": "t"})
        return httpx.Response(200, json={"id": 1})

    client = M5Client(f"https://m5.example.se{LOGIN['base_path']}", user="u", password="p", apikey="k",
                      transport=httpx.MockTransport(handler))
    client.get_user(1)
    client.close()
    assert set(json.loads(seen[0].content)) == set(LOGIN["body"])
    assert seen[1].headers[LOGIN["token_header"]] == "t" and seen[1].url.path == f"{LOGIN['base_path']}/user/1"


@pytest.mark.parametrize("name", ["user", "card", "accessgroup"])
def test_the_client_reads_each_list_under_its_documented_key(m5sim, name):
    spec = contract(name)
    m5sim.reset({"accessgroups": ["Entré"], "users": [{"firstname": "A", "lastname": "B"}],
                 "cards": [{"fkusernumber": 1}]})
    with m5sim.client() as client:
        page = client.fetch_page(spec["list"]["path"], spec["list"]["key"], {"count": "true"})
    assert page.count == 1 and len(page.items) == 1
