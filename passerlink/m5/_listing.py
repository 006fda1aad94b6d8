"""Complete listings: a list answer is used only once it is known to hold every item asked for.

A person missing from a cut listing looks like a person to create or a user gone, so a list is
read until M5's own ``count`` (asked with ``count=true``) is reached, whatever page size the
server chooses; when M5 gives no count, the list is read twice and the two reads must agree.
Paging goes on until an empty page (never stops at a short page: a server may cap its pages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from passerlink.m5._dialect import M5AssumptionError, M5Dialect

__all__ = ["Page", "Fetch", "read_complete"]

Record = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One list answer: its items and M5's count (None when the answer had none)."""

    items: list[Record]
    count: int | None


#: One GET of the list with these query parameters.
Fetch = Callable[[Mapping[str, str | int]], Page]


def read_complete(fetch: Fetch, dialect: M5Dialect, what: str, params: Mapping[str, str | int] | None = None
                  ) -> list[Record]:
    """Every item of a list (``what`` names it in messages, e.g. ``GET /user``); raises
    ``M5AssumptionError`` naming the failed assumption when completeness cannot be shown."""
    items, total = _one_pass(fetch, dialect, what, params or {})
    if total is not None:
        if len(items) != total:
            raise M5AssumptionError(
                f"M5 listed {len(items)} items for {what} but counts {total}: the listing is incomplete "
                f"({_paging_hint(dialect)}); nothing is created or deactivated on an incomplete listing")
        return items
    again, _ = _one_pass(fetch, dialect, what, params or {})
    first_ids, second_ids = {x["id"] for x in items}, {x["id"] for x in again}
    if first_ids != second_ids:
        raise M5AssumptionError(
            f"M5 gave no count for {what} and two reads of it differ ({len(first_ids)} and {len(second_ids)} "
            "items): completeness cannot be shown, so nothing is created or deactivated; run again later")
    return again


def _one_pass(fetch: Fetch, dialect: M5Dialect, what: str, params: Mapping[str, str | int]
              ) -> tuple[list[Record], int | None]:
    base = {**params, **({"count": "true"} if dialect.ask_count else {})}
    seen: set[Any] = set()
    out: list[Record] = []
    total: int | None = None
    offset = 0
    while True:
        page = fetch({**base, **dialect.page_params(offset)})
        if total is None:
            total = page.count
        fresh = [x for x in page.items if x["id"] not in seen]
        if page.items and not fresh:
            raise M5AssumptionError(
                f"M5 answered {what} at {dialect.offset_param}={offset} with items it had already sent: it does "
                f"not honour '{dialect.offset_param}' (if it sends the whole list at once, set [m5] paging = \"none\")")
        seen.update(x["id"] for x in fresh)
        out.extend(fresh)
        if dialect.paging == "none" or not page.items or (total is not None and len(out) >= total):
            return out, total
        offset += len(page.items)


def _paging_hint(dialect: M5Dialect) -> str:
    if dialect.paging == "none":
        return 'it pages although [m5] paging = "none": set paging = "offset" and the parameter names it uses'
    return (f"does it honour '{dialect.offset_param}'/'{dialect.limit_param}'? "
            "passerlink m5 check says which [m5] paging settings work")
