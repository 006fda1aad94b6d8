"""Simulator profiles: the plausible ways a real Admin API may differ from what we assume.

The public facts leave open how the real API pages, which query parameters it honours, whether
it embeds a user's cards and access groups without ``include=`` and whether it answers
``count=true``. Each profile is one such server, so the client and ``passerlink m5 check`` can be
proven against every variant:

    strict                  honours offset/limit, filter=, include=, count=true; embeds always
    page-cap-100            never answers more than 100 items a page, whatever limit is asked
    ignores-unknown-params  drops every query parameter the real client does not send (keeps only
                            filter, include, count): offset, limit and fkusernumber do nothing
    include-required        a user's cards, accessgroups, department and usergroup only with include=
    no-count                ignores count=true (no count in any answer)
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

__all__ = ["Profile", "PROFILES", "profile_named"]


@dataclass(frozen=True)
class Profile:
    """How one simulated server treats list questions."""

    name: str
    page_cap: int | None = None
    known_params: frozenset[str] | None = None  # None: every parameter is known
    embeds_without_include: bool = True
    honours_count: bool = True

    def page_limit(self, asked: int | None) -> int | None:
        """The number of items a page may hold: what was asked, capped (None: no limit)."""
        if self.page_cap is None:
            return asked
        return self.page_cap if asked is None else min(asked, self.page_cap)

    def query(self, raw: bytes) -> bytes:
        """The query string as this server reads it (unknown parameters dropped)."""
        if self.known_params is None or not raw:
            return raw
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
        return urlencode([(k, v) for k, v in pairs if k in self.known_params]).encode("latin-1")


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("strict"),
    Profile("page-cap-100", page_cap=100),
    Profile("ignores-unknown-params", known_params=frozenset({"filter", "include", "count"})),
    Profile("include-required", embeds_without_include=False),
    Profile("no-count", honours_count=False),
)}


def profile_named(name: str) -> Profile:
    """The profile called ``name``; ValueError naming the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"no simulator profile {name!r} (known: {', '.join(PROFILES)})") from None
