"""The simulator over real HTTP (a child process): login, error bodies, faults, call log, OpenAPI."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from passerlink.m5sim.models import UserList, UserOut

LOGIN = {"id": "1", "system": "RASYSTEM", "lang": "sv", "user": "demo", "password": "demo", "apitype": "main",
         "apikey": "demo"}
ERROR_KEYS = {"errorcode", "friendlymessage", "developermessage", "moreinfo", "reject"}


def _session(sim, **credentials: str) -> httpx.Client:
    http = httpx.Client(base_url=sim.url, timeout=10.0)
    resp = http.post("/login", json={**LOGIN, **credentials})
    assert resp.status_code == 200, resp.text
    http.headers["Access-Token"] = resp.json()["accesstoken"]
    return http


def test_login_logout_and_token_expiry(m5sim):
    with httpx.Client(base_url=m5sim.url, timeout=10.0) as http:
        bad = http.post("/login", json={**LOGIN, "password": "wrong"})
        assert bad.status_code == 401 and set(bad.json()) == ERROR_KEYS
        assert http.get("/user").status_code == 401
        token = http.post("/login", json=LOGIN).json()["accesstoken"]
        assert http.get("/user", headers={"Access-Token": token}).status_code == 200
        assert http.get("/logout", headers={"Access-Token": token}).status_code == 200
        assert http.get("/user", headers={"Access-Token": token}).status_code == 401
        m5sim.set_faults({"token_ttl": 60})
        token = http.post("/login", json=LOGIN).json()["accesstoken"]
        assert http.get("/user", headers={"Access-Token": token}).status_code == 200
        m5sim.advance_clock(61)
        expired = http.get("/user", headers={"Access-Token": token})
        assert expired.status_code == 401 and "expired" in expired.json()["friendlymessage"]


def test_user_crud_stamps_and_error_bodies(m5sim):
    http = _session(m5sim)
    created = http.post("/user", json={"firstname": "Anna", "lastname": "Berg", "employmentnumber": 17})
    assert created.status_code == 200
    u = UserOut.model_validate(created.json())
    assert u.createdby == "demo" and u.changedby == "demo" and u.rastamp.endswith("/demo")
    for body, status, word in [
        ({"firstname": "A"}, 400, "lastname"),
        ({"firstname": "A", "lastname": "B", "rastamp": "/x"}, 400, "read-only"),
        ({"firstname": "A", "lastname": "B", "id": 5}, 400, "read-only"),
        ({"firstname": "A", "lastname": "B", "nickname": "x"}, 400, "nickname"),
        ({"firstname": "A", "lastname": "B", "employmentnumber": "abc"}, 400, "employmentnumber"),
    ]:
        resp = http.post("/user", json=body)
        assert resp.status_code == status and set(resp.json()) == ERROR_KEYS, resp.text
        assert word in resp.json()["friendlymessage"]
    garbage = http.post("/user", content=b"{not json", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400 and "not valid JSON" in garbage.json()["friendlymessage"]

    path = f"/user/{u.id}"
    assert http.patch(path, json={"city": "Hultsfred"}).status_code == 409  # no rastamp
    patched = http.patch(path, json={"city": "Hultsfred", "rastamp": u.rastamp})
    assert patched.status_code == 200 and patched.json()["rastamp"] != u.rastamp
    stale = http.patch(path, json={"city": "Vimmerby", "rastamp": u.rastamp})
    assert stale.status_code == 409 and "stale" in stale.json()["friendlymessage"]
    assert http.patch(path, json={"createdby": "x", "rastamp": patched.json()["rastamp"]}).status_code == 400
    assert http.get(path).json()["city"] == "Hultsfred"
    assert http.delete(path).status_code == 204
    missing = http.get(path)
    assert missing.status_code == 404 and set(missing.json()) == ERROR_KEYS
    assert http.get("/no/such/thing").status_code == 404
    http.close()


def test_list_filter_paging_and_count(m5sim):
    http = _session(m5sim)
    for i in range(7):
        http.post("/user", json={"firstname": "Per" if i % 2 else "Åsa", "lastname": f"L{i}"}).raise_for_status()
    page = http.get("/user", params={"offset": 2, "limit": 3, "count": "true"}).json()
    UserList.model_validate(page)
    assert [u["lastname"] for u in page["users"]] == ["L2", "L3", "L4"] and page["count"] == 7
    assert "count" not in http.get("/user").json()
    hit = http.get("/user", params={"filter": "firstname:'ÅSA'¤lastname:'l4'"}).json()["users"]
    assert [u["lastname"] for u in hit] == ["L4"]
    bad = http.get("/user", params={"filter": "shoesize:'42'"})
    assert bad.status_code == 400 and "shoesize" in bad.json()["friendlymessage"]
    http.close()


def test_departments_groups_cards_and_accessgroups(m5sim):
    m5sim.reset({"accessgroups": [{"id": 4, "name": "Entré"}]})
    http = _session(m5sim)
    d = http.post("/Department", json={"departmentname": "Skola", "departmentdata": "x"}).json()
    assert http.post("/Department", json={"departmentname": "skola"}).status_code == 400  # duplicate
    g = http.post("/usergroup", json={"groupname": "Elev"}).json()
    assert [x["id"] for x in http.get("/Department").json()["departments"]] == [d["id"]]
    assert http.get("/usergroup").json()["usergroups"][0]["groupname"] == "Elev"
    u = http.post("/user", json={"firstname": "A", "lastname": "B", "fkdepartment": d["id"],
                                 "fkusergroup": g["id"]}).json()
    card = http.post("/card", json={"fkusernumber": u["id"], "name": "tag"}).json()
    other = http.post("/user", json={"firstname": "C", "lastname": "D"}).json()
    http.post("/card", json={"fkusernumber": other["id"], "name": "x"}).raise_for_status()
    assert [c["id"] for c in http.get("/card", params={"fkusernumber": u["id"]}).json()["cards"]] == [card["id"]]
    assert http.put(f"/user/{u['id']}/accessgroup/4").status_code == 204
    assert http.put(f"/user/{u['id']}/accessgroup/99").status_code == 404
    assert http.post("/card/block", json={"cards": [{"id": card["id"]}]}).status_code == 204
    got = http.get(f"/user/{u['id']}").json()
    assert got["department"]["departmentname"] == "Skola" and got["usergroup"]["groupname"] == "Elev"
    assert got["accessgroups"][0]["name"] == "Entré" and got["cards"][0]["isblocked"] is True
    assert http.delete(f"/user/{u['id']}/accessgroup/4").status_code == 204
    assert http.get("/accessgroup").json()["accessgroups"][0]["id"] == 4
    http.close()


def _logged_writes(sim, n: int) -> list[tuple[int, str | None]]:
    """The call log's writes once it holds ``n`` of them (a held answer is logged when it is sent)."""
    deadline = time.monotonic() + 10
    while len(writes := sim.writes()) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return [(c["status"], c["fault"]) for c in writes]


def test_faults_switch_at_run_time_and_faulted_writes_are_not_applied(m5sim):
    http = _session(m5sim)
    m5sim.set_faults({"queue": ["error500", "429", "lost_reply"], "retry_after": 2, "timeout_sleep": 0.2})
    r500 = http.post("/user", json={"firstname": "Five", "lastname": "Hundred"})
    assert r500.status_code == 500 and set(r500.json()) == ERROR_KEYS
    r429 = http.post("/user", json={"firstname": "Four", "lastname": "TwentyNine"})
    assert r429.status_code == 429 and r429.headers["Retry-After"] == "2"
    with pytest.raises(httpx.ReadTimeout):
        http.post("/user", json={"firstname": "Lost", "lastname": "Reply"}, timeout=0.1)
    names = [u["firstname"] for u in http.get("/user").json()["users"]]
    assert names == ["Lost"]  # the lost reply was applied (before its answer was held), the 500 and 429 not
    writes = _logged_writes(m5sim, 3)  # the held answer is logged when the server lets it go
    assert writes == [(500, "error500"), (429, "429"), (200, "lost_reply")]
    assert all(c["user"] == "demo" for c in m5sim.calls())
    m5sim.set_faults({"timeout": 1.0, "timeout_sleep": 0.3, "methods": ["POST"]})
    with pytest.raises(httpx.ReadTimeout):
        http.post("/user", json={"firstname": "Timed", "lastname": "Out"}, timeout=0.1)
    assert http.get("/user", params={"count": "true"}).json()["count"] == 1  # GETs are not faulted
    m5sim.set_faults({})
    assert http.post("/user", json={"firstname": "Ok", "lastname": "Now"}).status_code == 200
    assert m5sim.faults()["error500"] == 0
    bad = httpx.put(f"{m5sim.root}/_sim/faults", json={"error500": 3})
    assert bad.status_code == 400 and "error500" in bad.json()["detail"]
    http.close()


def test_openapi_document_describes_the_api(m5sim):
    doc = httpx.get(f"{m5sim.url}/openapi.json").json()
    paths = doc["paths"]
    for p in ("/user", "/user/{user_id}", "/user/{user_id}/accessgroup/{accessgroup_id}", "/card", "/card/{card_id}",
              "/card/block", "/accessgroup", "/Department", "/usergroup", "/version", "/login", "/logout"):
        assert f"/m5adminapi/api{p}" in paths, p
    assert not any(p.startswith("/_sim") for p in paths)
    schemas = doc["components"]["schemas"]
    assert {"firstname", "lastname"} <= set(schemas["UserCreate"]["required"])
    assert "rastamp" in schemas["UserPatch"]["properties"] and "ErrorBody" in schemas
    assert schemas["UserCreate"]["additionalProperties"] is False


def test_seeded_simulator_from_the_command_line(m5sim_factory):
    seed = {"departments": ["Ekonomi"], "users": [
        {"id": 42, "firstname": "Manual", "lastname": "Record", "department": "Ekonomi", "createdby": "kerstin",
         "createddate": "2018-01-01T10:00:00", "changedby": "kerstin", "changeddate": "2018-01-01T10:00:00"}]}
    sim = m5sim_factory(seed=seed, faults={"latency": 0.01},
                        env={"M5SIM_USER": "svc", "M5SIM_PASSWORD": "s3cret", "M5SIM_APIKEY": "k"})
    assert httpx.post(f"{sim.url}/login", json=LOGIN).status_code == 401  # demo credentials replaced
    http = _session(sim, user="svc", password="s3cret", apikey="k")
    u = http.get("/user/42").json()
    assert u["createdby"] == "kerstin" and u["department"]["departmentname"] == "Ekonomi"
    assert sim.faults()["latency"] == 0.01
    http.close()


@pytest.mark.parametrize(
    ("args", "word"),
    [(["--faults", "error500=7"], "--faults"), (["--seed", "missing.json"], "missing.json"),
     (["--tls-cert", "c.pem"], "--tls-key")],
)
def test_command_line_mistakes_exit_2_with_one_line(tmp_path, args, word):
    proc = subprocess.run(
        [sys.executable, "-m", "passerlink", "m5sim", "--db", str(tmp_path / "x.sqlite"), "--port", "1", *args],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert word in proc.stderr and "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_bad_seed_file_is_refused(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text('{"users": [{"firstname": "NoLastname"}]}', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "passerlink", "m5sim", "--db", str(tmp_path / "x.sqlite"), "--port", "1",
         "--seed", str(seed)], capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2 and "users[0]" in proc.stderr and "lastname" in proc.stderr


_WRITABLE_STR = ["firstname", "lastname", "email", "city", "customfield1", "apireference", "startdate", "message"]
_WRITABLE_INT = ["employmentnumber", "status", "type", "fkdepartment"]
_OTHER = ["id", "rastamp", "createdby", "cards", "nickname"]


_BODIES = st.dictionaries(
    st.sampled_from(_WRITABLE_STR + _WRITABLE_INT + _OTHER),
    st.one_of(st.none(), st.booleans(), st.integers(-5, 2**33), st.text(max_size=300), st.sampled_from(["2024-01-31"])),
    max_size=6,
)


_VALID = st.fixed_dictionaries(
    {"firstname": st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Zs", "Cc"]), min_size=1, max_size=40),
     "lastname": st.just("Berg")},
    optional={"email": st.text(max_size=255), "apireference": st.text(max_size=255), "city": st.none(),
              "employmentnumber": st.integers(0, 2**32 - 1), "status": st.integers(0, 1), "type": st.integers(0, 9)},
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(_BODIES, _VALID))
def test_any_create_body_is_answered_200_or_a_400_error_body(m5sim_session_http, body):
    http = m5sim_session_http
    before = http.get("/user", params={"count": "true", "limit": 1}).json()["count"]
    resp = http.post("/user", json=body)
    assert resp.status_code in (200, 400), resp.text
    after = http.get("/user", params={"count": "true", "limit": 1}).json()["count"]
    event(f"status {resp.status_code}")
    if resp.status_code == 400:
        assert set(resp.json()) == ERROR_KEYS and resp.json()["friendlymessage"]
        assert after == before
    else:
        got = UserOut.model_validate(http.get(f"/user/{resp.json()['id']}").json()).model_dump()
        assert after == before + 1
        for k, v in body.items():
            assert got[k] == ("" if v is None and k in _WRITABLE_STR else v)


@pytest.fixture
def m5sim_session_http(m5sim):
    http = _session(m5sim)
    yield http
    http.close()
