"""The one module that talks to the RCard M5 Admin API (httpx); everything M5-specific lives here.

What it promises its callers (the extractor, the sync engine, the workbench):

- Login is lazy, and a 401 triggers exactly one re-login per call; the token is shared by all
  threads and renewed once even when four threads hit the expiry together.
- Calls that are safe to repeat (GET, PUT, DELETE, PATCH – guarded by ``rastamp`` – and
  ``/card/block``) are retried on timeouts, dropped connections and 5xx answers, with exponential
  backoff and full jitter. A create (POST) is never repeated after it may have reached the
  server: the caller looks for its ownership marker before creating again. A 429 is retried for
  every method, after ``Retry-After``: M5 did not process it.
- A retried call whose earlier attempt may have been applied (its answer was lost) is resolved:
  a DELETE that now meets 404 has succeeded; a PATCH (of a user or a card) that now meets 409
  has succeeded if the object holds every value we sent.
- Failures are the typed exceptions of ``passerlink.errors``, each one sentence naming the URL
  and endpoint. Passwords and tokens never reach a log or a message.
- No answer is used that does not confirm its question (``M5AssumptionError``, exit 3, before
  anything is written): a listing is complete (``count`` reached, or two reads agree), a card
  list asked for one user holds only that user's cards, a filtered user list holds only users
  that match, and a user without its ``cards``/``accessgroups`` is asked again with
  ``include=`` — never read as "none". How the site pages, filters and embeds is the
  ``M5Dialect`` made from ``[m5]``.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from passerlink.errors import (
    ConfigError,
    M5ApiError,
    M5AuthError,
    M5ConflictError,
    M5NotFoundError,
    M5ProtocolError,
    M5UnavailableError,
)
from passerlink.m5._dialect import (
    USER_EXPANDED,
    USER_RELATIONS,
    M5AssumptionError,
    M5Dialect,
    format_filter,
)
from passerlink.m5._listing import Page, read_complete
from passerlink.m5._retry import RetryPolicy, retry_after_seconds

if TYPE_CHECKING:
    from passerlink.config import M5Config

__all__ = ["M5Client", "M5Record", "format_filter"]

log = logging.getLogger(__name__)

_SAFE = frozenset({"GET", "PUT", "DELETE", "PATCH"})
_MAX_RETRY_AFTER = 300.0

#: One M5 object as JSON (a user, a card, an access group ...).
M5Record = dict[str, Any]


class _ConflictAfterLostReply(M5ConflictError):
    """A 409 met by a retry: the earlier attempt may have been applied."""


def _ssl_setting(verify: bool | str | Path, cert: str | Path | tuple[str | Path, str | Path] | None
                 ) -> bool | ssl.SSLContext:
    """What httpx gets as ``verify``: True/False, or a context with our CA file and client cert."""
    if verify is True and cert is None:
        return True
    if verify is False and cert is None:
        return False
    if verify is True or verify is False:
        ctx = httpx.create_ssl_context(verify=verify)
    else:
        ca = Path(verify)
        if not ca.exists():
            raise ConfigError(f"M5 CA file {ca} does not exist")
        try:
            ctx = ssl.create_default_context(capath=str(ca)) if ca.is_dir() else ssl.create_default_context(
                cafile=str(ca))
        except ssl.SSLError as exc:
            raise ConfigError(f"M5 CA file {ca} is not a PEM certificate bundle ({exc.reason})") from None
    if cert is not None:
        certfile, keyfile = (cert if isinstance(cert, tuple) else (cert, None))
        try:
            ctx.load_cert_chain(str(certfile), str(keyfile) if keyfile else None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"M5 client certificate {certfile} cannot be loaded ({exc})") from None
    return ctx


class M5Client:
    """A thread-safe client of one M5 Admin API (base URL ending in ``/m5adminapi/api``)."""

    def __init__(
        self,
        base_url: str,
        *,
        user: str,
        password: str,
        apikey: str,
        verify: bool | str | Path = True,
        cert: str | Path | tuple[str | Path, str | Path] | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        page_size: int = 500,
        backoff_base: float = 0.25,
        backoff_max: float = 10.0,
        dialect: M5Dialect | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = RetryPolicy(max(0, int(retries)), backoff_base, backoff_max)
        #: how this site pages, filters and embeds (``[m5]``); ``page_size`` when not given.
        self.dialect = dialect if dialect is not None else M5Dialect(page_size=page_size)
        self._user = user
        self._password = password
        self._apikey = apikey
        self._http = httpx.Client(
            base_url=self.base_url,
            verify=_ssl_setting(verify, cert),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )
        self._token: str | None = None
        self._token_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._sleep = sleep
        #: requests sent per method ("GET", "POST", ...), plus "writes", "retries", "logins".
        self.stats: collections.Counter[str] = collections.Counter()
        #: the ``Date`` header of the last answer (for the clock-skew check), as sent.
        self.last_date: str | None = None

    @property
    def retries(self) -> int:
        return self.retry.retries

    @property
    def page_size(self) -> int:
        return self.dialect.page_size

    @classmethod
    def from_config(cls, m5: M5Config, *, config_path: Path | None = None, url: str | None = None) -> M5Client:
        """A client for the ``[m5]`` section; secrets from the environment variables it names."""
        from passerlink.config import secret_from_env

        user = secret_from_env(m5.user_env, "M5 user", config_path)
        password = secret_from_env(m5.password_env, "M5 password", config_path)
        apikey = secret_from_env(m5.apikey_env, "M5 API key", config_path)
        verify: bool | Path = m5.ca_file if m5.ca_file is not None and m5.verify_tls else m5.verify_tls
        cert: Path | tuple[Path, Path] | None = None
        if m5.client_cert is not None:
            cert = (m5.client_cert, m5.client_key) if m5.client_key is not None else m5.client_cert
        return cls(
            url or m5.url,
            user=user,
            password=password,
            apikey=apikey,
            verify=verify,
            cert=cert,
            timeout=m5.timeout_seconds,
            retries=m5.retries,
            dialect=M5Dialect.from_config(m5),
        )

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> M5Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"M5Client({self.base_url!r}, user={self._user!r})"

    def close(self) -> None:
        """Log out (best effort: a failure here is not worth an error) and close the connections."""
        with self._token_lock:
            token, self._token = self._token, None
        if token:
            with contextlib.suppress(httpx.HTTPError):
                self._http.get("/logout", headers={"Access-Token": token}, timeout=min(self.timeout, 5.0))
        self._http.close()

    def tls_details(self) -> dict[str, str] | None:
        """The TLS session of a fresh ``GET /version``: protocol, cipher, certificate subject, issuer
        and expiry (None over plain http). The certificate was verified unless ``verify`` is off."""
        if not self.base_url.startswith("https://"):
            return None
        try:
            with self._http.stream("GET", "/version") as resp:
                stream = resp.extensions.get("network_stream")
                sock = stream.get_extra_info("ssl_object") if stream is not None else None
                if sock is None:
                    return {}
                cert = sock.getpeercert() or {}
                cipher = sock.cipher()
                return {"protocol": str(sock.version() or ""), "cipher": cipher[0] if cipher else "",
                        "subject": _dn(cert.get("subject")), "issuer": _dn(cert.get("issuer")),
                        "expires": str(cert.get("notAfter") or "")}
        except httpx.HTTPError as exc:
            raise M5UnavailableError(f"M5 at {self.base_url}: {self._transport_reason(exc)}") from exc

    def login(self) -> None:
        """Log in now (otherwise the first call does it)."""
        with self._token_lock:
            self._token = self._login()

    def _login(self) -> str:
        body = {"id": "1", "system": "RASYSTEM", "lang": "sv", "user": self._user, "password": self._password,
                "apitype": "main", "apikey": self._apikey}
        try:
            resp, _ = self._call("POST", "/login", json=body, retry=True, auth=False)
        except M5AuthError as exc:
            raise M5AuthError(
                f"M5 at {self.base_url} refused the login of user {self._user!r}: {exc.friendlymessage or exc}",
                status=exc.status, errorcode=exc.errorcode, friendlymessage=exc.friendlymessage,
                developermessage=exc.developermessage, endpoint="POST /login",
            ) from None
        data = self._json(resp, "POST /login")
        token = data.get("accesstoken") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise M5ProtocolError(f"M5 at {self.base_url} answered POST /login without an access token")
        self._count("logins")
        return token

    def _current_token(self) -> str:
        with self._token_lock:
            if self._token is None:
                self._token = self._login()
            return self._token

    def _drop_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token = None

    # ------------------------------------------------------------------ transport
    def _count(self, *keys: str) -> None:
        with self._stats_lock:
            for k in keys:
                self.stats[k] += 1

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str | int] | None = None,
        retry: bool | None = None,
        auth: bool = True,
    ) -> tuple[httpx.Response, bool]:
        """Send one API call with retries; the 2xx answer, and whether an earlier attempt may have
        reached M5 (its answer lost). Raises the typed errors."""
        endpoint = f"{method} {path}"
        safe = method in _SAFE if retry is None else retry
        write = method != "GET" and path not in ("/login", "/logout")
        attempt = 0
        relogged = False
        ambiguous = False
        while True:
            headers = {"Access-Token": self._current_token()} if auth else {}
            self._count(method, *(["writes"] if write else []))
            try:
                resp = self._http.request(method, path, json=json, params=params, headers=headers)
            except httpx.HTTPError as exc:
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
                reason = self._transport_reason(exc)
                if "certificate" in reason:
                    raise M5UnavailableError(f"M5 at {self.base_url}: {reason}") from exc
                if (safe or not sent) and self.retry.allows(attempt):
                    ambiguous = ambiguous or sent
                    self._pause(endpoint, reason, attempt, None)
                    attempt += 1
                    continue
                tail = f" after {attempt + 1} attempts" if attempt else ""
                if not safe and sent:
                    tail += " (not repeated: the request may have been applied)"
                raise M5UnavailableError(f"M5 at {self.base_url} failed {endpoint}: {reason}{tail}") from exc
            self.last_date = resp.headers.get("Date") or self.last_date
            status = resp.status_code
            if 200 <= status < 300:
                return resp, ambiguous
            if status == 401 and auth and not relogged:
                relogged = True
                self._drop_token(headers["Access-Token"])
                self._count("relogins")
                log.info("M5 %s: access token refused; logging in again", endpoint)
                continue
            # a 429 was not processed (any method); a 5xx may have been (only safe calls again)
            again = status == 429 or (status >= 500 and safe)
            if again and self.retry.allows(attempt):
                ambiguous = ambiguous or status >= 500
                wait = retry_after_seconds(resp.headers.get("Retry-After")) if status == 429 else None
                self._pause(endpoint, f"answered {status}", attempt, wait)
                attempt += 1
                continue
            if status == 404 and method == "DELETE" and ambiguous:
                return resp, ambiguous  # an earlier attempt deleted it; its answer was lost
            raise self._error(resp, endpoint, attempts=attempt + 1, retried=safe, ambiguous=ambiguous)

    def _pause(self, endpoint: str, why: str, attempt: int, retry_after: float | None) -> None:
        """The one place a retry waits: log it, count it, sleep the policy's delay."""
        delay = self.retry.delay(attempt, retry_after)
        log.warning("M5 %s: %s; retry %d/%d in %.2f s", endpoint, why, attempt + 1, self.retry.retries, delay)
        self._count("retries")
        self._sleep(delay)

    def _transport_reason(self, exc: httpx.HTTPError) -> str:
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ssl.SSLCertVerificationError):
                return f"its TLS certificate could not be verified ({cause.verify_message})"
            if isinstance(cause, ssl.SSLError):
                return f"the TLS handshake failed ({cause.reason or cause})"
            cause = cause.__cause__ or cause.__context__
        if isinstance(exc, httpx.ConnectTimeout):
            return f"no connection within {self.timeout:g} s"
        if isinstance(exc, httpx.TimeoutException):
            return f"no answer within {self.timeout:g} s"
        if isinstance(exc, httpx.ConnectError):
            text = str(exc) or exc.__class__.__name__
            if "certificate" in text.lower():
                return f"its TLS certificate could not be verified ({text})"
            return f"cannot connect ({text})"
        return f"the connection failed ({exc.__class__.__name__}: {exc})"

    def _error(self, resp: httpx.Response, endpoint: str, *, attempts: int, retried: bool,
               ambiguous: bool) -> Exception:
        status = resp.status_code
        try:
            body = resp.json()
        except ValueError:
            body = None
        is_body = isinstance(body, dict) and "friendlymessage" in body
        friendly = str(body.get("friendlymessage") or "") if is_body else ""
        developer = str(body.get("developermessage") or "") if is_body else ""
        errorcode = body.get("errorcode") if is_body and isinstance(body.get("errorcode"), int) else None
        if status >= 500 or status == 429:
            what = f"{status}" + (f": {friendly}" if friendly else "")
            tail = f" after {attempts} attempts" if attempts > 1 else ""
            if status >= 500 and not retried:
                tail += " (not repeated: the request may have been applied)"
            return M5UnavailableError(f"M5 at {self.base_url} answered {endpoint} with {what}{tail}")
        if not is_body and status not in (401, 403):
            return M5ProtocolError(
                f"M5 at {self.base_url} answered {endpoint} with {status} and no M5 error body"
                + (" (is the base URL right?)" if status == 404 else "")
            )
        msg = f"M5 at {self.base_url} answered {endpoint} with {status}: {friendly or resp.reason_phrase}"
        cls: type[M5ApiError] = M5ApiError
        if status in (401, 403):
            cls = M5AuthError
        elif status == 404:
            cls = M5NotFoundError
        elif status == 409:
            cls = _ConflictAfterLostReply if ambiguous else M5ConflictError
        return cls(msg, status=status, errorcode=errorcode, friendlymessage=friendly,
                   developermessage=developer, endpoint=endpoint)

    def _json(self, resp: httpx.Response, endpoint: str) -> object:
        try:
            return resp.json()
        except ValueError:
            raise M5ProtocolError(f"M5 at {self.base_url} answered {endpoint} with something that is not JSON") from None

    def _object(self, resp: httpx.Response, endpoint: str, *, need: str = "id") -> M5Record:
        data = self._json(resp, endpoint)
        if not isinstance(data, dict) or (need and need not in data):
            raise M5ProtocolError(f"M5 at {self.base_url} answered {endpoint} with JSON that is not the expected object")
        return data

    def fetch_page(self, path: str, key: str, params: Mapping[str, str | int] | None = None) -> Page:
        """One GET of a list resource exactly as asked: its items under ``key`` and its ``count``.

        The building block of complete listings, and of ``passerlink m5 check``'s probes."""
        endpoint = f"GET {path}"
        resp, _ = self._call("GET", path, params=params)
        data = self._json(resp, endpoint)
        page = data.get(key) if isinstance(data, dict) else None
        if not isinstance(page, list) or not all(isinstance(x, dict) and "id" in x for x in page):
            raise M5ProtocolError(f"M5 at {self.base_url} answered {endpoint} without a list of objects under {key!r}")
        count = data.get("count") if isinstance(data, dict) else None
        return Page(items=page, count=count if isinstance(count, int) and not isinstance(count, bool) else None)

    def _list(self, path: str, key: str, params: Mapping[str, str | int] | None = None) -> list[M5Record]:
        """Every item of a list resource, shown complete (see ``passerlink.m5._listing``)."""
        what = f"GET {path}" + (f"?{_query_text(params)}" if params else "")
        return read_complete(lambda q: self.fetch_page(path, key, q), self.dialect, what, params)

    # ------------------------------------------------------------------ API
    def version(self) -> M5Record:
        """``{"version": "1.5.4", ...}``; needs no login."""
        resp, _ = self._call("GET", "/version", auth=False)
        return self._object(resp, "GET /version", need="version")

    def list_users(self, filter: Mapping[str, str] | None = None) -> list[M5Record]:
        """Every user (with ``cards``, ``accessgroups``, ``department``, ``usergroup``), or only
        those whose fields equal ``filter`` (case-insensitive). Raises ``M5AssumptionError`` when
        M5 answered a listing it cannot show complete, users that do not match the filter, or
        users whose cards or access groups it would not give."""
        params: dict[str, str | int] = {"filter": format_filter(filter)} if filter else {}
        users = self._users(params, self.dialect.include)
        if filter:
            _check_filter(users, filter, f"GET /user?filter={params['filter']}", self.base_url)
        missing = _missing_relations(users)
        if missing:
            asked = tuple(dict.fromkeys((*self.dialect.include, *missing)))
            if asked != self.dialect.include:
                log.warning("M5 GET /user: users came without %s; asking again with include=",
                            " and ".join(missing))
                users = self._users(params, asked)
                missing = _missing_relations(users)
        users = self._fill_missing(users, missing)
        for u in users:
            _check_cards(u["cards"], int(u["id"]), f"GET /user (the cards embedded in user {u['id']})",
                         self.base_url)
        return users

    def _fill_missing(self, users: list[M5Record], missing: Sequence[str]) -> list[M5Record]:
        """Relations M5 would not embed even when asked: cards from one complete card listing,
        department and user group from their lists; access groups cannot be had, so that stops."""
        if "cards" in missing:
            users = self._attach_cards(users)
        named = [r for r in ("department", "usergroup") if r in missing]
        if named:
            users = self._attach_named(users, named)
        still = [r for r in _missing_relations(users) if r in USER_RELATIONS]
        if still:
            raise M5AssumptionError(
                f"M5 at {self.base_url} answered GET /user without the users' {still[0]!r} even with "
                f"include={','.join(still)}: they are unknown, and unknown is never read as none")
        return users

    def _attach_named(self, users: list[M5Record], relations: Sequence[str]) -> list[M5Record]:
        """Users without an embedded department or user group get it from its list by id."""
        lists = {"department": ("fkdepartment", {str(d["id"]): d for d in self.list_departments()}
                                if "department" in relations else {}),
                 "usergroup": ("fkusergroup", {str(g["id"]): g for g in self.list_usergroups()}
                               if "usergroup" in relations else {})}
        out = []
        for u in users:
            extra = {r: lists[r][1].get(str(u.get(lists[r][0]))) for r in relations if r not in u}
            out.append({**u, **extra} if extra else u)
        return out

    def _users(self, params: Mapping[str, str | int], include: Sequence[str]) -> list[M5Record]:
        asked = {**params, **({"include": ",".join(include)} if include else {})}
        return self._list("/user", "users", asked)

    def _attach_cards(self, users: list[M5Record]) -> list[M5Record]:
        """Users without an embedded ``cards`` get theirs from one complete card listing."""
        by_user: dict[int, list[M5Record]] = {}
        for card in self.list_cards():
            owner = card.get("fkusernumber")
            if isinstance(owner, int):
                by_user.setdefault(owner, []).append(card)
        return [u if "cards" in u else {**u, "cards": by_user.get(int(u["id"]), [])} for u in users]

    def get_user(self, user_id: int) -> M5Record:
        path = f"/user/{int(user_id)}"
        resp, _ = self._call("GET", path)
        return self._object(resp, f"GET {path}")

    def create_user(self, fields: Mapping[str, object]) -> M5Record:
        """Create a user; returns it with ``id`` and ``rastamp``. Not repeated after a timeout."""
        resp, _ = self._call("POST", "/user", json=dict(fields))
        return self._object(resp, "POST /user")

    def update_user(self, user_id: int, fields: Mapping[str, object], rastamp: str) -> M5Record:
        """PATCH the given fields; ``rastamp`` is the one last read (stale -> M5ConflictError)."""
        return self._patch(f"/user/{int(user_id)}", fields, rastamp, lambda: self.get_user(user_id))

    def _patch(self, path: str, fields: Mapping[str, object], rastamp: str, reread: Callable[[], M5Record]
               ) -> M5Record:
        """PATCH guarded by ``rastamp``; a 409 met by a retry whose earlier attempt may have been
        applied is resolved with ``reread``: the object holding every value we sent is success."""
        try:
            resp, _ = self._call("PATCH", path, json={**dict(fields), "rastamp": rastamp})
        except _ConflictAfterLostReply:
            current = reread()
            if all(current.get(k) == v or (v is None and current.get(k) == "") for k, v in fields.items()):
                log.info("M5 PATCH %s: an earlier attempt was applied (its answer was lost)", path)
                return current
            raise
        return self._object(resp, f"PATCH {path}")

    def delete_user(self, user_id: int) -> None:
        self._call("DELETE", f"/user/{int(user_id)}")

    def list_cards(self, user_id: int | None = None) -> list[M5Record]:
        """Every card, or one user's cards: asked in the site's form (``[m5] card_filter``) and
        checked — a list for one user that holds any other user's card raises
        ``M5AssumptionError`` (it would otherwise block cards of people who did not leave)."""
        if user_id is None:
            return self._list("/card", "cards")
        cards = self._list("/card", "cards", self.dialect.card_params(user_id))
        _check_cards(cards, int(user_id), self.dialect.card_question(user_id), self.base_url)
        return cards

    def get_card(self, card_id: int) -> M5Record:
        path = f"/card/{int(card_id)}"
        resp, _ = self._call("GET", path)
        return self._object(resp, f"GET {path}")

    def update_card(self, card_id: int, fields: Mapping[str, object], rastamp: str) -> M5Record:
        """PATCH a card (e.g. ``{"isblocked": False}`` to unblock it); ``rastamp`` as for users."""
        return self._patch(f"/card/{int(card_id)}", fields, rastamp, lambda: self.get_card(card_id))

    def block_cards(self, card_ids: Sequence[int]) -> None:
        """Block the cards at once (repeating it is harmless, so it is retried)."""
        ids = [int(c) for c in card_ids]
        if ids:
            self._call("POST", "/card/block", json={"cards": [{"id": c} for c in ids]}, retry=True)

    def list_departments(self) -> list[M5Record]:
        return self._list("/Department", "departments")

    def create_department(self, name: str, data: str = "") -> M5Record:
        resp, _ = self._call("POST", "/Department", json={"departmentname": name, "departmentdata": data})
        return self._object(resp, "POST /Department")

    def list_usergroups(self) -> list[M5Record]:
        return self._list("/usergroup", "usergroups")

    def create_usergroup(self, name: str, data: str = "") -> M5Record:
        resp, _ = self._call("POST", "/usergroup", json={"groupname": name, "groupdata": data})
        return self._object(resp, "POST /usergroup")

    def list_accessgroups(self) -> list[M5Record]:
        return self._list("/accessgroup", "accessgroups")

    def add_user_accessgroup(self, user_id: int, accessgroup_id: int) -> None:
        self._call("PUT", f"/user/{int(user_id)}/accessgroup/{int(accessgroup_id)}")

    def remove_user_accessgroup(self, user_id: int, accessgroup_id: int) -> None:
        self._call("DELETE", f"/user/{int(user_id)}/accessgroup/{int(accessgroup_id)}")

    def get_accessgroup(self, accessgroup_id: int) -> M5Record:
        path = f"/accessgroup/{int(accessgroup_id)}"
        resp, _ = self._call("GET", path)
        return self._object(resp, f"GET {path}")

    def add_card_accessgroup(self, card_id: int, accessgroup_id: int) -> None:
        self._call("PUT", f"/card/{int(card_id)}/accessgroup/{int(accessgroup_id)}")

    def remove_card_accessgroup(self, card_id: int, accessgroup_id: int) -> None:
        self._call("DELETE", f"/card/{int(card_id)}/accessgroup/{int(accessgroup_id)}")


def _dn(value: object) -> str:
    """A certificate's distinguished name (``((("commonName", "m5"),),)``) as ``commonName=m5``."""
    if not isinstance(value, tuple):
        return ""
    return ", ".join(f"{k}={v}" for rdn in value if isinstance(rdn, tuple) for k, v in rdn)


def _query_text(params: Mapping[str, str | int]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


def _missing_relations(users: Sequence[M5Record]) -> tuple[str, ...]:
    """The relations some user came without: unknown, not empty. ``cards`` and ``accessgroups``
    must be lists; ``department`` and ``usergroup`` must be there (null when the user has none)."""
    lists = tuple(r for r in USER_RELATIONS if any(not isinstance(u.get(r), list) for u in users))
    return lists + tuple(r for r in USER_EXPANDED if any(r not in u for u in users))


def _check_cards(cards: Sequence[object], user_id: int, question: str, base_url: str) -> None:
    """Every card of an answer about one user belongs to that user, or the answer is not used."""
    others = sorted({c.get("fkusernumber") for c in cards if isinstance(c, dict)
                     and c.get("fkusernumber") != user_id}, key=str)
    if others:
        raise M5AssumptionError(
            f"M5 at {base_url} answered {question} with cards of {len(others)} other users (e.g. user "
            f"{others[0]}): it does not honour that filter, so no card is blocked on it "
            "(passerlink m5 check says which [m5] card_filter works)")


def _check_filter(users: Sequence[M5Record], conditions: Mapping[str, str], question: str, base_url: str) -> None:
    """Every user of a filtered answer matches the filter (M5 compares case-insensitively)."""
    for u in users:
        for field, value in conditions.items():
            got = u.get(field)
            if ("" if got is None else str(got)).casefold() != str(value).casefold():
                raise M5AssumptionError(
                    f"M5 at {base_url} answered {question} with user {u.get('id')}, whose {field} does not "
                    "match: it does not honour filter= on /user, so no user is adopted or created on it")
