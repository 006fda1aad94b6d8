"""Importing a signed-off link table, and adopting the linked M5 users (writing our marker).

Go-live ends with a signed-off link table: the workbench's Excel export (unchanged or edited),
or a CSV ``source,source_id,m5_id`` made elsewhere. Importing it stores the links in the link
store (who = the operator running the import) and writes the ownership marker into each linked
M5 user, so that from the first night on the engine can tell its users from manual records.

A wrong link costs a door, so the whole file is checked against the registers and M5 *as they
are now* before anything is written (``plan_import``, pure):

- every linked register id exists in its register, every linked M5 user exists in M5;
- nobody is linked twice, and no M5 user ends up linked to two people – counting the links
  already stored and the markers already in M5 (two rows of one register are two people; rows
  of two registers are one person unless their personnummer differ);
- a link to a *manual* M5 user (no marker of ours, and never proposed by the matcher for that
  person) is refused unless the operator says ``adopt_manual``: then it is listed by name.

Rows without an M5 id are "no link" decisions (a person who will be created new): not errors.
A row the operator marked rejected (or unlinked, or unsure) is stored as such, so the nightly sync
never proposes a rejected pair again; a person the store linked and the file now leaves without
a link is unlinked. Ids of a register keyed by personnummer are keyed (``sync.keys``) whichever
form the file uses. The import holds the sync's run lock from reading to writing.
Then ``apply_import`` writes every decision in one transaction and adopts the M5 users.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from passerlink.errors import InputError, M5ConflictError, M5Error, M5NotFoundError
from passerlink.features import mask_personnummer, normalize_personnummer
from passerlink.matching import LINK_DECISIONS, PROPOSAL_DECISIONS, LinkDecision, LinkStore
from passerlink.people import PeopleTable
from passerlink.policy import SyncPolicy
from passerlink.sync.keys import Keyer

__all__ = ["AdoptResult", "ImportPlan", "LinkRow", "M5Adopter", "read_link_csv", "check_link_table",
           "plan_import", "apply_import", "preview_lines", "import_links", "adopt_users", "shown_id",
           "import_report"]

_COLS = ("source", "source_id", "m5_id")
_ALIASES = {"register": "source", "källa": "source", "kalla": "source", "m5-id": "m5_id", "m5 id": "m5_id"}
TABLE_COLUMNS = ["source", "source_id", "m5_id", "decision", "row", "sheet"]
#: Operator decisions a file row may carry that are stored as they are when they change the pair
#: (besides links): a rejection, a withdrawn link, an "unsure" (no link either).
_STORED_REFUSALS = ("rejected", "unlinked", "unsure")
_PREVIEW_MAX = 40


class M5Adopter(Protocol):
    """What the import needs of ``M5Client``."""

    def list_users(self, filter: Mapping[str, str] | None = None) -> list[dict[str, Any]]: ...
    def get_user(self, user_id: int) -> dict[str, Any]: ...
    def update_user(self, user_id: int, fields: Mapping[str, Any], rastamp: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class LinkRow:
    """One decision of the file, checked: a link (``decision`` a link decision) or a refusal."""

    source: str
    source_id: str
    m5_id: str
    decision: str
    where: str  # "row 7" or "row 7 of sheet 'hr'", for messages
    person: str = ""  # name and masked personnummer of the register person
    m5_name: str = ""  # name of the M5 user


@dataclass
class ImportPlan:
    """Everything an import would store, checked; nothing is written yet."""

    name: str
    links: list[LinkRow] = field(default_factory=list)  # new links to store
    refusals: list[LinkRow] = field(default_factory=list)  # rejections to store
    unlinks: list[tuple[str, str, str, str]] = field(default_factory=list)  # source, id, old m5, why
    already_linked: int = 0
    no_link: int = 0  # rows without a link (the person is created new)
    adopted_manual: list[LinkRow] = field(default_factory=list)  # links to manual M5 users (adopt_manual)
    all_links: list[LinkRow] = field(default_factory=list)  # every link of the file (new or already stored)

    @property
    def writes(self) -> int:
        return len(self.links) + len(self.refusals) + len(self.unlinks)


@dataclass
class AdoptResult:
    stored: int = 0
    already_linked: int = 0
    adopted: int = 0
    already_adopted: int = 0
    notes: list[str] = field(default_factory=list)
    #: why adopting stopped ("" = it did not): the links are stored; a rerun adopts the rest
    failed: str = ""


# ---- reading -------------------------------------------------------------------------------------

def _decode(data: bytes, path: Path) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: the link table is neither UTF-8 nor Windows-1252")  # pragma: no cover


def read_link_csv(path: str | Path) -> pd.DataFrame:
    """``source, source_id, m5_id, decision, row, sheet`` from a CSV (comma or semicolon, UTF-8 or
    Windows-1252); ``decision`` is "" when the file has no such column, ``sheet`` always ""."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: link table not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the link table ({exc.strerror})") from None
    if b"\x00" in data:
        raise InputError(f"{path}: not a text file (it holds NUL bytes); a link table is a CSV or an .xlsx")
    text = _decode(data, path)
    first = text.splitlines()[0] if text.strip() else ""
    sep = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    header = next(reader, None)
    if not header:
        raise InputError(f"{path}: the link table is empty")
    names = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    missing = [c for c in _COLS if c not in names]
    if missing:
        raise InputError(f"{path}: the link table has no column {missing[0]!r} (it needs {', '.join(_COLS)})")
    idx = {c: names.index(c) for c in (*_COLS, "decision") if c in names}
    rows = []
    for n, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        rec = {c: (row[j].strip() if j < len(row) else "") for c, j in idx.items()}
        rows.append({"source": rec["source"], "source_id": rec["source_id"], "m5_id": rec["m5_id"],
                     "decision": rec.get("decision", ""), "row": n, "sheet": ""})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def check_link_table(table: pd.DataFrame, *, name: str, sources: Sequence[str],
                     keyer: Keyer | None = None) -> pd.DataFrame:
    """The file's rows, checked on their own: ``source, source_id, m5_id, decision, row, sheet``
    with ``decision`` one of ``confirmed``/``manual`` (a link), ``rejected``/``unlinked``/``unsure``
    (stored as such), or ``""`` (no link for the person).

    InputError naming file, row and column for an unknown register, an empty id, an M5 id that
    is not a number, or a person or M5 user linked twice within the file.
    """
    if table.empty:
        raise InputError(f"{name}: the link table has no rows")
    keyer = keyer or Keyer(frozenset())
    out = []
    seen_person: dict[tuple[str, str], tuple[str, str]] = {}
    seen_m5: dict[tuple[str, str], tuple[str, str]] = {}
    for r in table.to_dict("records"):
        where = _where(r)
        source, sid, mid = (str(r.get(c) or "").strip() for c in _COLS)
        decision = str(r.get("decision") or "").strip()
        mid = re.sub(r"\.0$", "", mid)
        kind = _row_kind(decision, mid)
        if kind == "skip":
            continue
        if source not in sources:
            col = "the sheet" if r.get("sheet") else "column 'source'"
            raise InputError(f"{name}: {where}, {col}: {source!r} is not a register of the config "
                             f"(known: {', '.join(sources)})")
        if not sid:
            raise InputError(f"{name}: {where}, column 'source_id': empty")
        sid = keyer.key(source, sid)
        if kind == "none":
            out.append({"source": source, "source_id": sid, "m5_id": "", "decision": "", "row": r.get("row"),
                        "sheet": r.get("sheet") or ""})
            continue
        if not mid.isdigit():
            raise InputError(f"{name}: {where}, column 'm5_id': {mid!r} is not an M5 user id")
        if kind == "link":
            clash = _clash(seen_person, (source, sid), mid, where)
            if clash:
                raise InputError(f"{name}: {where}: {source}:{shown_id(sid)} is linked to M5 user {clash[0]} on "
                                 f"{clash[1]} and to {mid} here")
            clash = _clash(seen_m5, (source, mid), sid, where)
            if clash:
                raise InputError(f"{name}: {where}: M5 user {mid} is linked to {source}:{shown_id(clash[0])} on "
                                 f"{clash[1]} and to {source}:{shown_id(sid)} here")
        out.append({"source": source, "source_id": sid, "m5_id": mid,
                    "decision": {"link": "confirmed" if decision in ("confirmed", "auto") else "manual",
                                 "refusal": decision}[kind],
                    "row": r.get("row"), "sheet": r.get("sheet") or ""})
    checked = pd.DataFrame(out, columns=TABLE_COLUMNS)
    return checked.drop_duplicates(subset=["source", "source_id", "m5_id", "decision"])


def _row_kind(decision: str, m5_id: str) -> str:
    """link | refusal | none (no link for the person) | skip (a row that decides nothing)."""
    if decision in _STORED_REFUSALS and m5_id:
        return "refusal"
    if decision in ("", *LINK_DECISIONS) and m5_id:
        return "link"
    if decision in ("", "unlinked", *LINK_DECISIONS) and not m5_id:
        return "none"
    return "skip"  # a proposal or question the operator left open, a withdrawn one


def _clash(seen: dict[tuple[str, str], tuple[str, str]], key: tuple[str, str], value: str, where: str
           ) -> tuple[str, str] | None:
    """The earlier (value, where) of ``key`` if it differs from ``value``; remembers the first."""
    if key in seen and seen[key][0] != value:
        return seen[key]
    seen.setdefault(key, (value, where))
    return None


def _where(r: Mapping[str, Any]) -> str:
    row = int(r.get("row") or 0)
    return f"row {row}" + (f" of sheet {r['sheet']!r}" if r.get("sheet") else "")


def shown_id(source_id: str) -> str:
    """An id as messages show it: a personnummer masked."""
    return mask_personnummer(source_id) if normalize_personnummer(source_id) else source_id


# ---- planning (pure) -----------------------------------------------------------------------------

def _person_names(registers: Mapping[str, PeopleTable]) -> dict[tuple[str, str], tuple[str, str]]:
    """(source, id) -> (name with masked personnummer, 12-digit personnummer or "")."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for source, table in registers.items():
        for p in table.people.to_dict("records"):
            first = str(p.get("call_name") or "") or str(p.get("given_names") or "").split(" ")[0]
            name = " ".join(x for x in (first, str(p.get("family_name") or "")) if x) or "(no name)"
            pnr = normalize_personnummer(str(p.get("personnummer") or ""))
            shown = f"{name} ({mask_personnummer(pnr)})" if pnr else name
            out[(source, str(p.get("source_id") or ""))] = (shown, pnr)
    return out


def _m5_name(user: Mapping[str, Any]) -> str:
    name = " ".join(str(user.get(f) or "") for f in ("firstname", "lastname")).strip() or "(no name)"
    return f"{name} (M5 {user.get('id')})"


def _proposed_pairs(history: pd.DataFrame) -> set[tuple[str, str, str]]:
    """Pairs the matcher ever proposed (a proposal, a question, an auto link, or a probability)."""
    if history.empty:
        return set()
    hit = history["decision"].isin([*PROPOSAL_DECISIONS, "auto"]) | history["probability"].notna()
    h = history[hit]
    return {(str(s), str(i), str(m)) for s, i, m in zip(h["source"], h["source_id"], h["m5_id"], strict=True)}


def _stored(current: pd.DataFrame, keyer: Keyer) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str, str], str]]:
    """(person -> linked M5 id, pair -> latest decision) of the store now (ids keyed)."""
    person: dict[tuple[str, str], str] = {}
    latest: dict[tuple[str, str, str], str] = {}
    for s, i, m, d in zip(current["source"], current["source_id"], current["m5_id"], current["decision"],
                          strict=True):
        sid = keyer.key(str(s), str(i))
        latest[(str(s), sid, str(m))] = str(d)
        if d in LINK_DECISIONS:
            person[(str(s), sid)] = str(m)
    return person, latest


def plan_import(
    checked: pd.DataFrame,
    *,
    name: str,
    registers: Mapping[str, PeopleTable],
    m5_users: Iterable[Mapping[str, Any]],
    store_current: pd.DataFrame,
    store_history: pd.DataFrame,
    policy: SyncPolicy,
    marker_field: str,
    adopt_manual: bool = False,
    keyer: Keyer | None = None,
) -> ImportPlan:
    """What importing ``checked`` (from ``check_link_table``) would store; InputError for any row
    that must not be stored. ``registers`` are read now (ids keyed like the file's)."""
    keyer = keyer or Keyer(frozenset())
    users = {str(u.get("id")): u for u in m5_users}
    people = _person_names(registers)
    stored_person, latest = _stored(store_current, keyer)
    proposed = {(s, keyer.key(s, i), m) for s, i, m in _proposed_pairs(store_history)}
    plan = ImportPlan(name=name)
    rows = checked.to_dict("records")
    file_links = {(r["source"], r["source_id"]): r["m5_id"] for r in rows if r["decision"] in LINK_DECISIONS}
    for r in rows:
        key = (r["source"], r["source_id"])
        where = _where(r)
        if r["decision"] == "":
            plan.no_link += 1
            old = stored_person.get(key)
            if old is not None and key not in file_links:
                plan.unlinks.append((key[0], key[1], old, f"no link for the person on {where} of {name}"))
            continue
        if key not in people and r["decision"] in LINK_DECISIONS:
            raise InputError(f"{name}: {where}, column 'source_id': {shown_id(key[1])} is not in the register "
                             f"{key[0]!r} as it reads now")
        user = users.get(r["m5_id"])
        if user is None and r["decision"] in LINK_DECISIONS:
            raise InputError(f"{name}: {where}, column 'm5_id': M5 user {r['m5_id']} does not exist in M5")
        row = LinkRow(key[0], key[1], r["m5_id"], r["decision"], where, people.get(key, ("", ""))[0],
                      _m5_name(user) if user else f"(M5 {r['m5_id']})")
        if r["decision"] not in LINK_DECISIONS:
            if latest.get((*key, r["m5_id"])) != r["decision"]:
                plan.refusals.append(row)
            continue
        plan.all_links.append(row)
        if latest.get((*key, r["m5_id"])) in LINK_DECISIONS:
            plan.already_linked += 1
            continue
        old = stored_person.get(key)
        if old is not None and old != r["m5_id"]:
            plan.unlinks.append((key[0], key[1], old, f"replaced by the link to {r['m5_id']} on {where} of {name}"))
        if not _owned_or_proposed(user, row, policy, marker_field, proposed):
            plan.adopted_manual.append(row)
        plan.links.append(row)
    if plan.adopted_manual and not adopt_manual:
        first, more = plan.adopted_manual[0], len(plan.adopted_manual) - 1
        raise InputError(
            f"{name}: {first.where}: M5 user {first.m5_name} is a manual record (no marker of ours, never proposed "
            f"by the matcher for {first.source}:{shown_id(first.source_id)})"
            + (f", and so are the M5 users of {more} more rows" if more else "")
            + "; check the pairs (passerlink links import ... --dry-run --adopt-manual lists them) and rerun with "
              "--adopt-manual to link them anyway")
    _check_one_person_per_user(plan, stored_person, users, people, policy, marker_field, keyer)
    return plan


def _owned_or_proposed(user: Mapping[str, Any] | None, row: LinkRow, policy: SyncPolicy, marker_field: str,
                       proposed: set[tuple[str, str, str]]) -> bool:
    if user is not None and policy.parse_marker(str(user.get(marker_field) or "")) is not None:
        return True
    return (row.source, row.source_id, row.m5_id) in proposed


def _check_one_person_per_user(plan: ImportPlan, stored_person: Mapping[tuple[str, str], str],
                               users: Mapping[str, Mapping[str, Any]],
                               people: Mapping[tuple[str, str], tuple[str, str]],
                               policy: SyncPolicy, marker_field: str, keyer: Keyer) -> None:
    """No M5 user ends up with two people: the store's links after the import, plus markers."""
    final = dict(stored_person)
    for s, i, _old, _why in plan.unlinks:
        final.pop((s, i), None)
    for row in plan.all_links:
        final[(row.source, row.source_id)] = row.m5_id
    holders: dict[str, set[tuple[str, str]]] = {}
    for key, m5 in final.items():
        holders.setdefault(m5, set()).add(key)
    relinked = set(final)
    for uid, user in users.items():
        mk = policy.parse_marker(str(user.get(marker_field) or ""))
        mk = keyer.sync_key(*mk) if mk is not None else None  # a marker written before keying
        if mk is not None and mk not in relinked and uid in holders:
            holders[uid].add(mk)  # the marker's person still claims this user
    for uid in holders:  # a person gone from every register claims nobody any more
        holders[uid] = {k for k in holders[uid] if k in people}
    new = {row.m5_id: row for row in plan.links}
    for uid, row in new.items():
        keys = holders.get(uid, set())
        other = _another_person(keys, people)
        if other is not None:
            raise InputError(
                f"{plan.name}: {row.where}: M5 user {row.m5_name} would be linked to two people, "
                f"{other[0][0]}:{shown_id(other[0][1])} and {other[1][0]}:{shown_id(other[1][1])} (counting the "
                "links already stored and the markers in M5); unlink one first")


def _another_person(keys: set[tuple[str, str]], people: Mapping[tuple[str, str], tuple[str, str]]
                    ) -> tuple[tuple[str, str], tuple[str, str]] | None:
    """Two keys that are two people: of one register, or with different personnummer."""
    ordered = sorted(keys)
    for n, a in enumerate(ordered):
        for b in ordered[n + 1:]:
            if a[0] == b[0]:
                return a, b
            pa, pb = people.get(a, ("", ""))[1], people.get(b, ("", ""))[1]
            if pa and pb and pa != pb:
                return a, b
    return None


def preview_lines(plan: ImportPlan, *, limit: int = _PREVIEW_MAX) -> list[str]:
    """The preview an operator reads before anything is written (names, masked personnummer)."""
    lines = [f"{plan.name}: {len(plan.links)} new links, {plan.already_linked} already stored, "
             f"{len(plan.refusals)} rejected/unlinked/unsure pairs, {len(plan.unlinks)} links withdrawn, "
             f"{plan.no_link} rows without a link (created new by the sync)"]
    if plan.adopted_manual:
        lines.append(f"{len(plan.adopted_manual)} manual M5 users will be adopted (--adopt-manual):")
        lines += [f"  adopt {r.m5_name} for {r.source}:{shown_id(r.source_id)} {r.person}" for r in plan.adopted_manual]
    for s, i, old, why in plan.unlinks:
        lines.append(f"  unlink {s}:{shown_id(i)} from M5 user {old} ({why})")
    plain = [r for r in plan.links if r not in plan.adopted_manual]
    for r in plain[:limit]:
        lines.append(f"  link {r.source}:{shown_id(r.source_id)} {r.person} -> {r.m5_name}")
    if len(plain) > limit:
        lines.append(f"  ... and {len(plain) - limit} more links")
    for r in plan.refusals[:limit]:
        lines.append(f"  {r.decision} {r.source}:{shown_id(r.source_id)} {r.person} -> {r.m5_name}")
    if len(plan.refusals) > limit:
        lines.append(f"  ... and {len(plan.refusals) - limit} more")
    return lines


def import_report(plan: ImportPlan, result: AdoptResult, *, who: str, at: str) -> dict[str, object]:
    """What an import did, for the record (``links-import-*.json`` beside the sync reports):
    who, when, how many of each kind, every manual M5 user adopted and every link withdrawn, by
    name; personnummer masked, ids of a keyed register as their keyed hash."""
    def row(r: LinkRow) -> dict[str, str]:
        return {"source": r.source, "source_id": shown_id(r.source_id), "person": r.person, "m5_id": r.m5_id,
                "m5_user": r.m5_name, "where": r.where}

    return {
        "file": plan.name, "who": who, "at": at,
        "counts": {"new_links": len(plan.links), "already_linked": plan.already_linked,
                   "rejections": len(plan.refusals), "unlinked": len(plan.unlinks), "no_link": plan.no_link,
                   "adopted_manual": len(plan.adopted_manual), "stored": result.stored,
                   "m5_users_adopted": result.adopted, "m5_users_already_adopted": result.already_adopted},
        "adopted_manual": [row(r) for r in plan.adopted_manual],
        "unlinked": [{"source": s, "source_id": shown_id(i), "m5_id": old, "why": why}
                     for s, i, old, why in plan.unlinks],
        "links": [row(r) for r in plan.links],
        "notes": list(result.notes),
        "adoption_failed": result.failed,
    }


# ---- writing -------------------------------------------------------------------------------------

def apply_import(plan: ImportPlan, store: LinkStore, client: M5Adopter, *, who: str, policy: SyncPolicy,
                 marker_field: str, source_order: Sequence[str], users: Mapping[str, Mapping[str, Any]]
                 ) -> AdoptResult:
    """Store every decision of ``plan`` in one transaction, then adopt the linked M5 users."""
    result = AdoptResult(already_linked=plan.already_linked)
    decisions = [LinkDecision(s, i, old, "unlinked", who=who, note=why) for s, i, old, why in plan.unlinks]
    note = f"imported from {plan.name}"
    decisions += [LinkDecision(r.source, r.source_id, r.m5_id, r.decision, who=who,
                               note=note + (" (manual M5 user adopted)" if r in plan.adopted_manual else ""))
                  for r in (*plan.links, *plan.refusals)]
    result.stored = store.record(decisions) if decisions else 0
    for s, i, old, _ in plan.unlinks:
        result.notes.append(f"{s}:{shown_id(i)} is no longer linked to M5 user {old}")
    links = pd.DataFrame([{"source": r.source, "source_id": r.source_id, "m5_id": r.m5_id} for r in plan.all_links],
                         columns=["source", "source_id", "m5_id"])
    try:
        adopt_users(links, users, client, result, marker_field=marker_field, policy=policy,
                    source_order=source_order)
    except M5Error as exc:
        # the links are stored (the sync writes the markers of linked users too); say what is left
        result.failed = (f"M5 failed after {result.adopted} adoptions ({exc}); the links are stored: run the "
                         "import again to adopt the rest, or let the next sync write the markers")
    return result


def import_links(
    links: pd.DataFrame,
    store: LinkStore,
    client: M5Adopter,
    *,
    name: str,
    who: str,
    marker_field: str,
    policy: SyncPolicy,
    source_order: Sequence[str],
    registers: Mapping[str, PeopleTable],
    adopt_manual: bool = False,
    keyer: Keyer | None = None,
) -> AdoptResult:
    """Plan and apply in one call (``links`` from ``check_link_table``)."""
    users = {str(u["id"]): u for u in client.list_users()}
    plan = plan_import(links, name=name, registers=registers, m5_users=users.values(),
                       store_current=store.current(), store_history=store.history(), policy=policy,
                       marker_field=marker_field, adopt_manual=adopt_manual, keyer=keyer)
    return apply_import(plan, store, client, who=who, policy=policy, marker_field=marker_field,
                        source_order=source_order, users=users)


def adopt_users(links: pd.DataFrame, users: Mapping[str, Mapping[str, Any]], client: M5Adopter,
                result: AdoptResult, *, marker_field: str, policy: SyncPolicy, source_order: Sequence[str]) -> None:
    """Write the marker of the winning register person into each linked M5 user."""
    order = [s for s in policy.winner] + [s for s in source_order if s not in policy.winner]
    rank = {s: i for i, s in enumerate(order)}
    best: dict[str, tuple[str, str]] = {}
    keys_of: dict[str, set[tuple[str, str]]] = {}
    for r in links.to_dict("records"):
        k = (str(r["source"]), str(r["source_id"]))
        keys_of.setdefault(str(r["m5_id"]), set()).add(k)
        cur = best.get(str(r["m5_id"]))
        if cur is None or (rank.get(k[0], 99), k[1]) < (rank.get(cur[0], 99), cur[1]):
            best[str(r["m5_id"])] = k
    jobs: list[tuple[str, str, str]] = []
    for m5_id, key in sorted(best.items(), key=lambda kv: int(kv[0])):
        user = users[m5_id]
        have = str(user.get(marker_field) or "")
        mine = policy.parse_marker(have)
        if mine is not None and mine in keys_of[m5_id]:
            result.already_adopted += 1
            continue
        if have and mine is None:
            result.notes.append(f"M5 user {m5_id}: {marker_field} {have!r} replaced by our marker")
        jobs.append((m5_id, policy.marker(*key), str(user.get("rastamp") or "")))
    _write_markers(client, jobs, result, marker_field, policy.concurrency)


def _write_markers(client: M5Adopter, jobs: Sequence[tuple[str, str, str]], result: AdoptResult,
                   marker_field: str, concurrency: int) -> None:
    """Write the markers on ``[sync] concurrency`` threads (the sync's own bound on M5). The first
    M5 failure stops the writes not yet started and is raised once the running ones ended."""
    failed: list[M5Error] = []

    def one(job: tuple[str, str, str]) -> tuple[str, str]:
        if failed:
            return "skipped", ""
        try:
            return _write_marker(client, *job, marker_field)
        except M5Error as exc:
            failed.append(exc)
            return "failed", ""

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="passerlink-adopt") as pool:
        for outcome, note in pool.map(one, jobs):
            if outcome == "adopted":
                result.adopted += 1
            elif outcome == "already":
                result.already_adopted += 1
            if note:
                result.notes.append(note)
    if failed:
        raise failed[0]


def _write_marker(client: M5Adopter, m5_id: str, marker: str, rastamp: str, marker_field: str) -> tuple[str, str]:
    """(adopted | already | missed, note) for one M5 user; a stale rastamp is re-read (3 tries)."""
    for _ in range(3):
        try:
            client.update_user(int(m5_id), {marker_field: marker}, rastamp)
            return "adopted", ""
        except M5ConflictError:
            try:
                fresh = client.get_user(int(m5_id))
            except M5NotFoundError:
                return "missed", f"M5 user {m5_id} was deleted meanwhile; not adopted"
            if str(fresh.get(marker_field) or "") == marker:
                return "already", ""
            rastamp = str(fresh.get("rastamp") or "")
    return "missed", f"M5 user {m5_id} kept changing; not adopted (run the import again)"
