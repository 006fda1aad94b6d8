"""The link store: every decision about a register-person ↔ M5-user pair, append-only, in SQLite.

Go-live day produces thousands of answers; losing one costs an operator's time and a wrong one
costs a door. So every answer is one INSERT committed at once (WAL mode), rows can never be
updated or deleted (triggers refuse it), and the current state of a pair is simply its latest row.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from passerlink.errors import InputError

__all__ = ["Decision", "DECISIONS", "LINK_DECISIONS", "LinkStore"]

#: Every decision a row can carry.
#: auto      – the model linked the pair without asking (auto-link band)
#: confirmed – an operator said yes          rejected – an operator said no
#: unsure    – an operator could not tell    manual   – an operator linked a pair by hand
#: unlinked  – a link was withdrawn          undone   – an answer was taken back (pair undecided)
DECISIONS = ("auto", "confirmed", "rejected", "unsure", "manual", "unlinked", "undone")
#: Decisions under which a pair counts as linked.
LINK_DECISIONS = ("auto", "confirmed", "manual")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT NOT NULL,
    source_id     TEXT NOT NULL,
    m5_id         TEXT NOT NULL,
    decision      TEXT NOT NULL CHECK (decision IN ('auto','confirmed','rejected','unsure','manual','unlinked','undone')),
    probability   REAL,
    who           TEXT NOT NULL,
    at            TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    model_version TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS decisions_pair ON decisions (source, source_id, m5_id, seq);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'the link store is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'the link store is append-only'); END;
"""

_COLUMNS = ["seq", "source", "source_id", "m5_id", "decision", "probability", "who", "at", "note", "model_version"]


@dataclass(frozen=True)
class Decision:
    source: str
    source_id: str
    m5_id: str
    decision: str
    probability: float | None = None
    who: str = "system"
    note: str = ""
    model_version: str = ""


class LinkStore:
    """An append-only decision log with the current link table as a view over it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as con:
                con.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: not a passerlink link store ({exc})") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            with con:
                yield con
        finally:
            con.close()

    # ---- writing -------------------------------------------------------------------------
    def record(self, decisions: Decision | Iterable[Decision], *, at: _dt.datetime | None = None) -> int:
        """Append decisions in one transaction; returns how many were written."""
        if isinstance(decisions, Decision):
            decisions = [decisions]
        stamp = (at or _dt.datetime.now(_dt.UTC)).isoformat(timespec="microseconds")
        rows = []
        for d in decisions:
            if d.decision not in DECISIONS:
                raise InputError(f"unknown link decision {d.decision!r} (known: {', '.join(DECISIONS)})")
            rows.append(
                (d.source, str(d.source_id), str(d.m5_id), d.decision,
                 None if d.probability is None else float(d.probability),
                 d.who, stamp, d.note, d.model_version)
            )
        with self._connect() as con:
            con.executemany(
                "INSERT INTO decisions (source, source_id, m5_id, decision, probability, who, at, note, model_version)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                rows,
            )
        return len(rows)

    def undo_last(self, who: str) -> Decision | None:
        """Take back ``who``'s latest operator answer (not already undone); returns it."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT source, source_id, m5_id, decision, probability FROM decisions"
                " WHERE who = ? ORDER BY seq DESC", (who,)
            ).fetchall()
        undone: set[tuple[str, str, str]] = set()
        for source, sid, mid, decision, prob in rows:
            key = (source, sid, mid)
            if decision == "undone":
                undone.add(key)
                continue
            if key in undone:
                undone.discard(key)
                continue
            if decision in ("confirmed", "rejected", "unsure", "manual"):
                d = Decision(source, sid, mid, "undone", prob, who, note=f"undo {decision}")
                self.record(d)
                return Decision(source, sid, mid, decision, prob, who)
        return None

    # ---- reading -------------------------------------------------------------------------
    def history(self, source: str | None = None, source_id: str | None = None) -> pd.DataFrame:
        """Every row ever written, oldest first (optionally for one person)."""
        sql, args = "SELECT * FROM decisions", []
        if source is not None:
            sql += " WHERE source = ?"
            args.append(source)
            if source_id is not None:
                sql += " AND source_id = ?"
                args.append(str(source_id))
        with self._connect() as con:
            rows = con.execute(sql + " ORDER BY seq", args).fetchall()
        return pd.DataFrame(rows, columns=_COLUMNS)

    def current(self) -> pd.DataFrame:
        """The latest decision of every pair ever decided (``undone`` pairs left out)."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT d.* FROM decisions d JOIN ("
                " SELECT MAX(seq) AS seq FROM decisions GROUP BY source, source_id, m5_id"
                ") last ON last.seq = d.seq WHERE d.decision != 'undone' ORDER BY d.seq"
            ).fetchall()
        return pd.DataFrame(rows, columns=_COLUMNS)

    def links(self, decisions: Iterable[str] = LINK_DECISIONS) -> pd.DataFrame:
        """Current links: columns ``source, source_id, m5_id, decision, probability, who, at``."""
        cur = self.current()
        cur = cur[cur["decision"].isin(list(decisions))]
        return cur[["source", "source_id", "m5_id", "decision", "probability", "who", "at"]].reset_index(drop=True)

    def count(self) -> int:
        with self._connect() as con:
            return int(con.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])
