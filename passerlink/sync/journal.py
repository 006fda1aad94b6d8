"""The sync engine's own SQLite state: runs, the write-ahead journal, "gone since", the review queue,
the cards the engine blocked.

The journal is written before and after every M5 write, so that a run killed at any point can
tell, on the next start, which writes may have happened without an answer (a create whose reply
never came: look for its marker before creating again). WAL mode with ``synchronous=NORMAL``
survives a killed process (SIGKILL) without losing a committed row.

The review queue is where the engine puts a new register person that the matcher thinks is
already in M5 as an unlinked user: the operator decides in the workbench (which reads
``SyncState.review_queue()``), and the answer lands in the link store.

The blocked cards are the ones the engine itself blocked when their holder left: the intent is
written ahead of the block call (``intend_block``), and once M5 confirmed the block the card's
rastamp right after it is recorded (``record_blocked``). On rehire exactly these are unblocked,
also after a run killed between the block and the record. A card blocked by hand is never in the
table, so it stays blocked.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from passerlink.errors import InputError

__all__ = ["SyncState"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,
    dry_run INTEGER NOT NULL, source_counts TEXT NOT NULL DEFAULT '{}', stats TEXT NOT NULL DEFAULT '{}',
    report TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, op_id TEXT NOT NULL, kind TEXT NOT NULL,
    m5_id TEXT NOT NULL DEFAULT '', marker TEXT NOT NULL DEFAULT '', phase TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '', at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_op ON journal (op_id, seq);
CREATE INDEX IF NOT EXISTS journal_marker ON journal (marker, seq);
CREATE TABLE IF NOT EXISTS gone (m5_id TEXT PRIMARY KEY, since TEXT NOT NULL, label TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS deleted (m5_id TEXT PRIMARY KEY, source TEXT NOT NULL DEFAULT '',
    source_id TEXT NOT NULL DEFAULT '', at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS review_queue (
    source TEXT NOT NULL, source_id TEXT NOT NULL, m5_id TEXT NOT NULL, probability REAL NOT NULL,
    label TEXT NOT NULL DEFAULT '', first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', PRIMARY KEY (source, source_id, m5_id));
CREATE TABLE IF NOT EXISTS blocked_cards (
    m5_id TEXT NOT NULL, card_id TEXT NOT NULL, rastamp TEXT NOT NULL DEFAULT '', run_id TEXT NOT NULL,
    at TEXT NOT NULL, PRIMARY KEY (m5_id, card_id));
"""

_PHASES = ("start", "created", "done", "failed", "skipped")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


class SyncState:
    """One SQLite file; safe to use from the apply threads (one connection behind a lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._con = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: not a passerlink sync state database ({exc})") from None

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> SyncState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._con.execute(sql, tuple(args)).fetchall()

    def _many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        with self._lock:
            self._con.execute("BEGIN")
            try:
                self._con.executemany(sql, [tuple(r) for r in rows])
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    # ---- runs ----------------------------------------------------------------------------------
    def start_run(self, run_id: str, *, dry_run: bool) -> None:
        self._exec("INSERT INTO runs (run_id, started, status, dry_run) VALUES (?,?,?,?)",
                   (run_id, _now(), "running", int(dry_run)))

    def finish_run(self, run_id: str, status: str, *, source_counts: Mapping[str, int] | None = None,
                   stats: Mapping[str, Any] | None = None, report: str = "") -> None:
        self._exec(
            "UPDATE runs SET finished=?, status=?, source_counts=?, stats=?, report=? WHERE run_id=?",
            (_now(), status, json.dumps(dict(source_counts or {})), json.dumps(dict(stats or {}), default=str),
             report, run_id),
        )

    def previous_run_stats(self) -> dict[str, Any] | None:
        """Source sizes and counts of the last completed (not dry) run: the shrink rule's base."""
        rows = self._exec(
            "SELECT run_id, source_counts, stats FROM runs WHERE dry_run=0 AND status='done' "
            "ORDER BY started DESC LIMIT 1"
        )
        if not rows:
            return None
        run_id, counts, stats = rows[0]
        return {"run_id": run_id, "source_counts": json.loads(counts), "stats": json.loads(stats)}

    def runs(self) -> pd.DataFrame:
        rows = self._exec("SELECT run_id, started, finished, status, dry_run, report FROM runs ORDER BY started")
        return pd.DataFrame(rows, columns=["run_id", "started", "finished", "status", "dry_run", "report"])

    # ---- journal -------------------------------------------------------------------------------
    def journal(self, run_id: str, op_id: str, kind: str, phase: str, *, m5_id: str = "", marker: str = "",
                detail: Mapping[str, Any] | str = "") -> None:
        if phase not in _PHASES:
            raise ValueError(f"unknown journal phase {phase!r}")
        text = detail if isinstance(detail, str) else json.dumps(dict(detail), default=str)
        self._exec(
            "INSERT INTO journal (run_id, op_id, kind, m5_id, marker, phase, detail, at) VALUES (?,?,?,?,?,?,?,?)",
            (run_id, op_id, kind, m5_id or "", marker or "", phase, text, _now()),
        )

    def unfinished_markers(self) -> set[str]:
        """Markers of creates that were started and never answered (in any run)."""
        rows = self._exec(
            "SELECT marker, phase FROM journal WHERE kind='create' AND marker != '' ORDER BY seq"
        )
        last: dict[str, str] = {}
        for marker, phase in rows:
            last[marker] = phase
        return {m for m, ph in last.items() if ph in ("start", "created")}

    def prune_journal(self, before: str) -> int:
        """Forget journal rows written before ``before`` (ISO time); returns how many went."""
        with self._lock:
            return self._con.execute("DELETE FROM journal WHERE at < ?", (before,)).rowcount

    def journal_rows(self, run_id: str | None = None) -> pd.DataFrame:
        sql = "SELECT seq, run_id, op_id, kind, m5_id, marker, phase, detail, at FROM journal"
        rows = self._exec(sql + (" WHERE run_id=? ORDER BY seq" if run_id else " ORDER BY seq"),
                          (run_id,) if run_id else ())
        return pd.DataFrame(rows, columns=["seq", "run_id", "op_id", "kind", "m5_id", "marker", "phase", "detail",
                                           "at"])

    # ---- gone since / deleted --------------------------------------------------------------------
    def gone_since(self) -> dict[str, str]:
        return {m: s for m, s in self._exec("SELECT m5_id, since FROM gone")}

    def mark_gone(self, items: Mapping[str, str], since: str) -> None:
        """Record ``since`` for every M5 id not already recorded (``items``: id -> label)."""
        self._many("INSERT OR IGNORE INTO gone (m5_id, since, label) VALUES (?,?,?)",
                   [(m, since, label) for m, label in items.items()])

    def clear_gone(self, ids: Iterable[str]) -> None:
        self._many("DELETE FROM gone WHERE m5_id=?", [(i,) for i in ids])

    def deleted_ids(self) -> frozenset[str]:
        return frozenset(r[0] for r in self._exec("SELECT m5_id FROM deleted"))

    def mark_deleted(self, m5_id: str, source: str = "", source_id: str = "") -> None:
        with self._lock:
            self._con.execute("BEGIN")
            self._con.execute("INSERT OR REPLACE INTO deleted (m5_id, source, source_id, at) VALUES (?,?,?,?)",
                              (m5_id, source, source_id, _now()))
            self._con.execute("DELETE FROM gone WHERE m5_id=?", (m5_id,))
            self._con.execute("COMMIT")

    # ---- cards the engine blocked --------------------------------------------------------------------
    def intend_block(self, m5_id: str, card_ids: Iterable[str], run_id: str) -> None:
        """Write-ahead: ``run_id`` is about to block ``card_ids`` of ``m5_id``.

        Committed before the block is sent, with an empty rastamp ("not confirmed yet"): a run
        killed between the block and ``record_blocked`` still leaves the cards here, so a rehire
        unblocks them (a card that was never blocked is found open and left alone).
        """
        now = _now()
        self._many("INSERT OR REPLACE INTO blocked_cards (m5_id, card_id, rastamp, run_id, at) VALUES (?,?,?,?,?)",
                   [(str(m5_id), str(c), "", run_id, now) for c in card_ids])

    def record_blocked(self, m5_id: str, cards: Mapping[str, str], run_id: str) -> None:
        """Remember that this run blocked ``cards`` (card id -> its rastamp after the block)."""
        now = _now()
        self._many("INSERT OR REPLACE INTO blocked_cards (m5_id, card_id, rastamp, run_id, at) VALUES (?,?,?,?,?)",
                   [(str(m5_id), str(c), stamp or "", run_id, now) for c, stamp in cards.items()])

    def blocked_by_sync(self) -> dict[str, dict[str, str]]:
        """M5 user id -> {card id: rastamp after the engine blocked it}."""
        out: dict[str, dict[str, str]] = {}
        for m5_id, card_id, stamp in self._exec("SELECT m5_id, card_id, rastamp FROM blocked_cards ORDER BY at"):
            out.setdefault(m5_id, {})[card_id] = stamp
        return out

    def forget_blocked(self, m5_id: str, card_ids: Iterable[str] | None = None) -> None:
        """Forget the given cards of ``m5_id`` (all of them when None)."""
        if card_ids is None:
            self._exec("DELETE FROM blocked_cards WHERE m5_id=?", (str(m5_id),))
        else:
            self._many("DELETE FROM blocked_cards WHERE m5_id=? AND card_id=?",
                       [(str(m5_id), str(c)) for c in card_ids])

    # ---- review queue -----------------------------------------------------------------------------
    def queue(self, items: Iterable[tuple[str, str, str, float, str]]) -> None:
        """Put (source, source_id, m5_id, probability, label) on the review queue; items no
        longer proposed are marked resolved (the operator answered, or the register changed)."""
        now = _now()
        items = list(items)
        with self._lock:
            self._con.execute("BEGIN")
            self._con.execute("UPDATE review_queue SET status='resolved' WHERE status='pending'")
            self._con.executemany(
                "INSERT INTO review_queue (source, source_id, m5_id, probability, label, first_seen, last_seen, status)"
                " VALUES (?,?,?,?,?,?,?,'pending') ON CONFLICT (source, source_id, m5_id) DO UPDATE SET"
                " probability=excluded.probability, label=excluded.label, last_seen=excluded.last_seen,"
                " status='pending'",
                [(s, sid, m, float(p), label, now, now) for s, sid, m, p, label in items],
            )
            self._con.execute("COMMIT")

    def review_queue(self, *, pending_only: bool = True) -> pd.DataFrame:
        """The operator's queue: ``source, source_id, m5_id, probability, label, first_seen, last_seen, status``."""
        sql = ("SELECT source, source_id, m5_id, probability, label, first_seen, last_seen, status FROM review_queue"
               + (" WHERE status='pending'" if pending_only else "") + " ORDER BY first_seen, source, source_id")
        return pd.DataFrame(self._exec(sql), columns=["source", "source_id", "m5_id", "probability", "label",
                                                      "first_seen", "last_seen", "status"])
