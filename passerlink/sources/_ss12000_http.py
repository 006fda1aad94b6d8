"""One SS 12000 collection over HTTP: the ``data`` envelope, paging by ``pageToken``, errors.

The standard lets a server page any collection: the answer is ``{"data": [...], "pageToken":
...}`` and the next page is asked with only ``pageToken`` (and ``limit``) – filters may not be
repeated beside it. Every failure becomes one ``SourceError`` sentence naming the endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import httpx

from passerlink.errors import SourceError

__all__ = ["Api", "MAX_PAGES", "Params"]

MAX_PAGES = 100_000
Params = Mapping[str, str | Sequence[str]]


class Api:
    """GET collections of one SS 12000 API base URL through one client and one way of auth."""

    def __init__(
        self,
        client: httpx.Client,
        base: str,
        auth: httpx.Auth | None,
        who: str,
        page_size: int,
        *,
        client_cert: bool = False,
    ) -> None:
        self.client = client
        self.client_cert = client_cert  # whether a refused TLS handshake may be for want of one
        self.base = base.rstrip("/")
        self.auth = auth
        self.who = who  # "the token in X" etc., for refusals
        self.page_size = page_size

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def collection(self, path: str, params: Params | None = None) -> Iterator[dict[str, object]]:
        """Every object of a collection, page after page; a non-object item is a SourceError."""
        url = self.url(path)
        for page in self._pages(url, params or {}):
            for item in page:
                if not isinstance(item, dict):
                    raise SourceError(f"the SS 12000 API at {url} answered an item that is not an object")
                yield item

    def _pages(self, url: str, first: Params) -> Iterator[list[object]]:
        params: dict[str, str | Sequence[str]] = {**first, "limit": str(self.page_size)}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self._get(url, params)
            yield body["data"]
            token = body.get("pageToken")
            if not token:
                return
            if str(token) in seen:
                raise SourceError(f"the SS 12000 API at {url} repeats page token {str(token)[:20]!r}")
            seen.add(str(token))
            params = {"limit": str(self.page_size), "pageToken": str(token)}
        raise SourceError(f"the SS 12000 API at {url} did not stop after {MAX_PAGES} pages")

    def _get(self, url: str, params: Params) -> dict[str, list[object]]:
        try:
            resp = self.client.get(url, params=params, auth=self.auth)
        except httpx.ConnectError as exc:
            why = "TLS certificate not trusted" if "CERTIFICATE" in str(exc).upper() else str(exc)
            if _failed_url(exc, url) != url:  # the OAuth2 token endpoint, asked on the way
                raise SourceError(f"cannot reach the OAuth2 token endpoint {_failed_url(exc, url)} ({why})") from None
            raise SourceError(f"cannot reach the SS 12000 API at {url} ({why})") from None
        except httpx.RemoteProtocolError:
            hint = "" if self.client_cert or not url.startswith("https:") else (
                "; a server that wants a client certificate does this: see 'client_cert'"
            )
            raise SourceError(f"the SS 12000 API at {url} closed the connection without an answer{hint}") from None
        except httpx.TimeoutException:
            raise SourceError(f"the SS 12000 API at {url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot read the SS 12000 API at {url} ({exc})") from None
        if resp.status_code in (401, 403):
            raise SourceError(f"the SS 12000 API at {url} refused {self.who} (HTTP {resp.status_code})")
        if resp.status_code != 200:
            raise SourceError(f"the SS 12000 API at {url} answered HTTP {resp.status_code}")
        try:
            body = resp.json()
        except ValueError:
            kind = resp.headers.get("content-type", "unknown content")
            raise SourceError(f"the SS 12000 API at {url} answered something that is not JSON ({kind})") from None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise SourceError(f"the SS 12000 API at {url} answered JSON without a 'data' list")
        return body


def _failed_url(exc: httpx.HTTPError, default: str) -> str:
    """The URL (without query) of the request that failed: the API's, or the token endpoint's."""
    try:
        return str(exc.request.url.copy_with(query=None))
    except RuntimeError:  # an exception without its request
        return default
