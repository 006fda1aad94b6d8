"""The M5 client over real HTTP against the simulator: CRUD, paging, conflicts, every fault mode."""

from __future__ import annotations

import threading

import pytest

from passerlink.config import M5Config
from passerlink.errors import M5ConflictError, M5NotFoundError, M5UnavailableError
from passerlink.m5 import M5Client
from passerlink.processes import free_port

MANUAL = {
    "departments": ["Ekonomi"],
    "accessgroups": [{"id": 1, "name": "Huvudentré"}, {"id": 2, "name": "Skola"}],
    "users": [{"id": 100, "firstname": "Vera", "lastname": "Vikarie", "department": "Ekonomi",
               "createdby": "kerstin", "createddate": "2019-05-02T09:00:00", "changedby": "kerstin",
               "changeddate": "2019-05-02T09:00:00"}],
    "cards": [{"id": 7, "fkusernumber": 100, "name": "tag", "cardidentity": "1234"}],
}


def test_crud_and_stamps_tell_integration_writes_from_manual_ones(m5sim):
    m5sim.reset(MANUAL)
    with m5sim.client() as c:
        assert c.version()["version"]
        manual = c.get_user(100)
        assert manual["createdby"] == manual["changedby"] == "kerstin"
        new = c.create_user({"firstname": "Åke", "lastname": "Ödman", "apireference": "passerlink:hr:1",
                             "employmentnumber": 1001, "fkdepartment": manual["fkdepartment"]})
        assert new["createdby"] == "demo" and new["department"]["departmentname"] == "Ekonomi"
        changed = c.update_user(new["id"], {"email": "ake@hultsfred.se", "status": 0}, new["rastamp"])
        assert changed["email"] == "ake@hultsfred.se" and changed["status"] == 0 and changed["rastamp"] != new["rastamp"]
        c.add_user_accessgroup(new["id"], 2)
        assert [a["name"] for a in c.get_user(new["id"])["accessgroups"]] == ["Skola"]
        c.remove_user_accessgroup(new["id"], 2)
        assert c.list_accessgroups()[0]["name"] == "Huvudentré"
        c.block_cards([7])
        assert c.list_cards(100)[0]["isblocked"] is True and c.list_cards(new["id"]) == []
        d = c.create_department("Skola", "F-9")
        g = c.create_usergroup("Elev")
        assert d["id"] in [x["id"] for x in c.list_departments()] and c.list_usergroups()[0]["id"] == g["id"]
        c.delete_user(new["id"])
        with pytest.raises(M5NotFoundError, match=f"GET /user/{new['id']}"):
            c.get_user(new["id"])
        assert c.get_user(100)["changedby"] == "kerstin"  # nothing touched the manual record
    writes = m5sim.writes()
    assert writes and all(w["user"] == "demo" for w in writes)
    assert c.stats["writes"] == len(writes)


def test_filter_and_paging_over_several_pages(m5sim):
    with m5sim.client(page_size=10) as c:
        for i in range(25):
            c.create_user({"firstname": "Anna" if i % 5 == 0 else "Per", "lastname": f"Berg{i}",
                           "apireference": f"passerlink:hr:{i}"})
        m5sim.clear_calls()
        users = c.list_users()
        assert [u["lastname"] for u in users] == [f"Berg{i}" for i in range(25)]
        assert sum(1 for x in m5sim.calls() if x["path"].endswith("/user")) == 3
        assert [u["lastname"] for u in c.list_users({"firstname": "ANNA"})] == [f"Berg{i}" for i in (0, 5, 10, 15, 20)]
        assert [u["id"] for u in c.list_users({"apireference": "passerlink:hr:7"})] == [users[7]["id"]]


def test_stale_rastamp_is_a_conflict(m5sim):
    with m5sim.client() as a, m5sim.client() as b:
        u = a.create_user({"firstname": "Anna", "lastname": "Berg"})
        b.update_user(u["id"], {"city": "Vimmerby"}, u["rastamp"])
        with pytest.raises(M5ConflictError, match=f"PATCH /user/{u['id']}"):
            a.update_user(u["id"], {"city": "Hultsfred"}, u["rastamp"])
        assert a.get_user(u["id"])["city"] == "Vimmerby"


def test_500s_and_429s_end_in_success_after_retry(m5sim):
    with m5sim.client() as c:
        u = c.create_user({"firstname": "A", "lastname": "B"})
        m5sim.clear_calls()
        m5sim.set_faults({"queue": ["error500", "429", "error500"], "retry_after": 0.05})
        assert c.get_user(u["id"])["id"] == u["id"]
        assert [x["status"] for x in m5sim.calls()] == [500, 429, 500, 200]
        m5sim.set_faults({"queue": ["429"], "retry_after": 0.05})
        assert c.create_user({"firstname": "C", "lastname": "D"})["id"]  # a 429 is safe to repeat, even a create


def test_a_create_that_fails_is_not_repeated_and_not_applied(m5sim):
    with m5sim.client() as c:
        c.login()
        m5sim.set_faults({"queue": ["error500"]})
        with pytest.raises(M5UnavailableError, match="not repeated"):
            c.create_user({"firstname": "A", "lastname": "B"})
        assert c.list_users() == []
        assert len(m5sim.writes()) == 1


def test_persistent_failure_is_unavailable_after_all_retries(m5sim):
    with m5sim.client(retries=2) as c:
        c.login()
        m5sim.set_faults({"error500": 1.0, "methods": ["GET"]})
        with pytest.raises(M5UnavailableError, match="3 attempts") as exc:
            c.list_users()
        assert m5sim.url in str(exc.value)
        assert sum(1 for x in m5sim.calls() if x["method"] == "GET") == 3


def test_timeouts_retry_reads_but_not_creates(m5sim):
    with m5sim.client(timeout=0.3) as c:
        u = c.create_user({"firstname": "A", "lastname": "B"})
        m5sim.set_faults({"queue": ["timeout"], "timeout_sleep": 0.6})
        assert c.get_user(u["id"])["id"] == u["id"]
        m5sim.set_faults({"queue": ["timeout"], "timeout_sleep": 0.6})
        with pytest.raises(M5UnavailableError, match="no answer within 0.3 s"):
            c.create_user({"firstname": "Never", "lastname": "Made"})
        # a timed-out request is not processed: nothing to wait for
        assert [x["firstname"] for x in c.list_users()] == ["A"]


def test_lost_replies_are_resolved_so_a_rerun_converges(m5sim):
    with m5sim.client(timeout=0.3) as c:
        u = c.create_user({"firstname": "A", "lastname": "B", "apireference": "passerlink:hr:1"})
        m5sim.set_faults({"queue": ["lost_reply"], "timeout_sleep": 0.5})
        got = c.update_user(u["id"], {"city": "Hultsfred"}, u["rastamp"])  # applied, answer lost, retried
        assert got["city"] == "Hultsfred"
        m5sim.set_faults({"queue": ["lost_reply"], "timeout_sleep": 0.5})
        with pytest.raises(M5UnavailableError):
            c.create_user({"firstname": "C", "lastname": "D", "apireference": "passerlink:hr:2"})
        # the create was applied although its answer was lost: the caller finds it by its marker
        assert len(c.list_users({"apireference": "passerlink:hr:2"})) == 1
        m5sim.set_faults({"queue": ["lost_reply"], "timeout_sleep": 0.5})
        c.delete_user(u["id"])  # deleted, answer lost, the retry's 404 means done
        with pytest.raises(M5NotFoundError):
            c.get_user(u["id"])


def test_token_expiry_mid_run_means_one_relogin(m5sim):
    with m5sim.client() as c:
        u = c.create_user({"firstname": "A", "lastname": "B"})
        m5sim.expire_tokens()
        assert c.get_user(u["id"])["id"] == u["id"]
        assert c.stats["logins"] == 2 and c.stats["relogins"] == 1
        m5sim.set_faults({"token_ttl": 60})
        for _ in range(4):
            c.get_user(u["id"])
            m5sim.advance_clock(40)  # the third call finds its token 80 s old
        assert c.stats["relogins"] == 2


def test_four_threads_under_a_mix_of_faults_reach_the_right_state(m5sim):
    with m5sim.client(timeout=0.25, retries=10) as c:
        ids = [c.create_user({"firstname": f"T{i}", "lastname": "X"})["id"] for i in range(20)]
        m5sim.set_faults({"error500": 0.15, "429": 0.1, "lost_reply": 0.03, "retry_after": 0.01,
                          "timeout_sleep": 0.4, "token_ttl": 0.5, "seed": 11})
        errors: list[BaseException] = []

        def work(mine: list[int]) -> None:
            try:
                for uid in mine:
                    for step in range(3):
                        cur = c.get_user(uid)
                        c.update_user(uid, {"message": f"step{step}"}, cur["rastamp"])
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(ids[n::4],)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        m5sim.set_faults({})
        assert not errors, errors[0]
        assert {u["message"] for u in c.list_users()} == {"step2"}
        faults = {x["fault"] for x in m5sim.calls()}
        assert {"error500", "429"} <= faults  # the faults really happened


def test_unreachable_m5_names_the_url(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/m5adminapi/api"
    c = M5Client(url, user="u", password="p", apikey="k", retries=1, backoff_base=0.01)
    with pytest.raises(M5UnavailableError, match="cannot connect") as exc:
        c.list_users()
    assert url in str(exc.value)
    c.close()


def test_client_from_config_against_the_simulator(m5sim, m5_env):
    m5 = M5Config(url="https://elsewhere.invalid/m5adminapi/api")
    with M5Client.from_config(m5, url=m5sim.url) as c:
        assert c.list_users() == []


def test_update_card_unblocks_over_http_and_a_stale_rastamp_conflicts(m5sim):
    m5sim.reset(MANUAL)
    with m5sim.client() as c:
        c.block_cards([7])
        blocked = c.get_card(7)
        assert blocked["isblocked"] is True
        opened = c.update_card(7, {"isblocked": False}, blocked["rastamp"])
        assert opened["isblocked"] is False and opened["rastamp"] != blocked["rastamp"]
        assert c.list_cards(100)[0]["isblocked"] is False and opened["changedby"] == "demo"
        with pytest.raises(M5ConflictError, match="PATCH /card/7"):
            c.update_card(7, {"isblocked": True}, blocked["rastamp"])
        with pytest.raises(M5NotFoundError, match="/card/99"):
            c.update_card(99, {"isblocked": False}, "x")
