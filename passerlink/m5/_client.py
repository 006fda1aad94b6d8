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
"""

from __future__ import annotations

import collections
import contextlib
import email.utils
import logging
import random
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

if TYPE_CHECKING:
    from passerlink.config import M5Config

__all__ = ["M5Client", "format_filter"]

log = logging.getLogger(__name__)

_SAFE = frozenset({"GET", "PUT", "DELETE", "PATCH"})
_MAX_RETRY_AFTER = 300.0


def format_filter(conditions: Mapping[str, str]) -> str:
    """``{"firstname": "anna", "lastname": "berg"}`` -> ``firstname:'anna'¤lastname:'berg'``."""
    return "¤".join(f"{k}:'{str(v).replace(chr(39), chr(39) * 2)}'" for k, v in conditions.items())


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
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.page_size = page_size
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
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
        self._rng = random.Random()
        self._sleep = time.sleep  # one seam for tests that count the waits
        #: requests sent per method ("GET", "POST", ...), plus "writes", "retries", "logins".
        self.stats: collections.Counter[str] = collections.Counter()

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
            page_size=m5.page_size,
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

    def _backoff(self, attempt: int) -> float:
        return self._rng.uniform(0, min(self.backoff_max, self.backoff_base * (2**attempt)))

    @staticmethod
    def _retry_after(resp: httpx.Response) -> float | None:
        value = resp.headers.get("Retry-After")
        if not value:
            return None
        try:
            return max(0.0, min(float(value), _MAX_RETRY_AFTER))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, min(when.timestamp() - time.time(), _MAX_RETRY_AFTER))

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
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
            token = headers.get("Access-Token", "")
            self._count(method, *(["writes"] if write else []))
            try:
                resp = self._http.request(method, path, json=json, params=params, headers=headers)
            except httpx.HTTPError as exc:
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
                reason = self._transport_reason(exc)
                if "certificate" in reason:
                    raise M5UnavailableError(f"M5 at {self.base_url}: {reason}") from exc
                if (safe or not sent) and attempt < self.retries:
                    ambiguous = ambiguous or sent
                    delay = self._backoff(attempt)
                    log.warning("M5 %s: %s; retry %d/%d in %.2f s", endpoint, reason, attempt + 1, self.retries, delay)
                    attempt += 1
                    self._count("retries")
                    self._sleep(delay)
                    continue
                tail = f" after {attempt + 1} attempts" if attempt else ""
                if not safe and sent:
                    tail += " (not repeated: the request may have been applied)"
                raise M5UnavailableError(f"M5 at {self.base_url} failed {endpoint}: {reason}{tail}") from exc
            status = resp.status_code
            if 200 <= status < 300:
                return resp, ambiguous
            if status == 401 and auth and not relogged:
                relogged = True
                self._drop_token(token)
                self._count("relogins")
                log.info("M5 %s: access token refused; logging in again", endpoint)
                continue
            if status == 429 and attempt < self.retries:
                wait = self._retry_after(resp)
                delay = wait if wait is not None else self._backoff(attempt)
                log.warning("M5 %s: 429 too many requests; retry %d/%d in %.2f s", endpoint, attempt + 1,
                            self.retries, delay)
                attempt += 1
                self._count("retries")
                self._sleep(delay)
                continue
            if status >= 500 and safe and attempt < self.retries:
                ambiguous = True
                delay = self._backoff(attempt)
                log.warning("M5 %s: answered %d; retry %d/%d in %.2f s", endpoint, status, attempt + 1,
                            self.retries, delay)
                attempt += 1
                self._count("retries")
                self._sleep(delay)
                continue
            if status == 404 and method == "DELETE" and ambiguous:
                return resp, ambiguous  # an earlier attempt deleted it; its answer was lost
            raise self._error(resp, endpoint, attempts=attempt + 1, retried=safe, ambiguous=ambiguous)

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

    def _json(self, resp: httpx.Response, endpoint: str) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise M5ProtocolError(f"M5 at {self.base_url} answered {endpoint} with something that is not JSON") from None

    def _object(self, resp: httpx.Response, endpoint: str, *, need: str = "id") -> dict[str, Any]:
        data = self._json(resp, endpoint)
        if not isinstance(data, dict) or (need and need not in data):
            raise M5ProtocolError(f"M5 at {self.base_url} answered {endpoint} with JSON that is not the expected object")
        return data

    def _list(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a list resource: pages of ``page_size`` until a short page."""
        out: list[dict[str, Any]] = []
        seen: set[Any] = set()
        offset = 0
        endpoint = f"GET {path}"
        while True:
            resp, _ = self._call("GET", path, params={**(params or {}), "offset": offset, "limit": self.page_size})
            data = self._json(resp, endpoint)
            page = data.get(key) if isinstance(data, dict) else None
            if not isinstance(page, list) or not all(isinstance(x, dict) and "id" in x for x in page):
                raise M5ProtocolError(
                    f"M5 at {self.base_url} answered {endpoint} without a list of objects under {key!r}")
            fresh = [x for x in page if x["id"] not in seen]
            if page and not fresh:
                raise M5ProtocolError(f"M5 at {self.base_url} answered {endpoint} with the same page twice "
                                      "(does it ignore offset?)")
            seen.update(x["id"] for x in fresh)
            out.extend(fresh)
            if len(page) != self.page_size:  # short page; or longer: M5 ignored the limit and sent all
                return out
            offset += len(page)

    # ------------------------------------------------------------------ API
    def version(self) -> dict:
        """``{"version": "1.5.4", ...}``; needs no login."""
        resp, _ = self._call("GET", "/version", auth=False)
        return self._object(resp, "GET /version", need="version")

    def list_users(self, filter: Mapping[str, str] | None = None) -> list[dict]:
        """Every user (expanded), optionally only those whose fields equal ``filter`` (case-insensitive)."""
        params = {"filter": format_filter(filter)} if filter else None
        return self._list("/user", "users", params)

    def get_user(self, user_id: int) -> dict:
        path = f"/user/{int(user_id)}"
        resp, _ = self._call("GET", path)
        return self._object(resp, f"GET {path}")

    def create_user(self, fields: Mapping[str, Any]) -> dict:
        """Create a user; returns it with ``id`` and ``rastamp``. Not repeated after a timeout."""
        resp, _ = self._call("POST", "/user", json=dict(fields))
        return self._object(resp, "POST /user")

    def update_user(self, user_id: int, fields: Mapping[str, Any], rastamp: str) -> dict:
        """PATCH the given fields; ``rastamp`` is the one last read (stale -> M5ConflictError)."""
        return self._patch(f"/user/{int(user_id)}", fields, rastamp, lambda: self.get_user(user_id))

    def _patch(self, path: str, fields: Mapping[str, Any], rastamp: str, reread: Callable[[], dict]) -> dict:
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

    def list_cards(self, user_id: int | None = None) -> list[dict]:
        params = {"fkusernumber": int(user_id)} if user_id is not None else None
        return self._list("/card", "cards", params)

    def get_card(self, card_id: int) -> dict:
        path = f"/card/{int(card_id)}"
        resp, _ = self._call("GET", path)
        return self._object(resp, f"GET {path}")

    def update_card(self, card_id: int, fields: Mapping[str, Any], rastamp: str) -> dict:
        """PATCH a card (e.g. ``{"isblocked": False}`` to unblock it); ``rastamp`` as for users."""
        return self._patch(f"/card/{int(card_id)}", fields, rastamp, lambda: self.get_card(card_id))

    def block_cards(self, card_ids: Sequence[int]) -> None:
        """Block the cards at once (repeating it is harmless, so it is retried)."""
        ids = [int(c) for c in card_ids]
        if ids:
            self._call("POST", "/card/block", json={"cards": [{"id": c} for c in ids]}, retry=True)

    def list_departments(self) -> list[dict]:
        return self._list("/Department", "departments")

    def create_department(self, name: str, data: str = "") -> dict:
        resp, _ = self._call("POST", "/Department", json={"departmentname": name, "departmentdata": data})
        return self._object(resp, "POST /Department")

    def list_usergroups(self) -> list[dict]:
        return self._list("/usergroup", "usergroups")

    def create_usergroup(self, name: str, data: str = "") -> dict:
        resp, _ = self._call("POST", "/usergroup", json={"groupname": name, "groupdata": data})
        return self._object(resp, "POST /usergroup")

    def list_accessgroups(self) -> list[dict]:
        return self._list("/accessgroup", "accessgroups")

    def add_user_accessgroup(self, user_id: int, accessgroup_id: int) -> None:
        self._call("PUT", f"/user/{int(user_id)}/accessgroup/{int(accessgroup_id)}")

    def remove_user_accessgroup(self, user_id: int, accessgroup_id: int) -> None:
        self._call("DELETE", f"/user/{int(user_id)}/accessgroup/{int(accessgroup_id)}")
