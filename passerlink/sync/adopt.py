"""Importing a confirmed link table, and adopting the linked M5 users (writing our marker).

Go-live ends with a signed-off link table (the workbench's Excel export, or a CSV made
elsewhere). Importing it stores every link in the link store (who = the operator running the
import) and writes the ownership marker into each linked M5 user, so that from the first night
on the engine can tell its users from the manual records even without the link store.

The whole file is checked before anything is written: an unknown register, an empty id, an M5
user that does not exist, or a person or M5 user linked twice stops the import with one sentence
naming the file, row and column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from passerlink.errors import InputError, M5ConflictError, M5NotFoundError
from passerlink.matching import LINK_DECISIONS, LinkDecision, LinkStore

__all__ = ["AdoptResult", "read_link_csv", "check_link_table", "import_links", "adopt_users"]

_COLS = ("source", "source_id", "m5_id")
_ALIASES = {"register": "source", "källa": "source", "kalla": "source", "m5-id": "m5_id", "m5 id": "m5_id"}


@dataclass
class AdoptResult:
    stored: int = 0
    already_linked: int = 0
    adopted: int = 0
    already_adopted: int = 0
    notes: list[str] = field(default_factory=list)


def read_link_csv(path: str | Path) -> pd.DataFrame:
    """``source, source_id, m5_id, decision, row`` from a CSV (comma or semicolon, UTF-8 or
    Windows-1252); ``decision`` is "" when the file has no such column."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: link table not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the link table ({exc.strerror})") from None
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
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
                     "decision": rec.get("decision", ""), "row": n})
    return pd.DataFrame(rows, columns=["source", "source_id", "m5_id", "decision", "row"])


def check_link_table(table: pd.DataFrame, *, name: str, sources: Sequence[str]) -> pd.DataFrame:
    """The links of a table (decision a link decision or blank), validated; InputError otherwise."""
    if table.empty:
        raise InputError(f"{name}: the link table has no rows")
    out = []
    seen_person: dict[tuple[str, str], tuple[str, int]] = {}
    seen_m5: dict[tuple[str, str], tuple[str, int]] = {}
    for r in table.to_dict("records"):
        row = int(r.get("row") or 0)
        where = f"{name}: row {row}" + (f" of sheet {r['source']!r}" if r.get("sheet") else "")
        decision = str(r.get("decision") or "").strip()
        if decision and decision not in LINK_DECISIONS:
            continue  # rejected / unsure / unlinked rows are not links
        source, sid, mid = (str(r.get(c) or "").strip() for c in _COLS)
        if source not in sources:
            raise InputError(f"{where}, column 'source': {source!r} is not a register of the config "
                             f"(known: {', '.join(sources)})")
        if not sid:
            raise InputError(f"{where}, column 'source_id': empty")
        mid = re.sub(r"\.0$", "", mid)
        if not mid.isdigit():
            raise InputError(f"{where}, column 'm5_id': {mid!r} is not an M5 user id")
        p = (source, sid)
        if p in seen_person and seen_person[p][0] != mid:
            raise InputError(f"{where}: {source}:{sid} is linked to M5 user {seen_person[p][0]} on row "
                             f"{seen_person[p][1]} and to {mid} here")
        m = (source, mid)
        if m in seen_m5 and seen_m5[m][0] != sid:
            raise InputError(f"{where}: M5 user {mid} is linked to {source}:{seen_m5[m][0]} on row "
                             f"{seen_m5[m][1]} and to {source}:{sid} here")
        seen_person[p] = (mid, row)
        seen_m5[m] = (sid, row)
        out.append({"source": source, "source_id": sid, "m5_id": mid,
                    "decision": "confirmed" if decision in ("confirmed", "auto") else "manual", "row": row})
    links = pd.DataFrame(out, columns=["source", "source_id", "m5_id", "decision", "row"])
    return links.drop_duplicates(subset=["source", "source_id", "m5_id"])


def import_links(
    links: pd.DataFrame,
    store: LinkStore,
    client: Any,
    *,
    name: str,
    who: str,
    marker_field: str,
    policy: Any,
    source_order: Sequence[str],
) -> AdoptResult:
    """Store ``links`` (from ``check_link_table``) and adopt their M5 users."""
    users = {str(u["id"]): u for u in client.list_users()}
    for r in links.to_dict("records"):
        if r["m5_id"] not in users:
            raise InputError(f"{name}: row {r['row']}, column 'm5_id': M5 user {r['m5_id']} does not exist in M5")
    result = AdoptResult()
    current = store.current()
    latest = {(str(s), str(i), str(m)): d for s, i, m, d in
              zip(current["source"], current["source_id"], current["m5_id"], current["decision"], strict=True)}
    existing = store.links()
    linked_elsewhere = {(str(s), str(i)): str(m) for s, i, m in
                        zip(existing["source"], existing["source_id"], existing["m5_id"], strict=True)}
    decisions = []
    for r in links.to_dict("records"):
        key = (r["source"], r["source_id"], r["m5_id"])
        if latest.get(key) in LINK_DECISIONS:
            result.already_linked += 1
            continue
        old = linked_elsewhere.get((r["source"], r["source_id"]))
        if old is not None and old != r["m5_id"]:
            decisions.append(LinkDecision(r["source"], r["source_id"], old, "unlinked", who=who,
                                      note=f"replaced by the link to {r['m5_id']} imported from {name}"))
            result.notes.append(f"{r['source']}:{r['source_id']} was linked to M5 user {old}; now {r['m5_id']}")
        decisions.append(LinkDecision(r["source"], r["source_id"], r["m5_id"], r["decision"], who=who,
                                  note=f"imported from {name}"))
    result.stored = store.record(decisions) if decisions else 0
    adopt_users(links, users, client, result, marker_field=marker_field, policy=policy, source_order=source_order)
    return result


def adopt_users(links: pd.DataFrame, users: Mapping[str, Mapping[str, Any]], client: Any, result: AdoptResult, *,
                marker_field: str, policy: Any, source_order: Sequence[str]) -> None:
    """Write the marker of the winning register person into each linked M5 user."""
    order = [s for s in policy.winner] + [s for s in source_order if s not in policy.winner]
    rank = {s: i for i, s in enumerate(order)}
    best: dict[str, tuple[str, str]] = {}
    for r in links.to_dict("records"):
        k = (r["source"], r["source_id"])
        cur = best.get(r["m5_id"])
        if cur is None or (rank.get(k[0], 99), k[1]) < (rank.get(cur[0], 99), cur[1]):
            best[r["m5_id"]] = k
    for m5_id, key in sorted(best.items(), key=lambda kv: int(kv[0])):
        user = users[m5_id]
        have = str(user.get(marker_field) or "")
        mine = policy.parse_marker(have)
        if mine is not None and mine in {(r["source"], r["source_id"]) for r in links.to_dict("records")
                                         if r["m5_id"] == m5_id}:
            result.already_adopted += 1
            continue
        marker = policy.marker(*key)
        if have and mine is None:
            result.notes.append(f"M5 user {m5_id}: {marker_field} {have!r} replaced by our marker")
        rastamp = str(user.get("rastamp") or "")
        for _ in range(3):
            try:
                client.update_user(int(m5_id), {marker_field: marker}, rastamp)
                result.adopted += 1
                break
            except M5ConflictError:
                try:
                    fresh = client.get_user(int(m5_id))
                except M5NotFoundError:
                    result.notes.append(f"M5 user {m5_id} was deleted meanwhile; not adopted")
                    break
                if str(fresh.get(marker_field) or "") == marker:
                    result.already_adopted += 1
                    break
                rastamp = str(fresh.get("rastamp") or "")
        else:
            result.notes.append(f"M5 user {m5_id} kept changing; not adopted (run the import again)")
