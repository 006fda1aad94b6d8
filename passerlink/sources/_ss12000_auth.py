"""How the SS 12000 reader proves who it is: OAuth2 client credentials, or a fixed bearer token.

Real SS 12000 servers hand out short-lived tokens (an hour is common) from an OAuth2 token
endpoint; a nightly read of a large municipality can outlive one. ``ClientCredentialsAuth``
fetches a token before the first call, renews it shortly before it expires (by an injected
clock, so tests need no sleeps) and once more when the API answers 401 anyway (a server may end
a token early). The token request goes through the same HTTP client as the API calls, so the
site's CA and client certificate apply to it too. Secrets never appear in messages.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Generator

import httpx

from passerlink.errors import SourceError

__all__ = ["ClientCredentialsAuth", "FixedTokenAuth", "RENEW_MARGIN_SECONDS"]

#: Renew this long before the token's stated expiry (or at 90 % of a shorter lifetime).
RENEW_MARGIN_SECONDS = 60.0
#: A token without ``expires_in`` is renewed after this long (and on 401).
DEFAULT_LIFETIME_SECONDS = 300.0


class FixedTokenAuth(httpx.Auth):
    """A bearer token from the environment, for servers that issue one by hand."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class ClientCredentialsAuth(httpx.Auth):
    """OAuth2 client credentials (RFC 6749 §4.4): a token per lifetime, renewed ahead and on 401.

    ``basic`` sends the client id and secret as HTTP Basic (the RFC's preferred way); otherwise
    they go in the form body, as some servers want.
    """

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        basic: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self._id = client_id
        self._secret = client_secret
        self._scope = scope
        self._basic = basic
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        #: How many tokens this reader fetched (shown in the summary and checked by tests).
        self.tokens_fetched = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or self._clock() >= self._renew_at:
            yield from self._renew()
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            yield from self._renew()
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def _token_request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        headers = {"Accept": "application/json"}
        if self._basic:
            pair = base64.b64encode(f"{self._id}:{self._secret}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {pair}"
        else:
            form |= {"client_id": self._id, "client_secret": self._secret}
        return httpx.Request("POST", self.token_url, data=form, headers=headers)

    def _renew(self) -> Generator[httpx.Request, httpx.Response, None]:
        asked = self._clock()
        response = yield self._token_request()
        self._token, lifetime = _read_token(response, self.token_url)
        margin = min(RENEW_MARGIN_SECONDS, lifetime / 10)
        self._renew_at = asked + lifetime - margin
        self.tokens_fetched += 1


def _read_token(response: httpx.Response, url: str) -> tuple[str, float]:
    """The access token and its lifetime in seconds, or a SourceError in one sentence."""
    if response.status_code in (400, 401, 403):
        code = ""
        try:
            body = response.json()
            code = f": {body['error']}" if isinstance(body, dict) and isinstance(body.get("error"), str) else ""
        except ValueError:
            pass
        raise SourceError(
            f"the OAuth2 token endpoint {url} refused the client credentials (HTTP {response.status_code}{code})"
        )
    if response.status_code != 200:
        raise SourceError(f"the OAuth2 token endpoint {url} answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise SourceError(f"the OAuth2 token endpoint {url} answered something that is not JSON") from None
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise SourceError(f"the OAuth2 token endpoint {url} answered without an access_token")
    lifetime = body.get("expires_in")
    try:
        seconds = float(lifetime) if lifetime is not None else DEFAULT_LIFETIME_SECONDS
    except (TypeError, ValueError):
        seconds = DEFAULT_LIFETIME_SECONDS
    return token, max(seconds, 1.0)
