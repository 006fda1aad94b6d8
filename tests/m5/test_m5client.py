"""The M5 client against scripted answers (httpx.MockTransport): retries, login, errors, paging."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from passerlink.config import M5Config
from passerlink.errors import (
    ConfigError,
    M5ApiError,
    M5AuthError,
    M5ConflictError,
    M5NotFoundError,
    M5ProtocolError,
    M5UnavailableError,
)
from passerlink.m5 import M5AssumptionError, M5Client, M5Dialect, format_filter

URL = "https://m5.example.se/m5adminapi/api"
SECRET = "pa55-w0rd-never-logged"


def err(status: int, friendly: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"errorcode": status * 10, "friendlymessage": friendly, "developermessage": "dev", "moreinfo": "",
            "reject": 1}
    return httpx.Response(status, json=body, headers=headers)


class FakeM5:
    """Scripted M5: ``routes[(method, path)]`` is a list of answers (Response, exception or callable)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], list] = {}
        self.logins = 0
        self.valid_tokens: set[str] = set()
        self.lock = threading.Lock()
        self.hold_401: threading.Barrier | None = None  # make threads meet the expiry together

    def on(self, method: str, path: str, *answers) -> None:
        self.routes.setdefault((method, path), []).extend(answers)

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            path = request.url.path.removeprefix("/m5adminapi/api")
            if path == "/login" and (request.method, path) not in self.routes:
                self.logins += 1
                token = f"tok{self.logins}"
                self.valid_tokens.add(token)
                return httpx.Response(200, json={"accesstoken": token})
            expired = path not in ("/login", "/version") and request.headers.get("Access-Token") not in self.valid_tokens
            queue = self.routes.get((request.method, path))
            if not queue and not expired:
                return err(404, f"no route {request.method} {path}")
            answer = None
            if queue and not expired:
                answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if expired:
            if self.hold_401 is not None:
                self.hold_401.wait(timeout=5)
            return err(401, "token expired")
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def client(self, **kw) -> M5Client:
        sleeps: list[float] = []
        opts = {"user": "svc", "password": SECRET, "apikey": "key", "retries": 3, "backoff_base": 0.001,
                "backoff_max": 0.004, "transport": httpx.MockTransport(self.handler), "sleep": sleeps.append}
        opts.update(kw)
        c = M5Client(URL, **opts)
        c.sleeps = sleeps
        return c

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.path.endswith(path))


@pytest.fixture
def fake() -> FakeM5:
    return FakeM5()


def user(uid: int, **fields) -> dict:
    return {"id": uid, "firstname": "A", "lastname": "B", "rastamp": f"/r{uid}", "cards": [], "accessgroups": [],
            "department": None, "usergroup": None, **fields}


def test_login_is_lazy_and_sends_the_documented_body(fake):
    fake.on("GET", "/user/1", httpx.Response(200, json=user(1)))
    c = fake.client()
    assert fake.requests == []
    assert c.get_user(1)["id"] == 1
    login = json.loads(fake.requests[0].content)
    assert login == {"id": "1", "system": "RASYSTEM", "lang": "sv", "user": "svc", "password": SECRET,
                     "apitype": "main", "apikey": "key"}
    assert fake.requests[1].headers["Access-Token"] == "tok1"
    assert c.stats["GET"] == 1 and c.stats["POST"] == 1 and c.stats["writes"] == 0


def test_relogin_once_on_401_then_give_up(fake):
    fake.on("GET", "/user/1", httpx.Response(200, json=user(1)))
    c = fake.client()
    c.login()
    fake.valid_tokens.clear()  # the server forgot our token
    assert c.get_user(1)["id"] == 1
    assert fake.logins == 2 and c.stats["relogins"] == 1
    fake.routes[("GET", "/user/2")] = [lambda r: err(401, "nope")]
    with pytest.raises(M5AuthError, match="GET /user/2"):
        c.get_user(2)
    assert fake.logins == 3  # exactly one re-login for that call


def test_refused_login_names_the_user_not_the_password(fake, caplog):
    fake.on("POST", "/login", err(401, "wrong password"))
    c = fake.client()
    with caplog.at_level(logging.DEBUG), pytest.raises(M5AuthError) as exc:
        c.list_users()
    assert "'svc'" in str(exc.value) and "wrong password" in str(exc.value) and URL in str(exc.value)
    assert SECRET not in str(exc.value) and SECRET not in caplog.text and SECRET not in repr(c)


def test_idempotent_calls_retry_5xx_and_transport_errors(fake):
    fake.on("GET", "/user/1", err(500, "boom"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut"),
            httpx.Response(200, json=user(1)))
    c = fake.client()
    assert c.get_user(1)["id"] == 1
    assert fake.count("GET", "/user/1") == 4 and c.stats["retries"] == 3
    # full jitter: each wait is between 0 and min(backoff_max, base * 2**n)
    assert len(c.sleeps) == 3 and all(0 <= s <= min(0.004, 0.001 * 2**n) for n, s in enumerate(c.sleeps))


def test_retries_exhausted_is_unavailable_naming_url_and_endpoint(fake):
    fake.on("DELETE", "/user/5", err(503, "maintenance"))
    c = fake.client(retries=2)
    with pytest.raises(M5UnavailableError) as exc:
        c.delete_user(5)
    msg = str(exc.value)
    assert URL in msg and "DELETE /user/5" in msg and "maintenance" in msg and "3 attempts" in msg
    assert fake.count("DELETE", "/user/5") == 3


@pytest.mark.parametrize("failure", [err(500, "boom"), httpx.ReadTimeout("slow")])
def test_create_is_not_repeated_after_it_may_have_arrived(fake, failure):
    fake.on("POST", "/user", failure, httpx.Response(200, json=user(9)))
    c = fake.client()
    with pytest.raises(M5UnavailableError, match="not repeated"):
        c.create_user({"firstname": "A", "lastname": "B"})
    assert fake.count("POST", "/user") == 1


def test_create_is_repeated_when_the_connection_never_opened(fake):
    fake.on("POST", "/user", httpx.ConnectError("refused"), httpx.Response(200, json=user(9)))
    c = fake.client()
    assert c.create_user({"firstname": "A", "lastname": "B"})["id"] == 9
    assert c.stats["writes"] == 2


def test_429_honours_retry_after_for_every_method(fake):
    fake.on("POST", "/user", err(429, "slow down", {"Retry-After": "0.25"}), httpx.Response(200, json=user(3)))
    fake.on("GET", "/user/3", err(429, "slow down", {"Retry-After": "2"}), err(429, "x"),
            httpx.Response(200, json=user(3)))
    c = fake.client()
    assert c.create_user({"firstname": "A", "lastname": "B"})["id"] == 3
    assert c.get_user(3)["id"] == 3
    assert c.sleeps[0] == 0.25 and c.sleeps[1] == 2.0 and c.sleeps[2] <= 0.004  # no header: backoff
    fake.routes[("GET", "/user/4")] = [err(429, "slow down", {"Retry-After": "0"})]
    with pytest.raises(M5UnavailableError, match="429"):
        c.get_user(4)


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, M5ApiError), (403, M5AuthError), (404, M5NotFoundError), (409, M5ConflictError)],
)
def test_error_bodies_become_typed_errors(fake, status, cls):
    fake.on("PATCH", "/user/7", err(status, "det gick inte"))
    c = fake.client()
    with pytest.raises(M5ApiError) as exc:
        c.update_user(7, {"city": "X"}, "/r7")
    e = exc.value
    assert type(e) is cls
    assert (e.status, e.errorcode, e.friendlymessage, e.endpoint) == (status, status * 10, "det gick inte",
                                                                      "PATCH /user/7")
    assert str(e) == f"M5 at {URL} answered PATCH /user/7 with {status}: det gick inte"
    assert json.loads(fake.requests[-1].content) == {"city": "X", "rastamp": "/r7"}


@pytest.mark.parametrize(
    ("answer", "word"),
    [(httpx.Response(200, text="<html>IIS</html>"), "not JSON"),
     (httpx.Response(200, json=[1, 2]), "expected object"),
     (httpx.Response(404, text="<html>Not Found</html>"), "base URL"),
     (httpx.Response(302, headers={"Location": "/login.aspx"}), "no M5 error body")],
)
def test_garbage_answers_are_protocol_errors(fake, answer, word):
    fake.on("GET", "/user/1", answer)
    with pytest.raises(M5ProtocolError, match=word) as exc:
        fake.client().get_user(1)
    assert "GET /user/1" in str(exc.value) and URL in str(exc.value)


def test_list_shape_is_checked(fake):
    fake.on("GET", "/user", httpx.Response(200, json={"people": []}))
    with pytest.raises(M5ProtocolError, match="'users'"):
        fake.client().list_users()


def _pager(items: list[dict], key: str, *, honour_limit: bool = True, honour_offset: bool = True,
           count: bool = True, cap: int | None = None) -> Callable:
    """A list resource as a server that may ignore limit/offset/count or cap its pages."""
    def answer(request: httpx.Request) -> httpx.Response:
        q = parse_qs(urlsplit(str(request.url)).query)
        off = int(q.get("offset", ["0"])[0]) if honour_offset else 0
        lim = int(q["limit"][0]) if honour_limit and "limit" in q else len(items)
        lim = min(lim, cap) if cap else lim
        body: dict = {key: items[off:off + lim]}
        if count and q.get("count") == ["true"]:
            body["count"] = len(items)
        return httpx.Response(200, json=body)

    return answer


@pytest.mark.parametrize(("n", "cap", "pages"), [(7, None, 3), (6, None, 2), (0, None, 1), (7, 2, 4), (250, 100, 3)])
def test_paging_follows_the_count_whatever_page_size_the_server_chooses(fake, n, cap, pages):
    fake.on("GET", "/user", _pager([user(i) for i in range(1, n + 1)], "users", cap=cap))
    c = fake.client(page_size=3 if n < 100 else 500)
    assert [u["id"] for u in c.list_users()] == list(range(1, n + 1))
    assert fake.count("GET", "/user") == pages


@pytest.mark.parametrize(("n", "cap", "pages"), [(7, None, 4), (0, None, 1), (250, 100, 4)])
def test_without_a_count_the_listing_is_read_to_an_empty_page_twice(fake, n, cap, pages):
    fake.on("GET", "/user", _pager([user(i) for i in range(1, n + 1)], "users", cap=cap, count=False))
    c = fake.client(page_size=3 if n < 100 else 500)
    assert [u["id"] for u in c.list_users()] == list(range(1, n + 1))
    assert fake.count("GET", "/user") == 2 * pages  # a short page (a capped server) is not the end


def test_a_server_that_ignores_limit_and_offset_is_complete_by_its_count_and_refused_without(fake):
    fake.on("GET", "/card", _pager([{"id": i} for i in range(7)], "cards", honour_limit=False, honour_offset=False))
    c = fake.client(page_size=3)
    assert len(c.list_cards()) == 7 and fake.count("GET", "/card") == 1
    fake.on("GET", "/Department", _pager([{"id": i} for i in range(7)], "departments", honour_offset=False,
                                         count=False))
    with pytest.raises(M5AssumptionError, match="does not honour 'offset'") as exc:
        c.list_departments()
    assert exc.value.exit_code == 3


def test_a_listing_short_of_its_count_stops(fake):
    def short(request: httpx.Request) -> httpx.Response:
        q = parse_qs(urlsplit(str(request.url)).query)
        off = int(q["offset"][0])
        return httpx.Response(200, json={"users": [user(i) for i in range(1, 6)][off:off + 3], "count": 9})

    fake.on("GET", "/user", short)
    with pytest.raises(M5AssumptionError, match=r"listed 5 items for GET /user.* counts 9: the listing is incomplete"):
        fake.client(page_size=3).list_users()


def test_two_reads_that_differ_stop(fake):
    reads = iter([[user(1), user(2)], [], [user(1)], []])
    fake.on("GET", "/user", lambda request: httpx.Response(200, json={"users": next(reads)}))
    with pytest.raises(M5AssumptionError, match="two reads of it differ"):
        fake.client(page_size=3).list_users()


def test_paging_parameters_and_paging_none_come_from_the_dialect(fake):
    fake.on("GET", "/user", _pager([user(i) for i in range(1, 5)], "users"))
    c = fake.client(dialect=M5Dialect(paging="none"))
    assert len(c.list_users()) == 4
    q = parse_qs(urlsplit(str(fake.requests[-1].url)).query)
    assert "offset" not in q and "limit" not in q and q["count"] == ["true"]
    fake.on("GET", "/usergroup", httpx.Response(200, json={"usergroups": [], "count": 0}))
    fake.client(dialect=M5Dialect(offset_param="skip", limit_param="take", page_size=2)).list_usergroups()
    q = parse_qs(urlsplit(str(fake.requests[-1].url)).query)
    assert q["skip"] == ["0"] and q["take"] == ["2"]


def test_a_card_list_for_one_user_holding_other_users_cards_stops(fake):
    every = [{"id": 1, "fkusernumber": 3}, {"id": 2, "fkusernumber": 4}]
    fake.on("GET", "/card", lambda request: httpx.Response(200, json={"cards": every, "count": 2}))
    with pytest.raises(M5AssumptionError, match=r"GET /card\?filter=fkusernumber:'3' with cards of 1 other users"):
        fake.client().list_cards(3)
    q = parse_qs(urlsplit(str(fake.requests[-1].url)).query)
    assert q["filter"] == ["fkusernumber:'3'"]
    fake.routes[("GET", "/card")] = [httpx.Response(200, json={"cards": every[:1], "count": 1})]
    assert fake.client(dialect=M5Dialect(card_filter="param")).list_cards(3) == every[:1]
    assert parse_qs(urlsplit(str(fake.requests[-1].url)).query)["fkusernumber"] == ["3"]


def test_a_filtered_user_list_with_users_that_do_not_match_stops(fake):
    fake.on("GET", "/user", httpx.Response(200, json={"users": [user(1, apireference="passerlink:hr:1"),
                                                                 user(2, apireference="")], "count": 2}))
    with pytest.raises(M5AssumptionError, match="does not honour filter= on /user"):
        fake.client().list_users({"apireference": "passerlink:hr:1"})


def test_users_without_embedded_lists_are_asked_again_with_include_and_never_read_as_none(fake):
    def embed_only_when_asked(request: httpx.Request) -> httpx.Response:
        q = parse_qs(urlsplit(str(request.url)).query)
        asked = set(q.get("include", [""])[0].split(","))
        u = {k: v for k, v in user(1, cards=[{"id": 5, "fkusernumber": 1}]).items()
             if k not in ("cards", "accessgroups") or k in asked}
        return httpx.Response(200, json={"users": [u], "count": 1})

    fake.on("GET", "/user", embed_only_when_asked)
    assert fake.client(dialect=M5Dialect(include=()))\
        .list_users()[0]["cards"] == [{"id": 5, "fkusernumber": 1}]
    assert "cards,accessgroups" in str(fake.requests[-1].url.params.get("include"))

    never = {k: v for k, v in user(1).items() if k != "accessgroups"}
    fake.routes[("GET", "/user")] = [httpx.Response(200, json={"users": [never], "count": 1})]
    with pytest.raises(M5AssumptionError, match="without the users' 'accessgroups' even with include="):
        fake.client().list_users()


def test_a_department_never_embedded_is_taken_from_the_department_list_by_id(fake):
    bare = {k: v for k, v in user(1, fkdepartment=7, fkusergroup=None).items() if k not in ("department", "usergroup")}
    fake.on("GET", "/user", httpx.Response(200, json={"users": [bare], "count": 1}))
    fake.on("GET", "/Department", httpx.Response(200, json={"departments": [{"id": 7, "departmentname": "IT"}],
                                                             "count": 1}))
    fake.on("GET", "/usergroup", httpx.Response(200, json={"usergroups": [], "count": 0}))
    got = fake.client().list_users()[0]
    assert got["department"] == {"id": 7, "departmentname": "IT"} and got["usergroup"] is None
    asked = [r.url.params.get("include") for r in fake.requests if r.url.path.endswith("/user")]
    assert asked == ["cards,accessgroups,department,usergroup"]  # asked once: include was already sent


def test_filter_is_sent_in_m5_syntax(fake):
    fake.on("GET", "/user", httpx.Response(200, json={"users": [], "count": 0}))
    fake.client().list_users({"firstname": "Anna", "lastname": "O'Brien"})
    q = parse_qs(urlsplit(str(fake.requests[-1].url)).query)
    assert q["filter"] == ["firstname:'Anna'¤lastname:'O''Brien'"]
    assert format_filter({"apireference": "passerlink:hr:1"}) == "apireference:'passerlink:hr:1'"


def test_lost_patch_reply_is_resolved_by_reading_the_user(fake):
    fake.on("PATCH", "/user/1", httpx.ReadTimeout("lost"), err(409, "stale rastamp"))
    fake.on("GET", "/user/1", httpx.Response(200, json=user(1, city="Hultsfred", rastamp="/new")))
    c = fake.client()
    assert c.update_user(1, {"city": "Hultsfred"}, "/r1")["rastamp"] == "/new"
    # the same 409 without an earlier lost attempt is a real conflict
    fake.routes[("PATCH", "/user/1")] = [err(409, "stale rastamp")]
    with pytest.raises(M5ConflictError):
        c.update_user(1, {"city": "Hultsfred"}, "/r1")
    # ... and so is a 409 after a lost attempt when the user does not hold our values
    fake.routes[("PATCH", "/user/1")] = [httpx.ReadTimeout("lost"), err(409, "stale rastamp")]
    with pytest.raises(M5ConflictError):
        c.update_user(1, {"city": "Vimmerby"}, "/r1")


def test_lost_delete_reply_counts_as_deleted(fake):
    fake.on("DELETE", "/user/1", httpx.ReadTimeout("lost"), err(404, "user 1 does not exist"))
    fake.on("DELETE", "/user/2", err(404, "user 2 does not exist"))
    c = fake.client()
    c.delete_user(1)
    with pytest.raises(M5NotFoundError):
        c.delete_user(2)


def test_token_renewed_once_when_threads_hit_expiry_together(fake):
    fake.on("GET", "/user/1", httpx.Response(200, json=user(1)))
    c = fake.client()
    c.login()
    fake.valid_tokens.clear()
    fake.hold_401 = threading.Barrier(4)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                c.get_user(1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and fake.logins == 2


def test_close_logs_out_best_effort(fake):
    fake.on("GET", "/user/1", httpx.Response(200, json=user(1)))
    fake.on("GET", "/logout", httpx.ConnectError("gone"))
    c = fake.client()
    c.get_user(1)
    c.close()  # a failing logout is not an error
    assert fake.count("GET", "/logout") == 1
    with fake.client() as c2:
        pass
    assert c2.stats["POST"] == 0  # never logged in, so no logout either
    assert fake.count("GET", "/logout") == 1


def test_from_config_reads_secrets_from_the_environment(m5_env, monkeypatch, tmp_path):
    m5 = M5Config(url="https://m5.example.se/m5adminapi/api", timeout_seconds=7, retries=2, page_size=50)
    c = M5Client.from_config(m5, url="http://127.0.0.1:1/m5adminapi/api")
    assert c.base_url == "http://127.0.0.1:1/m5adminapi/api" and c.page_size == 50 and c.retries == 2
    c.close()
    monkeypatch.delenv("PASSERLINK_M5_APIKEY")
    cfg = tmp_path / "passerlink.toml"
    with pytest.raises(ConfigError, match="PASSERLINK_M5_APIKEY") as exc:
        M5Client.from_config(m5, config_path=cfg)
    assert str(cfg) in str(exc.value)


def test_missing_ca_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="ca.pem"):
        M5Client(URL, user="u", password="p", apikey="k", verify=tmp_path / "ca.pem")


def card(cid: int, **fields) -> dict:
    return {"id": cid, "fkusernumber": 1, "cardidentity": "1234", "isblocked": True, "rastamp": f"/c{cid}", **fields}


def test_update_card_patches_with_rastamp_and_retries_like_a_user_patch(fake):
    sent: list[dict] = []

    def patched(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=card(7, isblocked=False, rastamp="/c7b"))

    fake.on("PATCH", "/card/7", httpx.Response(503), patched)
    c = fake.client()
    assert c.update_card(7, {"isblocked": False}, "/c7")["isblocked"] is False
    assert sent == [{"isblocked": False, "rastamp": "/c7"}] and fake.count("PATCH", "/card/7") == 2
    assert c.stats["retries"] == 1 and len(c.sleeps) == 1
    fake.routes[("PATCH", "/card/8")] = [err(404, "card 8 does not exist")]
    with pytest.raises(M5NotFoundError, match="PATCH /card/8"):
        c.update_card(8, {"isblocked": False}, "/c8")


def test_lost_card_patch_reply_is_resolved_by_reading_the_card(fake):
    fake.on("PATCH", "/card/7", httpx.ReadTimeout("lost"), err(409, "stale rastamp"))
    fake.on("GET", "/card/7", httpx.Response(200, json=card(7, isblocked=False, rastamp="/new")))
    c = fake.client()
    assert c.update_card(7, {"isblocked": False}, "/c7")["rastamp"] == "/new"
    assert fake.count("GET", "/card/7") == 1 and fake.count("GET", "/user/7") == 0
    fake.routes[("PATCH", "/card/7")] = [err(409, "stale rastamp")]
    with pytest.raises(M5ConflictError, match="PATCH /card/7"):
        c.update_card(7, {"isblocked": False}, "/c7")
    # a lost attempt, but the card does not hold our value: someone else changed it
    fake.routes[("PATCH", "/card/7")] = [httpx.ReadTimeout("lost"), err(409, "stale rastamp")]
    fake.routes[("GET", "/card/7")] = [httpx.Response(200, json=card(7, isblocked=True, rastamp="/other"))]
    with pytest.raises(M5ConflictError):
        c.update_card(7, {"isblocked": False}, "/c7")
