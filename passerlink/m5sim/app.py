"""The M5 Admin API simulator as a FastAPI application.

M5 endpoints live under ``/m5adminapi/api`` (their OpenAPI document at
``/m5adminapi/api/openapi.json``, browsable at ``/m5adminapi/api/docs``). A test-only control
path that is not part of M5 lives under ``/_sim``:

    GET/PUT  /_sim/faults   the fault settings (see ``passerlink.m5sim.faults``)
    GET      /_sim/calls    every M5 request so far: method, path, status, user, fault, write
    DELETE   /_sim/calls    forget them
    DELETE   /_sim/tokens   expire every access token now (the next request gets 401)
    PUT      /_sim/clock    move the simulated clock forward: {"advance": seconds} (token lifetimes)
    POST     /_sim/reset    empty the database, then load the JSON seed in the body (if any)

Handlers are ``async`` and call the SQLite store directly: each call is a millisecond or less,
and sleeping faults (latency, timeouts) then cost no threads.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from passerlink.m5sim import models as m
from passerlink.m5sim.faults import FaultPlan, Faults, faults_from_mapping
from passerlink.m5sim.profiles import PROFILES, Profile
from passerlink.m5sim.store import USER_READONLY, SimError, Store, parse_filter

__all__ = ["BASE_PATH", "API_VERSION", "Simulator", "create_app"]

BASE_PATH = "/m5adminapi/api"
API_VERSION = "1.5.4"
_QUIET = {BASE_PATH + p for p in ("/openapi.json", "/docs", "/docs/oauth2-redirect")}
_READONLY_ANY = {*USER_READONLY, "user"}


def _error(status: int, kind: str, friendly: str, developer: str = "", headers: Mapping[str, str] | None = None
           ) -> JSONResponse:
    return JSONResponse(SimError(status, kind, friendly, developer).body(), status_code=status,
                        headers=dict(headers or {}))


class _Tokens:
    """Access tokens in memory: token -> (user, issued at on ``clock``)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}
        self._clock = clock

    def issue(self, user: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (user, self._clock())
        return token

    def peek(self, token: str | None) -> str | None:
        with self._lock:
            hit = self._tokens.get(token or "")
        return hit[0] if hit else None

    def check(self, token: str | None, ttl: float) -> str:
        if not token:
            raise SimError(401, "no_token", "log in first: the Access-Token header is missing")
        with self._lock:
            hit = self._tokens.get(token)
            if hit is not None and self._clock() - hit[1] > ttl:
                del self._tokens[token]
                raise SimError(401, "token_expired", "the access token has expired: log in again")
        if hit is None:
            raise SimError(401, "token_expired", "the access token is not valid (expired or logged out)")
        return hit[0]

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._tokens.pop(token or "", None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


class Simulator:
    """Everything one running simulator holds: store, tokens, faults, call log, credentials."""

    def __init__(self, store: Store, faults: Faults | None = None, *, user: str = "demo", password: str = "demo",
                 apikey: str = "demo", profile: Profile | None = None) -> None:
        self.store = store
        self.profile = profile or PROFILES["strict"]
        self.plan = FaultPlan(faults)
        #: seconds the simulated clock is ahead of the real one (``PUT /_sim/clock``): tests move
        #: time forward instead of sleeping until a token expires.
        self.clock_offset = 0.0
        self.tokens = _Tokens(self.now)
        self.credentials = (user, password, apikey)
        self._calls: deque[dict[str, Any]] = deque(maxlen=200_000)
        self._calls_lock = threading.Lock()
        self._seq = 0

    def now(self) -> float:
        """The simulator's monotonic clock (the real one plus ``clock_offset``)."""
        return time.monotonic() + self.clock_offset

    def log_call(self, method: str, path: str, query: str, status: int, user: str | None, fault: str | None) -> None:
        tail = path[len(BASE_PATH):]
        write = method in ("POST", "PUT", "PATCH", "DELETE") and tail not in ("/login", "/logout")
        with self._calls_lock:
            self._seq += 1
            self._calls.append({"seq": self._seq, "at": time.time(), "method": method, "path": path,
                                "query": query, "status": status, "user": user, "fault": fault, "write": write})

    def calls(self) -> list[dict[str, Any]]:
        with self._calls_lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        with self._calls_lock:
            self._calls.clear()


class _FaultsAndLog:
    """ASGI middleware: injects the configured faults into M5 requests and logs every M5 call."""

    def __init__(self, app: Any, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(BASE_PATH) or path in _QUIET:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        query = scope.get("query_string", b"")
        scope = {**scope, "query_string": self.sim.profile.query(query)}
        state = scope.setdefault("state", {})
        headers = dict(scope.get("headers") or [])
        token = headers.get(b"access-token", b"").decode("latin-1") or None
        status = {"code": 0}

        async def send_logged(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        faults = self.sim.plan.faults
        kind: str | None = None
        try:
            if faults.latency:
                await asyncio.sleep(faults.latency)
            kind = self.sim.plan.draw(method)
            if kind in ("429", "error500", "timeout"):
                await _drain(receive)
                if kind == "timeout":
                    await asyncio.sleep(faults.timeout_sleep)
                    resp = _error(504, "timeout", "simulated timeout: the request was not processed")
                elif kind == "429":
                    ra = faults.retry_after
                    resp = _error(429, "rate", "too many requests: try again later",
                                  headers={"Retry-After": f"{ra:g}"})
                else:
                    resp = _error(500, "internal", "simulated server error: the request was not processed")
                await resp(scope, receive, send_logged)
            elif kind == "lost_reply":
                held: list[MutableMapping[str, Any]] = []

                async def hold(message: MutableMapping[str, Any]) -> None:
                    held.append(message)

                await self.app(scope, receive, hold)
                await asyncio.sleep(faults.timeout_sleep)
                for message in held:
                    await send_logged(message)
            else:
                await self.app(scope, receive, send_logged)
        finally:
            user = state.get("m5_user") or self.sim.tokens.peek(token)
            self.sim.log_call(method, path, query.decode("latin-1"), status["code"], user, kind)


async def _drain(receive: Any) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


def _load_seed(seed: str | Path | Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if seed is None or isinstance(seed, Mapping):
        return seed
    path = Path(seed)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the seed ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: the seed is not JSON ({exc})") from None


def create_app(db_path: str | Path, seed: str | Path | Mapping[str, Any] | None = None,
               faults: Faults | None = None, *, credentials: tuple[str, str, str] | None = None,
               profile: Profile | None = None) -> FastAPI:
    """The simulator app on the SQLite file ``db_path``; ``seed`` (a JSON file or mapping) is
    loaded only when the database is empty. Credentials default to ``M5SIM_USER``,
    ``M5SIM_PASSWORD``, ``M5SIM_APIKEY`` or ``demo``/``demo``/``demo``; ``profile`` is the variant of the
    real API it plays (``passerlink.m5sim.profiles``, default strict). ValueError for a bad seed."""
    store = Store(db_path)
    world = _load_seed(seed)
    if world is not None and store.is_empty():
        try:
            store.load_seed(world)
        except ValueError as exc:
            store.close()
            where = f"{seed}: " if not isinstance(seed, Mapping) else ""
            raise ValueError(f"{where}{exc}") from None
    if credentials is None:
        credentials = (os.environ.get("M5SIM_USER") or "demo", os.environ.get("M5SIM_PASSWORD") or "demo",
                       os.environ.get("M5SIM_APIKEY") or "demo")
    sim = Simulator(store, faults, user=credentials[0], password=credentials[1], apikey=credentials[2],
                    profile=profile)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="RCard M5 Admin API (passerlink simulator)",
        version=API_VERSION,
        description="A stand-in for RCO's RCard M5 Admin API, for tests and the demo.",
        openapi_url=f"{BASE_PATH}/openapi.json",
        docs_url=f"{BASE_PATH}/docs",
        redoc_url=None,
    )
    app.state.sim = sim
    _install_error_handlers(app)
    app.include_router(_m5_router(sim), prefix=BASE_PATH)
    app.include_router(_control_router(sim), prefix="/_sim", include_in_schema=False)
    app.add_middleware(_FaultsAndLog, sim=sim)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SimError)
    async def _sim_error(request: Request, exc: SimError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
        loc = [str(p) for p in first.get("loc", ())]
        where, name = (loc[0] if loc else "body"), (loc[-1] if len(loc) > 1 else "")
        if first.get("type") == "model_attributes_type" and loc == ["body"] and isinstance(first.get("input"), bytes):
            return _error(400, "invalid", f"the body of {request.url.path} must be JSON (Content-Type: application/json)")
        if first.get("type") == "json_invalid":
            return _error(400, "invalid", f"the body of {request.url.path} is not valid JSON")
        if first.get("type") == "extra_forbidden" and where == "body":
            if name in _READONLY_ANY:
                return _error(400, "readonly", f"field '{name}' is read-only")
            return _error(400, "unknown_field", f"'{name}' is not a field of this resource")
        what = f"field '{name}'" if where == "body" and name else f"{where} parameter '{name}'" if name else where
        msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return _error(400, "invalid", f"{what}: {msg}", developer=json.dumps([{k: e.get(k) for k in ("type", "loc", "msg")} for e in errors], default=str)[:2000])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "not_found" if exc.status_code == 404 else "invalid"
        msg = f"{request.method} {request.url.path}: {exc.detail}"
        return _error(exc.status_code, kind, msg, headers=getattr(exc, "headers", None))


_Offset = Annotated[int, Query(ge=0, description="skip this many")]
_Limit = Annotated[int | None, Query(ge=1, le=10_000, description="at most this many (default: all)")]
_Count = Annotated[bool, Query(description="also answer the total count")]
_Include = Annotated[str | None, Query(description="relations to embed, comma-separated (e.g. cards,accessgroups)")]
_Filter = Annotated[str | None, Query(description="field:'value' conditions joined by ¤ (equality, case-insensitive)")]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": m.ErrorBody} for code in (400, 401, 404, 409, 429, 500)
}
#: relations each resource can embed (``include=``).
_RELATIONS = {
    "user": ("cards", "accessgroups", "department", "usergroup", "floor"),
    "card": ("user", "accessgroups", "readeraccess", "accessalarms"),
    "accessgroup": ("cards", "users", "units", "machinegroups", "functions"),
    "department": (),
    "usergroup": (),
}


def _included(resource: str, include: str | None) -> tuple[str, ...]:
    names = tuple(n.strip().lower() for n in (include or "").split(",") if n.strip())
    known = _RELATIONS[resource]
    for n in names:
        if n not in known:
            raise SimError(400, "invalid", f"include {n!r} is not a relation of {resource} (known: {', '.join(known)})")
    return names


def _listing(key: str, items: list[dict[str, Any]], total: int | None) -> JSONResponse:
    body: dict[str, Any] = {key: items}
    if total is not None:
        body["count"] = total
    return JSONResponse(body)


def _m5_router(sim: Simulator) -> APIRouter:
    """Every M5 endpoint, one group of resources at a time."""
    r = APIRouter(responses=_ERRORS)

    def who(request: Request, access_token: str | None = Header(default=None, alias="Access-Token")) -> str:
        user = sim.tokens.check(access_token, sim.plan.faults.token_ttl)
        request.state.m5_user = user
        return user

    _session_routes(r, sim)
    _user_routes(r, sim, who)
    _card_routes(r, sim, who)
    _group_routes(r, sim, who)
    return r


def _session_routes(r: APIRouter, sim: Simulator) -> None:
    @r.post("/login", response_model=m.TokenBody, tags=["session"])
    async def login(body: m.LoginBody, request: Request) -> JSONResponse:
        user, password, apikey = sim.credentials
        if not (secrets.compare_digest(body.user, user) and secrets.compare_digest(body.password, password)
                and secrets.compare_digest(body.apikey, apikey)):
            raise SimError(401, "login", "login refused: wrong user, password or API key")
        request.state.m5_user = body.user
        return JSONResponse({"accesstoken": sim.tokens.issue(body.user)})

    @r.get("/logout", tags=["session"], status_code=200)
    async def logout(access_token: str | None = Header(default=None, alias="Access-Token")) -> JSONResponse:
        sim.tokens.drop(access_token)
        return JSONResponse({})

    @r.get("/version", response_model=m.VersionBody, tags=["system"])
    async def version() -> JSONResponse:
        return JSONResponse({"version": API_VERSION})


_USER_EMBEDS = ("cards", "accessgroups", "department", "usergroup", "floor")


def _user_routes(r: APIRouter, sim: Simulator, who: Callable[..., str]) -> None:
    store = sim.store

    def shown(user: dict[str, Any], include: tuple[str, ...]) -> dict[str, Any]:
        """A user as the profile answers it: some servers embed relations only when asked."""
        if sim.profile.embeds_without_include:
            return user
        return {k: v for k, v in user.items() if k not in _USER_EMBEDS or k in include}

    @r.get("/user", response_model=m.UserList, response_model_exclude_unset=True, tags=["user"])
    async def list_users(by: str = Depends(who), filter: _Filter = None, include: _Include = None,
                         offset: _Offset = 0, limit: _Limit = None, count: _Count = False) -> JSONResponse:
        embed = _included("user", include)
        conditions = parse_filter(filter) if filter else []
        users, total = store.list_users(conditions, offset=offset, limit=sim.profile.page_limit(limit),
                                        count=count and sim.profile.honours_count)
        return _listing("users", [shown(u, embed) for u in users], total)

    @r.post("/user", response_model=m.UserOut, tags=["user"])
    async def create_user(body: m.UserCreate, by: str = Depends(who)) -> JSONResponse:
        return JSONResponse(store.create_user(body.model_dump(exclude_unset=True), by))

    @r.get("/user/{user_id}", response_model=m.UserOut, tags=["user"])
    async def get_user(user_id: int, by: str = Depends(who), include: _Include = None) -> JSONResponse:
        return JSONResponse(shown(store.get_user(user_id), _included("user", include)))

    @r.patch("/user/{user_id}", response_model=m.UserOut, tags=["user"])
    async def patch_user(user_id: int, body: m.UserPatch, by: str = Depends(who)) -> JSONResponse:
        fields = body.model_dump(exclude_unset=True)
        rastamp = fields.pop("rastamp", None)
        return JSONResponse(store.update_user(user_id, fields, rastamp, by))

    @r.delete("/user/{user_id}", status_code=204, tags=["user"])
    async def delete_user(user_id: int, by: str = Depends(who)) -> Response:
        store.delete_user(user_id)
        return Response(status_code=204)

    @r.put("/user/{user_id}/accessgroup/{accessgroup_id}", status_code=204, tags=["user"])
    async def add_accessgroup(user_id: int, accessgroup_id: int, by: str = Depends(who)) -> Response:
        store.add_membership(user_id, accessgroup_id)
        return Response(status_code=204)

    @r.delete("/user/{user_id}/accessgroup/{accessgroup_id}", status_code=204, tags=["user"])
    async def remove_accessgroup(user_id: int, accessgroup_id: int, by: str = Depends(who)) -> Response:
        store.remove_membership(user_id, accessgroup_id)
        return Response(status_code=204)


def _card_routes(r: APIRouter, sim: Simulator, who: Callable[..., str]) -> None:
    store = sim.store

    @r.get("/card", response_model=m.CardList, response_model_exclude_unset=True, tags=["card"])
    async def list_cards(
        by: str = Depends(who), filter: _Filter = None, include: _Include = None,
        fkusernumber: int | None = Query(default=None, description="only this user's cards (older form of filter=)"),
        offset: _Offset = 0, limit: _Limit = None, count: _Count = False,
    ) -> JSONResponse:
        conditions = parse_filter(filter) if filter else []
        if fkusernumber is not None:
            conditions.append(("fkusernumber", str(fkusernumber)))
        cards, total = store.list_cards(conditions, offset=offset, limit=sim.profile.page_limit(limit),
                                        count=count and sim.profile.honours_count, include=_included("card", include))
        return _listing("cards", cards, total)

    @r.post("/card/block", status_code=204, tags=["card"])
    async def block_cards(body: m.CardBlock, by: str = Depends(who)) -> Response:
        store.block_cards([c.id for c in body.cards], by)
        return Response(status_code=204)

    @r.post("/card", response_model=m.CardOut, tags=["card"])
    async def create_card(body: m.CardCreate, by: str = Depends(who)) -> JSONResponse:
        return JSONResponse(store.create_card(body.model_dump(exclude_unset=True), by))

    @r.get("/card/{card_id}", response_model=m.CardOut, tags=["card"])
    async def get_card(card_id: int, by: str = Depends(who), include: _Include = None) -> JSONResponse:
        return JSONResponse(store.get_card(card_id, _included("card", include)))

    @r.patch("/card/{card_id}", response_model=m.CardOut, tags=["card"])
    async def patch_card(card_id: int, body: m.CardPatch, by: str = Depends(who)) -> JSONResponse:
        fields = body.model_dump(exclude_unset=True)
        rastamp = fields.pop("rastamp", None)
        return JSONResponse(store.update_card(card_id, fields, rastamp, by))

    @r.delete("/card/{card_id}", status_code=204, tags=["card"])
    async def delete_card(card_id: int, by: str = Depends(who)) -> Response:
        store.delete_card(card_id)
        return Response(status_code=204)

    @r.put("/card/{card_id}/accessgroup/{accessgroup_id}", status_code=204, tags=["card"])
    async def add_card_accessgroup(card_id: int, accessgroup_id: int, by: str = Depends(who)) -> Response:
        store.add_card_membership(card_id, accessgroup_id)
        return Response(status_code=204)

    @r.delete("/card/{card_id}/accessgroup/{accessgroup_id}", status_code=204, tags=["card"])
    async def remove_card_accessgroup(card_id: int, accessgroup_id: int, by: str = Depends(who)) -> Response:
        store.remove_card_membership(card_id, accessgroup_id)
        return Response(status_code=204)


def _matching(rows: list[dict[str, Any]], filter: str | None, what: str, model: type[BaseModel]
              ) -> list[dict[str, Any]]:
    """The rows whose fields equal every condition of ``filter`` (case-insensitive), as on /user."""
    conditions = parse_filter(filter) if filter else []
    for field, _ in conditions:
        if field not in model.model_fields:
            raise SimError(400, "filter", f"cannot filter on {field!r}: not a {what} field")
    return [r for r in rows if all(str("" if r.get(f) is None else r.get(f)).casefold() == v.casefold()
                                   for f, v in conditions)]


def _page(sim: Simulator, rows: list[dict[str, Any]], offset: int, limit: int | None, count: bool
          ) -> tuple[list[dict[str, Any]], int | None]:
    cap = sim.profile.page_limit(limit)
    page = rows[offset:] if cap is None else rows[offset:offset + cap]
    return page, (len(rows) if count and sim.profile.honours_count else None)


def _group_routes(r: APIRouter, sim: Simulator, who: Callable[..., str]) -> None:
    store = sim.store
    for path, schema in (("/Department", True), ("/department", False)):
        @r.get(path, response_model=m.DepartmentList, tags=["department"], include_in_schema=schema)
        async def list_departments(by: str = Depends(who), filter: _Filter = None, include: _Include = None,
                                   offset: _Offset = 0, limit: _Limit = None, count: _Count = False) -> JSONResponse:
            _included("department", include)
            rows = _matching(store.list_departments(), filter, "department", m.DepartmentOut)
            return _listing("departments", *_page(sim, rows, offset, limit, count))

        @r.post(path, response_model=m.DepartmentOut, tags=["department"], include_in_schema=schema)
        async def create_department(body: m.DepartmentCreate, by: str = Depends(who)) -> JSONResponse:
            return JSONResponse(store.create_department(body.departmentname, body.departmentdata, by))

    @r.get("/usergroup", response_model=m.UsergroupList, tags=["usergroup"])
    async def list_usergroups(by: str = Depends(who), filter: _Filter = None, include: _Include = None,
                              offset: _Offset = 0, limit: _Limit = None, count: _Count = False) -> JSONResponse:
        _included("usergroup", include)
        rows = _matching(store.list_usergroups(), filter, "user group", m.UsergroupOut)
        return _listing("usergroups", *_page(sim, rows, offset, limit, count))

    @r.post("/usergroup", response_model=m.UsergroupOut, tags=["usergroup"])
    async def create_usergroup(body: m.UsergroupCreate, by: str = Depends(who)) -> JSONResponse:
        return JSONResponse(store.create_usergroup(body.groupname, body.groupdata, by))

    @r.get("/accessgroup", response_model=m.AccessgroupList, response_model_exclude_unset=True, tags=["accessgroup"])
    async def list_accessgroups(by: str = Depends(who), filter: _Filter = None, include: _Include = None,
                                offset: _Offset = 0, limit: _Limit = None, count: _Count = False) -> JSONResponse:
        rows = _matching(store.list_accessgroups(_included("accessgroup", include)), filter, "access group", m.AccessgroupOut)
        return _listing("accessgroups", *_page(sim, rows, offset, limit, count))

    @r.get("/accessgroup/{accessgroup_id}", response_model=m.AccessgroupOut, response_model_exclude_unset=True,
           tags=["accessgroup"])
    async def get_accessgroup(accessgroup_id: int, by: str = Depends(who), include: _Include = None) -> JSONResponse:
        return JSONResponse(store.get_accessgroup(accessgroup_id, _included("accessgroup", include)))


def _control_router(sim: Simulator) -> APIRouter:
    r = APIRouter()

    @r.get("/faults")
    async def get_faults() -> JSONResponse:
        return JSONResponse(sim.plan.public())

    @r.put("/faults")
    async def put_faults(request: Request) -> JSONResponse:
        try:
            raw = json.loads(await request.body() or b"{}")
            if not isinstance(raw, dict):
                raise ValueError("the fault settings must be a JSON object")
            sim.plan.set(faults_from_mapping(raw))
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
        return JSONResponse(sim.plan.public())

    @r.get("/calls")
    async def get_calls() -> JSONResponse:
        return JSONResponse({"calls": sim.calls()})

    @r.delete("/calls", status_code=204)
    async def clear_calls() -> Response:
        sim.clear_calls()
        return Response(status_code=204)

    _clock_and_reset_routes(r, sim)
    return r


def _clock_and_reset_routes(r: APIRouter, sim: Simulator) -> None:
    @r.put("/clock")
    async def advance_clock(request: Request) -> JSONResponse:
        try:
            raw = json.loads(await request.body() or b"{}")
            seconds = float(raw.get("advance", 0)) if isinstance(raw, dict) else -1.0
        except (ValueError, TypeError):
            seconds = -1.0
        if seconds < 0:
            return JSONResponse({"detail": 'send {"advance": seconds} with seconds >= 0'}, status_code=400)
        sim.clock_offset += seconds
        return JSONResponse({"offset": sim.clock_offset})

    @r.delete("/tokens", status_code=204)
    async def expire_tokens() -> Response:
        sim.tokens.clear()
        return Response(status_code=204)

    @r.post("/reset")
    async def reset(request: Request) -> JSONResponse:
        try:
            raw = await request.body()
            seed = json.loads(raw) if raw.strip() else None
            sim.store.reset()
            sim.clock_offset = 0.0
            counts = sim.store.load_seed(seed) if seed else {}
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
        return JSONResponse({"loaded": counts})

