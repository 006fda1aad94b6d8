"""The link store: every decision about a register-person ↔ M5-user pair, append-only, in SQLite.

Go-live day produces thousands of answers; losing one costs an operator's time and a wrong one
costs a door. So every answer is one INSERT committed at once (WAL mode), rows can never be
updated or deleted (triggers refuse it), and the current state of a pair is simply its latest row.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pandas as pd

from passerlink.errors import InputError

__all__ = [
    "ANSWER_LABELS",
    "Decision",
    "DECISIONS",
    "LINK_DECISIONS",
    "OPERATOR_DECISIONS",
    "PROPOSAL_DECISIONS",
    "LinkDecision",
    "LinkStore",
    "NOTE_REASONS",
    "SignOff",
    "reason_of_note",
]


class Decision(StrEnum):
    """Every decision a row of the store can carry; a ``StrEnum``, so ``Decision.AUTO == "auto"``.

    Proposals come from the joint matching and wait for sign-off; operator answers are links or
    refusals at once; sign-off turns the proposals still standing into ``auto`` links.
    """

    #: the model linked the pair and the operator's sign-off accepted it (auto-link band)
    AUTO = "auto"
    #: an operator said yes
    CONFIRMED = "confirmed"
    #: an operator said no
    REJECTED = "rejected"
    #: an operator could not tell
    UNSURE = "unsure"
    #: an operator linked a pair by hand
    MANUAL = "manual"
    #: a link was withdrawn
    UNLINKED = "unlinked"
    #: an answer was taken back (the pair is undecided again)
    UNDONE = "undone"
    #: the joint matching proposes linking the pair without asking (waits for sign-off)
    PROPOSED = "proposed"
    #: the joint matching asks an operator about the pair (an open question)
    QUESTION = "question"
    #: a proposal or question removed before sign-off; the row's note says why
    WITHDRAWN = "withdrawn"


#: Every decision a row can carry, in the enum's order.
DECISIONS: tuple[Decision, ...] = tuple(Decision)
#: Decisions under which a pair counts as linked.
LINK_DECISIONS: tuple[Decision, ...] = (Decision.AUTO, Decision.CONFIRMED, Decision.MANUAL)
#: What the model suggests, waiting for the operator or the sign-off.
PROPOSAL_DECISIONS: tuple[Decision, ...] = (Decision.PROPOSED, Decision.QUESTION)
#: What an operator can say about a pair.
OPERATOR_DECISIONS: tuple[Decision, ...] = (Decision.CONFIRMED, Decision.REJECTED, Decision.UNSURE,
                                            Decision.MANUAL, Decision.UNLINKED)

#: What an operator's decision teaches the model: a link, a non-link or nothing (unsure).
ANSWER_LABELS: dict[Decision, bool | None] = {
    Decision.CONFIRMED: True,
    Decision.MANUAL: True,
    Decision.REJECTED: False,
    Decision.UNLINKED: False,
    Decision.UNSURE: None,
}

_CHECK = ",".join(f"'{d.value}'" for d in Decision)

_TABLE = f"""
CREATE TABLE IF NOT EXISTS decisions (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT NOT NULL,
    source_id     TEXT NOT NULL,
    m5_id         TEXT NOT NULL,
    decision      TEXT NOT NULL CHECK (decision IN ({_CHECK})),
    probability   REAL,
    who           TEXT NOT NULL,
    at            TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    model_version TEXT NOT NULL DEFAULT ''
);
"""

_REST = """
CREATE INDEX IF NOT EXISTS decisions_pair ON decisions (source, source_id, m5_id, seq);
CREATE INDEX IF NOT EXISTS decisions_m5 ON decisions (m5_id, seq);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'the link store is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'the link store is append-only'); END;
CREATE TABLE IF NOT EXISTS signoffs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    who           TEXT NOT NULL,
    at            TEXT NOT NULL,
    counts        TEXT NOT NULL,
    model_version TEXT NOT NULL DEFAULT '',
    last_seq      INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS signoffs_no_update BEFORE UPDATE ON signoffs
BEGIN SELECT RAISE(ABORT, 'the link store is append-only'); END;
CREATE TRIGGER IF NOT EXISTS signoffs_no_delete BEFORE DELETE ON signoffs
BEGIN SELECT RAISE(ABORT, 'the link store is append-only'); END;
"""

_COLUMNS = ["seq", "source", "source_id", "m5_id", "decision", "probability", "who", "at", "note", "model_version"]

#: Columns of ``LinkStore.proposals()``.
PROPOSAL_COLUMNS = ["source", "source_id", "m5_id", "kind", "probability", "model_version", "proposed_at",
                    "state", "who", "why"]


@dataclass(frozen=True)
class LinkDecision:
    """One row to append: what was decided about one register-person ↔ M5-user pair, by whom."""

    source: str
    source_id: str
    m5_id: str
    decision: str
    probability: float | None = None
    who: str = "system"
    note: str = ""
    model_version: str = ""


@dataclass(frozen=True)
class SignOff:
    """One recorded sign-off: who turned the reviewed set into links, when, and how many of each kind.

    ``counts`` holds, at the moment of sign-off: ``auto`` (proposals turned into links),
    ``confirmed``, ``manual``, ``rejected``, ``unsure``, ``unlinked`` (operator decisions standing),
    ``open_questions`` (questions nobody answered: no link, the sync queues those people) and
    ``withdrawn`` (proposals a conflict or a later answer removed).
    """

    id: int
    who: str
    at: str
    counts: dict[str, int]
    model_version: str = ""

    @property
    def links(self) -> int:
        """Links standing right after this sign-off."""
        return sum(self.counts.get(k, 0) for k in ("auto", "confirmed", "manual"))


class LinkStore:
    """An append-only decision log with the current link table as a view over it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as con:
                _create_or_migrate(con)
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
    def record(self, decisions: LinkDecision | Iterable[LinkDecision], *, at: _dt.datetime | None = None) -> int:
        """Append decisions in one transaction; returns how many rows were written.

        A link among them (auto, confirmed, manual) withdraws, in the same transaction, every
        standing proposal or question that the link rules out – the same person with another M5
        user, or the same M5 user with another person – with a note saying which link did it.
        Those withdrawals are counted in the result too.
        """
        if isinstance(decisions, LinkDecision):
            decisions = [decisions]
        stamp = _stamp(at)
        rows = [_row(d, stamp) for d in decisions]
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            _insert(con, rows)
            links = [r for r in rows if r[3] in LINK_DECISIONS]
            withdrawn = _conflict_withdrawals(_standing_near(con, links), links, stamp) if links else []
            _insert(con, withdrawn)
        return len(rows) + len(withdrawn)

    def propose(self, proposals: pd.DataFrame, *, model_version: str, who: str = "model",
                at: _dt.datetime | None = None) -> dict[str, int]:
        """Store the joint matching's proposals; returns counts of what was written.

        ``proposals`` has ``source, source_id, m5_id, probability, kind`` with ``kind`` ``proposed``
        (an auto-link waiting for sign-off) or ``question`` (an open question). An operator's
        decision always wins: a pair already decided is left alone (``kept``), and a proposal that
        an operator's link rules out is stored as ``withdrawn`` with the reason (nothing the model
        proposed vanishes). Standing proposals the model no longer makes are withdrawn too.
        """
        missing = {"source", "source_id", "m5_id", "probability", "kind"} - set(proposals.columns)
        if missing:
            raise InputError(f"proposals need the columns {', '.join(sorted(missing))}")
        bad = set(proposals["kind"].astype(str)) - {d.value for d in PROPOSAL_DECISIONS}
        if bad:
            raise InputError(f"unknown proposal kind {sorted(bad)[0]!r} (known: proposed, question)")
        stamp = _stamp(at)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            rows, counts = _proposal_rows(_latest(con), proposals, model_version, who, stamp)
            _insert(con, rows)
        return counts

    def signoff(self, who: str, *, at: _dt.datetime | None = None, model_version: str = "") -> SignOff:
        """Turn the reviewed set into links in one recorded step.

        Every standing ``proposed`` pair becomes an ``auto`` link; operator decisions stand as they
        are; open questions nobody answered are withdrawn with a note saying so (no link: the sync
        sends such a person to the review queue rather than create them). The sign-off itself – who, when, how many of each kind – is one row of
        its own, written in the same transaction.
        """
        stamp = _stamp(at)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            latest = _latest(con)
            if not latest:
                raise InputError(f"{self.path}: nothing to sign off – no proposals or decisions yet "
                                 "(run `passerlink links propose` first)")
            number = int(con.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM signoffs").fetchone()[0])
            rows = [
                (src, sid, mid, Decision.AUTO.value, prob, who, stamp, f"signed off (#{number})", version)
                for (src, sid, mid), (decision, prob, version, _note) in latest.items()
                if decision == Decision.PROPOSED
            ]
            left_open = [
                (src, sid, mid, Decision.WITHDRAWN.value, prob, who, stamp,
                 f"not answered at sign-off #{number}: no link; the sync sends the person to the review queue "
                 "if an unlinked M5 user may be them", version)
                for (src, sid, mid), (decision, prob, version, _note) in latest.items()
                if decision == Decision.QUESTION
            ]
            _insert(con, rows + left_open)
            counts = _signoff_counts(latest, len(rows))
            con.execute("INSERT INTO signoffs (id, who, at, counts, model_version, last_seq) VALUES (?,?,?,?,?,?)",
                        (number, who, stamp, json.dumps(counts, sort_keys=True), model_version,
                         int(con.execute("SELECT COALESCE(MAX(seq), 0) FROM decisions").fetchone()[0])))
        return SignOff(number, who, stamp, counts, model_version)

    def undo_last(self, who: str) -> LinkDecision | None:
        """Take back ``who``'s latest operator answer (not already undone); returns it.

        If the pair was a proposal or question before that answer, the proposal stands again; so
        do the proposals that answer withdrew (the same person with another M5 user, the same M5
        user with another person) and that nothing has decided since.
        """
        with self._connect() as con:
            rows = con.execute(
                "SELECT source, source_id, m5_id, decision, probability, seq FROM decisions"
                " WHERE who = ? ORDER BY seq DESC", (who,)
            ).fetchall()
        undone: set[tuple[str, str, str]] = set()
        for source, sid, mid, decision, prob, seq in rows:
            key = (source, sid, mid)
            if decision == Decision.UNDONE:
                undone.add(key)
                continue
            if key in undone:
                undone.discard(key)
                continue
            if decision in (Decision.CONFIRMED, Decision.REJECTED, Decision.UNSURE, Decision.MANUAL):
                again = [LinkDecision(source, sid, mid, Decision.UNDONE, prob, who, note=f"undo {decision}")]
                before = self._before(key, seq)
                if before is not None and before[0] in PROPOSAL_DECISIONS:
                    again.append(LinkDecision(source, sid, mid, before[0], before[1], "model",
                                              "stands again after an undo", before[2]))
                if decision in LINK_DECISIONS:
                    again += self._withdrawn_by(key, seq)
                self.record(again)
                return LinkDecision(source, sid, mid, decision, prob, who)
        return None

    def _withdrawn_by(self, link: tuple[str, str, str], seq: int) -> list[LinkDecision]:
        """The proposals the link answer at ``seq`` withdrew and nothing decided since, standing again."""
        src, sid, mid = link
        a, b = f"{src}:{sid} was linked to M5 user {mid} instead (", f"M5 user {mid} was linked to {src}:{sid} instead ("
        with self._connect() as con:
            rows = con.execute(
                "SELECT d.source, d.source_id, d.m5_id, d.seq FROM decisions d JOIN ("
                " SELECT MAX(seq) AS seq FROM decisions GROUP BY source, source_id, m5_id"
                ") last ON last.seq = d.seq WHERE d.decision = 'withdrawn' AND d.seq > ?"
                " AND (substr(d.note, 1, ?) = ? OR substr(d.note, 1, ?) = ?)",
                (seq, len(a), a, len(b), b),
            ).fetchall()
        out = []
        for s2, i2, m2, wseq in rows:
            before = self._before((s2, i2, m2), wseq)
            if before is not None and before[0] in PROPOSAL_DECISIONS:
                out.append(LinkDecision(s2, i2, m2, before[0], before[1], "model", "stands again after an undo",
                                        before[2]))
        return out

    def _before(self, key: tuple[str, str, str], seq: int) -> tuple[str, float | None, str] | None:
        with self._connect() as con:
            row = con.execute(
                "SELECT decision, probability, model_version FROM decisions WHERE source = ? AND source_id = ?"
                " AND m5_id = ? AND seq < ? ORDER BY seq DESC LIMIT 1", (*key, seq)
            ).fetchone()
        return None if row is None else (str(row[0]), row[1], str(row[2]))

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
        cur = cur[cur["decision"].isin([str(d) for d in decisions])]
        return cur[["source", "source_id", "m5_id", "decision", "probability", "who", "at"]].reset_index(drop=True)

    def proposals(self) -> pd.DataFrame:
        """Every pair the model ever proposed or asked about, with what became of it.

        Columns ``PROPOSAL_COLUMNS``: ``kind`` (proposed | question, the latest), ``probability``
        and ``model_version`` of that proposal, ``state`` (the pair's current decision: still a
        proposal, a link, rejected, withdrawn …), ``who`` decided it and ``why`` (the note of a
        withdrawal or an operator's answer).
        """
        hist = self.history()
        if hist.empty:
            return pd.DataFrame(columns=PROPOSAL_COLUMNS)
        key = ["source", "source_id", "m5_id"]
        prop = hist[hist["decision"].isin([d.value for d in PROPOSAL_DECISIONS])].groupby(key, sort=False).last()
        last = hist.groupby(key, sort=False).last()
        last = last.loc[prop.index]
        return pd.DataFrame({
            "kind": prop["decision"], "probability": prop["probability"], "model_version": prop["model_version"],
            "proposed_at": prop["at"], "state": last["decision"], "who": last["who"],
            "why": [n if d not in PROPOSAL_DECISIONS else "" for d, n in zip(last["decision"], last["note"],
                                                                             strict=True)],
        }).reset_index()[PROPOSAL_COLUMNS]

    def signoffs(self) -> list[SignOff]:
        """Every sign-off, oldest first."""
        with self._connect() as con:
            rows = con.execute("SELECT id, who, at, counts, model_version FROM signoffs ORDER BY id").fetchall()
        return [SignOff(int(i), str(w), str(a), {k: int(v) for k, v in json.loads(c).items()}, str(m))
                for i, w, a, c, m in rows]

    def last_signoff(self) -> SignOff | None:
        """The latest sign-off, or None before the first."""
        all_ = self.signoffs()
        return all_[-1] if all_ else None

    def count(self) -> int:
        with self._connect() as con:
            return int(con.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])


# ---- why a proposal went: the notes the store writes, read back -------------------------------
#: The notes the store itself writes (withdrawals, sign-off, undo), as patterns with named values.
#: The wording is kept stable: pages translate a note by its reason, never by its English text.
NOTE_REASONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("conflict_other_m5", re.compile(r"^(?P<person>\S+:\S+) was linked to M5 user (?P<m5_id>\S+) instead "
                                     r"\((?P<decision>\w+) by (?P<who>.*)\)$")),
    ("conflict_other_person", re.compile(r"^M5 user (?P<m5_id>\S+) was linked to (?P<person>\S+:\S+) instead "
                                         r"\((?P<decision>\w+) by (?P<who>.*)\)$")),
    ("already_person", re.compile(r"^(?P<person>\S+:\S+) is already linked to M5 user (?P<m5_id>\S+)$")),
    ("already_m5", re.compile(r"^M5 user (?P<m5_id>\S+) is already linked to (?P<person>\S+:\S+)$")),
    ("no_longer_proposed", re.compile(r"^no longer proposed by model (?P<model>.*)$")),
    ("open_at_signoff", re.compile(r"^not answered at sign-off #(?P<signoff>\d+): ")),
    ("signed_off", re.compile(r"^signed off \(#(?P<signoff>\d+)\)$")),
    ("stands_again", re.compile(r"^stands again after an undo$")),
)


def reason_of_note(note: str) -> tuple[str, dict[str, str]]:
    """(reason, values) of a note the store wrote, e.g. ``("conflict_other_person", {"m5_id": "10",
    "person": "hr:2", "decision": "confirmed", "who": "anna"})``; ``("", {})`` for any other note
    (an operator's own words)."""
    for reason, pattern in NOTE_REASONS:
        m = pattern.match(note or "")
        if m:
            return reason, m.groupdict()
    return "", {}


# ---- the SQL edges and the pure rules between them ------------------------------------------
_Row = tuple[str, str, str, str, float | None, str, str, str, str]
_Latest = dict[tuple[str, str, str], tuple[str, float | None, str, str]]


def _stamp(at: _dt.datetime | None) -> str:
    return (at or _dt.datetime.now(_dt.UTC)).isoformat(timespec="microseconds")


def _row(d: LinkDecision, stamp: str) -> _Row:
    try:
        kind = Decision(str(d.decision))
    except ValueError:
        known = ", ".join(x.value for x in Decision)
        raise InputError(f"unknown link decision {d.decision!r} (known: {known})") from None
    return (str(d.source), str(d.source_id), str(d.m5_id), kind.value,
            None if d.probability is None else float(d.probability), d.who, stamp, d.note, d.model_version)


def _insert(con: sqlite3.Connection, rows: Iterable[_Row]) -> None:
    con.executemany(
        "INSERT INTO decisions (source, source_id, m5_id, decision, probability, who, at, note, model_version)"
        " VALUES (?,?,?,?,?,?,?,?,?)",
        list(rows),
    )


def _latest(con: sqlite3.Connection) -> _Latest:
    """(source, source_id, m5_id) -> (decision, probability, model_version, note) of its latest row."""
    rows = con.execute(
        "SELECT d.source, d.source_id, d.m5_id, d.decision, d.probability, d.model_version, d.note"
        " FROM decisions d JOIN (SELECT MAX(seq) AS seq FROM decisions GROUP BY source, source_id, m5_id)"
        " last ON last.seq = d.seq WHERE d.decision != 'undone'"
    ).fetchall()
    return {(s, i, m): (d, p, v, n) for s, i, m, d, p, v, n in rows}


def _standing(con: sqlite3.Connection, kinds: Iterable[str]) -> _Latest:
    wanted = {str(k) for k in kinds}
    return {k: v for k, v in _latest(con).items() if v[0] in wanted}


#: Up to this many links, the proposals they may rule out are read pair by pair (an operator's answer:
#: a few indexed reads instead of the whole store); above it the whole latest state is read once.
_NEAR_LINKS = 64

_LATEST_WHERE = (
    "SELECT d.source, d.source_id, d.m5_id, d.decision, d.probability, d.model_version, d.note"
    " FROM decisions d JOIN (SELECT MAX(seq) AS seq FROM decisions WHERE {where}"
    " GROUP BY source, source_id, m5_id) last ON last.seq = d.seq WHERE d.decision != 'undone'"
)


def _standing_near(con: sqlite3.Connection, links: list[_Row]) -> _Latest:
    """The standing proposals that share a person or an M5 user with these links: all that the
    links can rule out. An answer is one link, so this keeps an answer's write independent of
    the size of the store."""
    if len(links) > _NEAR_LINKS:
        return _standing(con, PROPOSAL_DECISIONS)
    wanted = {d.value for d in PROPOSAL_DECISIONS}
    rows: list[tuple[str, str, str, str, float | None, str, str]] = []
    for src, sid in {(r[0], r[1]) for r in links}:
        rows += con.execute(_LATEST_WHERE.format(where="source = ? AND source_id = ?"), (src, sid)).fetchall()
    for mid in {r[2] for r in links}:
        rows += con.execute(_LATEST_WHERE.format(where="m5_id = ?"), (mid,)).fetchall()
    return {(s, i, m): (d, p, v, n) for s, i, m, d, p, v, n in rows if d in wanted}


def _conflict_withdrawals(standing: _Latest, links: list[_Row], stamp: str) -> list[_Row]:
    """Withdrawal rows for the standing proposals that these new links rule out."""
    by_person: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    by_user: dict[str, list[tuple[str, str, str]]] = {}
    for key in standing:
        by_person.setdefault((key[0], key[1]), []).append(key)
        by_user.setdefault(key[2], []).append(key)
    out: dict[tuple[str, str, str], _Row] = {}
    linked_pairs = {(r[0], r[1], r[2]) for r in links}
    for src, sid, mid, decision, _prob, who, *_rest in links:
        for key in by_person.get((src, sid), []):
            if key[2] != mid and key not in linked_pairs and key not in out:
                prob, version = standing[key][1], standing[key][2]
                out[key] = (*key, Decision.WITHDRAWN.value, prob, who, stamp,
                            f"{src}:{sid} was linked to M5 user {mid} instead ({decision} by {who})", version)
        for key in by_user.get(mid, []):
            if (key[0], key[1]) != (src, sid) and key not in linked_pairs and key not in out:
                prob, version = standing[key][1], standing[key][2]
                out[key] = (*key, Decision.WITHDRAWN.value, prob, who, stamp,
                            f"M5 user {mid} was linked to {src}:{sid} instead ({decision} by {who})", version)
    return list(out.values())


def _proposal_rows(latest: _Latest, proposals: pd.DataFrame, model_version: str, who: str,
                   stamp: str) -> tuple[list[_Row], dict[str, int]]:
    """The rows that store a new set of proposals over the current state, and their counts."""
    linked_person: dict[tuple[str, str], str] = {}
    linked_user: dict[str, tuple[str, str]] = {}
    for (src, sid, mid), (decision, *_x) in latest.items():
        if decision in LINK_DECISIONS:
            linked_person[(src, sid)] = mid
            linked_user[mid] = (src, sid)
    rows: list[_Row] = []
    counts = {"proposed": 0, "question": 0, "kept": 0, "unchanged": 0, "withdrawn": 0}
    seen: set[tuple[str, str, str]] = set()
    for src, sid, mid, prob, kind in zip(proposals["source"].astype(str), proposals["source_id"].astype(str),
                                         proposals["m5_id"].astype(str), proposals["probability"],
                                         proposals["kind"].astype(str), strict=True):
        key = (src, sid, mid)
        seen.add(key)
        p = None if pd.isna(prob) else round(float(prob), 6)
        before = latest.get(key)
        if before is not None and before[0] not in PROPOSAL_DECISIONS and before[0] != Decision.WITHDRAWN:
            counts["kept"] += 1  # an operator (or an earlier sign-off) decided this pair: that wins
            continue
        why = _ruled_out(key, linked_person, linked_user)
        if why:
            if before is None or before[0] != Decision.WITHDRAWN:
                rows.append((*key, Decision.WITHDRAWN.value, p, who, stamp, why, model_version))
                counts["withdrawn"] += 1
            continue
        if before is not None and before[0] == kind and before[2] == model_version and before[1] == p:
            counts["unchanged"] += 1
            continue
        rows.append((*key, kind, p, who, stamp, "", model_version))
        counts[kind] += 1
    for key, (decision, prob, version, _note) in latest.items():
        if decision in PROPOSAL_DECISIONS and key not in seen:
            rows.append((*key, Decision.WITHDRAWN.value, prob, who, stamp,
                         f"no longer proposed by model {model_version or '(unnamed)'}", version))
            counts["withdrawn"] += 1
    return rows, counts


def _ruled_out(key: tuple[str, str, str], linked_person: dict[tuple[str, str], str],
               linked_user: dict[str, tuple[str, str]]) -> str:
    src, sid, mid = key
    other = linked_person.get((src, sid))
    if other is not None and other != mid:
        return f"{src}:{sid} is already linked to M5 user {other}"
    holder = linked_user.get(mid)
    if holder is not None and holder != (src, sid):
        return f"M5 user {mid} is already linked to {holder[0]}:{holder[1]}"
    return ""


def _signoff_counts(latest: _Latest, signed: int) -> dict[str, int]:
    counts = {"auto": signed, "confirmed": 0, "manual": 0, "rejected": 0, "unsure": 0, "unlinked": 0,
              "open_questions": 0, "withdrawn": 0}
    names = {Decision.AUTO: "auto", Decision.CONFIRMED: "confirmed", Decision.MANUAL: "manual",
             Decision.REJECTED: "rejected", Decision.UNSURE: "unsure", Decision.UNLINKED: "unlinked",
             Decision.QUESTION: "open_questions", Decision.WITHDRAWN: "withdrawn"}
    for decision, *_x in latest.values():
        name = names.get(Decision(decision))
        if name is not None:
            counts[name] += 1
    return counts


def _create_or_migrate(con: sqlite3.Connection) -> None:
    """Create the tables, or widen an older store's decision check to today's decisions.

    SQLite cannot alter a CHECK constraint, so an older store's rows are copied into a new table
    of the same name, in one transaction; the append-only triggers are recreated after the copy.
    """
    row = con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'decisions'").fetchone()
    if row is not None and f"'{Decision.WITHDRAWN.value}'" not in row[0]:
        con.execute("BEGIN IMMEDIATE")
        con.execute("DROP TRIGGER IF EXISTS decisions_no_update")
        con.execute("DROP TRIGGER IF EXISTS decisions_no_delete")
        con.execute("DROP INDEX IF EXISTS decisions_pair")
        con.execute("ALTER TABLE decisions RENAME TO decisions_before_proposals")
        con.execute(_TABLE)
        con.execute(f"INSERT INTO decisions ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)}"
                    " FROM decisions_before_proposals ORDER BY seq")
        con.execute("DROP TABLE decisions_before_proposals")
        con.commit()
    con.executescript(_TABLE + _REST)
