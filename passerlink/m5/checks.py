"""Does this M5 answer the way the sync assumes? Read-only probes for go-live day and every night.

The sync relies on a few things the public knowledge of the Admin API leaves open: that a user
listing can be shown complete, that ``filter=`` on ``/user`` and ``/card`` is honoured, that a
user's cards and access groups arrive (with or without ``include=``), and that M5's clock agrees
with ours. ``run_checks`` asks M5 each question with a known answer and compares; it never
writes. ``preflight`` is the cheap subset the sync runs at its start, before its first write.

Each finding carries its text in Swedish and English and, when an assumption fails, the
``[m5]`` setting that makes it hold (when a probe found one).
"""

from __future__ import annotations

import email.utils
import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import urlsplit

from passerlink.errors import M5Error
from passerlink.m5._client import M5Client, M5Record
from passerlink.m5._dialect import (
    USER_EXPANDED,
    USER_RELATIONS,
    M5AssumptionError,
    M5Dialect,
    format_filter,
)
from passerlink.m5._listing import Page, read_complete

if TYPE_CHECKING:
    from passerlink.config import M5Config

__all__ = ["Finding", "CheckReport", "run_checks", "preflight", "sync_preflight", "render_table", "PreflightClient"]

Status = Literal["ok", "fail", "info"]

LABELS: dict[str, dict[str, str]] = {
    "sv": {"login": "Inloggning och version", "tls": "TLS", "page": "Sidstorlek", "limit": "limit respekteras",
           "offset": "offset respekteras", "count": "count=true", "listing": "Fullständig användarlista",
           "user_filter": "filter= på /user", "card_filter": "filter= på /card", "embedded": "Inbäddade listor",
           "marker": "Markörfältet", "clock": "Klockskillnad", "head": "Kontroll", "result": "Resultat",
           "status": "Status", "ok": "OK", "fail": "FEL", "info": "INFO", "settings": "Sätt i [m5]:",
           "all_ok": "Alla antaganden som synkroniseringen bygger på håller.",
           "some_fail": "{n} antaganden håller inte: synkroniseringen stoppar innan den skriver.",
           "took": "Tid: {s:.1f} s"},
    "en": {"login": "Login and version", "tls": "TLS", "page": "Page size", "limit": "limit honoured",
           "offset": "offset honoured", "count": "count=true", "listing": "Complete user listing",
           "user_filter": "filter= on /user", "card_filter": "filter= on /card", "embedded": "Embedded lists",
           "marker": "Marker field", "clock": "Clock skew", "head": "Check", "result": "Result",
           "status": "Status", "ok": "OK", "fail": "FAIL", "info": "INFO", "settings": "Set in [m5]:",
           "all_ok": "Every assumption the sync relies on holds.",
           "some_fail": "{n} assumptions do not hold: the sync stops before writing.",
           "took": "Time: {s:.1f} s"},
}


@dataclass(frozen=True)
class Finding:
    """One check: its result in Swedish and English, and the ``[m5]`` lines that fix a failure."""

    key: str
    status: Status
    sv: str
    en: str
    settings: tuple[str, ...] = ()

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.sv


@dataclass
class CheckReport:
    findings: list[Finding]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(f.status != "fail" for f in self.findings)

    @property
    def settings(self) -> list[str]:
        return list(dict.fromkeys(s for f in self.findings for s in f.settings))


class PreflightClient(Protocol):
    """What the nightly preflight needs of ``M5Client``."""

    def list_users(self, filter: Mapping[str, str] | None = None) -> list[M5Record]: ...
    def list_cards(self, user_id: int | None = None) -> list[M5Record]: ...


# ---------------------------------------------------------------------------------------- probes
def _fold(value: object) -> str:
    return ("" if value is None else str(value)).casefold()


def _filter_probe_target(users: Sequence[M5Record], marker_field: str) -> dict[str, str] | None:
    """A filter that names one known user: its marker if someone carries one, else first and last name."""
    for u in users:
        if str(u.get(marker_field) or "").strip():
            return {marker_field: str(u[marker_field])}
    for u in users:
        if str(u.get("firstname") or "").strip() and str(u.get("lastname") or "").strip():
            return {"firstname": str(u["firstname"]), "lastname": str(u["lastname"])}
    return None


def _expected(users: Sequence[M5Record], conditions: Mapping[str, str]) -> set[object]:
    return {u["id"] for u in users if all(_fold(u.get(k)) == _fold(v) for k, v in conditions.items())}


def check_user_filter(client: PreflightClient, users: Sequence[M5Record], marker_field: str) -> Finding:
    """Ask ``/user`` for one known user by filter; the answer must be exactly the users that match."""
    conditions = _filter_probe_target(users, marker_field)
    if conditions is None:
        return Finding("user_filter", "info", "inga användare att fråga efter", "no users to ask for")
    question = f"filter={format_filter(conditions)}"
    try:
        got = {u["id"] for u in client.list_users(filter=conditions)}
    except M5AssumptionError as exc:
        return Finding("user_filter", "fail", f"ignoreras: {exc}", f"ignored: {exc}")
    want = _expected(users, conditions)
    if got != want:
        return Finding("user_filter", "fail", f"{question} gav {len(got)} användare, väntade {len(want)}",
                       f"{question} gave {len(got)} users, expected {len(want)}")
    return Finding("user_filter", "ok", f"{question} gav just de {len(got)} som matchar",
                   f"{question} gave exactly the {len(got)} that match")


def _card_probe_user(users: Sequence[M5Record]) -> int | None:
    """A user with cards, when at least one other user has cards too (else a filter cannot be told
    from no filter)."""
    holders = [int(u["id"]) for u in users if isinstance(u.get("cards"), list) and u["cards"]]
    return holders[0] if len(holders) >= 2 else None


def check_card_filter(client: PreflightClient, users: Sequence[M5Record], dialect: M5Dialect) -> Finding:
    """Ask for one known user's cards in the site's form; the answer must be exactly that user's cards."""
    uid = _card_probe_user(users)
    if uid is None:
        return Finding("card_filter", "info", "färre än två användare har kort: kan inte prövas",
                       "fewer than two users hold cards: cannot be tried")
    question = dialect.card_question(uid)
    try:
        got = {c["id"] for c in client.list_cards(uid)}
    except M5AssumptionError as exc:
        return Finding("card_filter", "fail", f"ignoreras: {exc}", f"ignored: {exc}")
    want = {c["id"] for u in users if int(u["id"]) == uid for c in u["cards"]}
    if got != want:
        return Finding("card_filter", "fail", f"{question} gav {len(got)} kort, användaren har {len(want)}",
                       f"{question} gave {len(got)} cards, the user holds {len(want)}")
    return Finding("card_filter", "ok", f"{question} gav just användarens {len(got)} kort",
                   f"{question} gave exactly the user's {len(got)} cards")


def clock_skew(date_header: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds our clock is ahead of M5's (``Date`` header of its last answer); None without one."""
    if not date_header:
        return None
    try:
        theirs = email.utils.parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        return None
    return now() - theirs


def check_clock(date_header: str | None, max_skew: float, now: Callable[[], float] = time.time) -> Finding:
    skew = clock_skew(date_header, now)
    if skew is None:
        return Finding("clock", "info", "M5 skickar ingen Date-rubrik", "M5 sends no Date header")
    text_sv, text_en = f"{skew:+.0f} s (högst {max_skew:.0f} s)", f"{skew:+.0f} s (at most {max_skew:.0f} s)"
    return Finding("clock", "ok" if abs(skew) <= max_skew else "fail", text_sv, text_en)


def preflight(client: PreflightClient, users: Sequence[M5Record], *, marker_field: str,
              dialect: M5Dialect | None = None, date_header: str | None = None,
              max_skew: float = 300.0) -> None:
    """The cheap checks the sync runs after reading M5 and before its first write: filters on
    ``/user`` and ``/card`` honoured, clocks agree. (Completeness and embedded lists are checked
    by the reading itself.) Raises ``M5AssumptionError`` (exit 3) naming the first that fails."""
    findings = [check_user_filter(client, users, marker_field),
                check_card_filter(client, users, dialect or M5Dialect()),
                check_clock(date_header, max_skew)]
    for f in findings:
        if f.status == "fail":
            hint = "" if "passerlink m5 check" in f.en else " (passerlink m5 check says which [m5] settings to use)"
            raise M5AssumptionError(f"M5 check before the first write failed: {LABELS['en'][f.key]}: {f.en}{hint}")


def sync_preflight(client: PreflightClient, users: Sequence[M5Record], m5: M5Config | None) -> None:
    """``preflight`` with the site's ``[m5]`` settings (defaults without an ``[m5]`` section)."""
    dialect = M5Dialect.from_config(m5) if m5 is not None else M5Dialect()
    preflight(client, users, marker_field=m5.marker_field if m5 is not None else "apireference",
              dialect=dialect, date_header=getattr(client, "last_date", None),
              max_skew=m5.max_clock_skew_seconds if m5 is not None else 300.0)


# ---------------------------------------------------------------------------------- full check
def _check_login(client: M5Client) -> Finding:
    client.login()
    version = client.version().get("version")
    return Finding("login", "ok", f"inloggad, API-version {version}", f"logged in, API version {version}")


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_tls(client: M5Client, verify: bool) -> Finding:
    details = client.tls_details()
    if details is None:
        status: Status = "info" if _is_loopback(client.base_url) else "fail"
        return Finding("tls", status, "okrypterad http" + (" (loopback)" if status == "info" else ""),
                       "unencrypted http" + (" (loopback)" if status == "info" else ""))
    text = f"{details.get('protocol')}, {details.get('cipher')}; {details.get('subject')}; " \
           f"utfärdat av {details.get('issuer')}; giltigt till {details.get('expires')}"
    text_en = text.replace("utfärdat av", "issued by").replace("giltigt till", "valid until")
    if not verify:
        return Finding("tls", "fail", text + "; certifikatet kontrolleras INTE",
                       text_en + "; the certificate is NOT verified", ("verify_tls = true",))
    return Finding("tls", "ok", text + "; certifikatet kontrollerat", text_en + "; certificate verified")


def _ids(page: Page) -> list[object]:
    return [x["id"] for x in page.items]


def _check_paging(client: M5Client) -> list[Finding]:
    """What page size the server serves, and whether it honours limit and offset: information,
    as the complete listing below is what the sync relies on (a server that ignores both and sends
    everything at once, with a count that agrees, serves the sync well)."""
    d = replace(client.dialect, paging="offset")
    first = client.fetch_page("/user", "users", d.page_params(0))
    served = len(first.items)
    out = [Finding("page", "info", f"{served} användare när {d.page_size} efterfrågas",
                   f"{served} users when {d.page_size} are asked")]
    if served < 3:
        return out
    two = client.fetch_page("/user", "users", {d.offset_param: 0, d.limit_param: 2})
    limit_ok = len(two.items) == 2
    out.append(Finding("limit", "info", "ja" if limit_ok else f"nej ({len(two.items)} svar på limit=2)",
                       "yes" if limit_ok else f"no ({len(two.items)} answered to limit=2)"))
    shifted = client.fetch_page("/user", "users", {d.offset_param: 1, d.limit_param: 2})
    offset_ok = bool(shifted.items) and _ids(shifted)[0] == _ids(first)[1]
    out.append(Finding("offset", "info", "ja" if offset_ok else "nej (samma första användare)",
                       "yes" if offset_ok else "no (the same first user)"))
    return out


def _alternatives(client: M5Client) -> list[M5Dialect]:
    """Other settings worth trying when the listing fails, the least different first: the paging,
    then (for a server that refuses ``include=``) the same paging without it."""
    d = client.dialect
    tries = [replace(d, paging="offset"), replace(d, paging="none"), replace(d, paging="offset", ask_count=False)]
    if d.include:
        tries += [replace(d, include=USER_RELATIONS), replace(d, include=())]
    return [t for t in tries if t != d]


def _listing_with(client: M5Client, dialect: M5Dialect) -> list[M5Record]:
    """The user listing as a client with ``dialect`` would read it (include= as it would send it)."""
    params: dict[str, str | int] = {"include": ",".join(dialect.include)} if dialect.include else {}
    return read_complete(lambda q: client.fetch_page("/user", "users", q), dialect, "GET /user", params)


def _check_listing(client: M5Client) -> tuple[list[Finding], list[M5Record]]:
    first = client.fetch_page("/user", "users", {**client.dialect.page_params(0), "count": "true"})
    counted = first.count
    count_finding = Finding("count", "ok" if counted is not None else "info",
                            f"svarar count={counted}" if counted is not None else
                            "ger inget count: listan läses två gånger och jämförs",
                            f"answers count={counted}" if counted is not None else
                            "gives no count: the listing is read twice and compared")
    try:
        users = client.list_users()
    except M5Error as exc:
        fix: tuple[str, ...] = ()
        found: list[M5Record] = []
        for alt in _alternatives(client):
            try:
                found = _listing_with(client, alt)
            except M5Error:
                continue
            fix = tuple(line for line in alt.setting_lines() if line not in client.dialect.setting_lines())
            break
        # the other probes go on with the listing that worked (if one did)
        return [count_finding, Finding("listing", "fail", str(exc), str(exc), fix)], found
    how_sv = f"stämmer med count={counted}" if counted is not None else "två läsningar lika"
    how_en = f"agrees with count={counted}" if counted is not None else "two reads agree"
    return [count_finding, Finding("listing", "ok", f"{len(users)} användare, {how_sv}",
                                   f"{len(users)} users, {how_en}")], users


def _check_card_forms(client: M5Client, users: Sequence[M5Record]) -> Finding:
    """The card filter in the site's form; when it fails, whether the other form works."""
    finding = check_card_filter(client, users, client.dialect)
    if finding.status != "fail":
        return finding
    other: Literal["filter", "param"] = "param" if client.dialect.card_filter == "filter" else "filter"
    alt = replace(client.dialect, card_filter=other)
    uid = _card_probe_user(users)
    if uid is not None:
        page = client.fetch_page("/card", "cards", alt.card_params(uid))
        if page.items and all(c.get("fkusernumber") == uid for c in page.items):
            return replace(finding, settings=(f'card_filter = "{other}"',))
    return finding


_EMBEDS = (*USER_RELATIONS, *USER_EXPANDED)


def _check_embedded(client: M5Client) -> Finding:
    """Whether a user's cards, access groups, department and user group come without and with include=."""
    d = client.dialect
    paging = d.page_params(0) if d.paging == "offset" else {}
    bare = client.fetch_page("/user", "users", paging)
    asked = client.fetch_page("/user", "users", {**paging, "include": ",".join(_EMBEDS)})

    def has(page: Page) -> bool:
        return bool(page.items) and all(isinstance(u.get(r), list) for u in page.items for r in USER_RELATIONS) \
            and all(r in u for u in page.items for r in USER_EXPANDED)

    without, with_include = has(bare), has(asked)
    yes_sv, yes_en = {True: "ja", False: "nej"}, {True: "yes", False: "no"}
    names = ",".join(_EMBEDS)
    sv = f"utan include=: {yes_sv[without]}; med include={names}: {yes_sv[with_include]}"
    en = f"without include=: {yes_en[without]}; with include={names}: {yes_en[with_include]}"
    if not bare.items:
        return Finding("embedded", "info", "inga användare", "no users")
    if without or (set(_EMBEDS) <= set(d.include) and with_include):
        return Finding("embedded", "ok", sv, en)
    setting = "include = [" + ", ".join(f'"{r}"' for r in _EMBEDS) + "]"
    if with_include:  # the client asks again with include= every night: right, at twice the reading
        return Finding("embedded", "info", sv + " (listan läses två gånger)", en + " (the listing is read twice)",
                       (setting,))
    return Finding("embedded", "fail", sv, en)


def _check_marker(users: Sequence[M5Record], marker_field: str) -> Finding:
    used = [str(u.get(marker_field) or "") for u in users if str(u.get(marker_field) or "").strip()]
    ours = sum(1 for v in used if v.startswith("passerlink:"))
    return Finding("marker", "info",
                   f"{marker_field}: {len(used)} av {len(users)} användare har ett värde, {ours} av dem våra",
                   f"{marker_field}: {len(used)} of {len(users)} users carry a value, {ours} of them ours")


def run_checks(client: M5Client, *, marker_field: str = "apireference", verify_tls: bool = True,
               max_skew: float = 300.0, now: Callable[[], float] = time.time) -> CheckReport:
    """Every probe, read-only, in order; a probe that cannot run becomes a failed finding."""
    t0 = time.perf_counter()
    findings: list[Finding] = []
    try:
        findings.append(_check_login(client))
    except M5Error as exc:
        return CheckReport([Finding("login", "fail", str(exc), str(exc))], time.perf_counter() - t0)
    users: list[M5Record] = []

    def listing() -> None:
        found, got = _check_listing(client)
        findings.extend(found)
        users.extend(got)

    steps: list[tuple[str, Callable[[], None]]] = [("tls", lambda: findings.append(_check_tls(client, verify_tls))),
             ("page", lambda: findings.extend(_check_paging(client))),
             ("listing", listing),
             ("user_filter", lambda: findings.append(check_user_filter(client, users, marker_field))),
             ("card_filter", lambda: findings.append(_check_card_forms(client, users))),
             ("embedded", lambda: findings.append(_check_embedded(client))),
             ("marker", lambda: findings.append(_check_marker(users, marker_field))),
             ("clock", lambda: findings.append(check_clock(client.last_date, max_skew, now)))]
    for key, step in steps:
        try:
            step()
        except M5Error as exc:
            findings.append(Finding(key, "fail", str(exc), str(exc)))
    return CheckReport(findings, time.perf_counter() - t0)


def render_table(report: CheckReport, lang: str = "sv") -> str:
    """The findings as a plain-text table, then the verdict and the ``[m5]`` lines to set."""
    words = LABELS.get(lang, LABELS["sv"])
    rows = [(words["head"], words["status"], words["result"])]
    rows += [(words.get(f.key, f.key), words[f.status], f.text(lang)) for f in report.findings]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows]
    lines.insert(1, f"{'-' * w0}  {'-' * w1}  {'-' * 40}")
    fails = sum(1 for f in report.findings if f.status == "fail")
    lines.append("")
    lines.append(words["all_ok"] if not fails else words["some_fail"].format(n=fails))
    if report.settings:
        lines.append(words["settings"])
        lines.extend(f"  {s}" for s in report.settings)
    lines.append(words["took"].format(s=report.seconds))
    return "\n".join(lines)
