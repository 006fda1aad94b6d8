"""The simulator's M5 person database: users, cards, departments, user groups, access groups.

One SQLite file in WAL mode, one connection guarded by a lock (the HTTP layer may call from
several threads). Every write stamps ``changedby``/``changeddate`` with the logged-in user and a
fresh ``rastamp``, written compactly as the real API does
(``/20150923121107/reception/20130301111639/admin``); a row's rastamp moves forward by at least a
second on every write, so two writes of one row never share one. Problems are raised as ``SimError`` carrying the HTTP
status and the M5 error body, so the HTTP layer only translates.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from passerlink.m5sim.fields import (
    CARD_KINDS,
    CARD_READONLY,
    CARD_WRITABLE,
    ERR,
    STAMPS,
    USER_KINDS,
    USER_READONLY,
    USER_WRITABLE,
    SimError,
    check_fields,
    column_sql,
    compact_stamp,
)
from passerlink.m5sim.fields import invalid as _invalid

__all__ = [
    "SimError",
    "Store",
    "USER_WRITABLE",
    "USER_READONLY",
    "CARD_WRITABLE",
    "parse_filter",
    "ERR",
]

_USER_COLUMNS = ("id", *USER_WRITABLE, *STAMPS)
_USER_DEFAULTS: dict[str, Any] = {k: "" if kind in ("str", "date") else None for k, kind in USER_KINDS.items()}
_USER_DEFAULTS.update(status=1, type=0)
_CARD_COLUMNS = ("id", *CARD_WRITABLE, *STAMPS)
_CARD_DEFAULTS: dict[str, Any] = {k: "" if kind in ("str", "date") else None for k, kind in CARD_KINDS.items()}
_CARD_DEFAULTS.update(type=0, pinblocked=False, isblocked=False, inherituseraccess=True)
_CARD_BOOL = tuple(k for k, kind in CARD_KINDS.items() if kind == "bool")
_USER_BOOL = tuple(k for k, kind in USER_KINDS.items() if kind == "bool")
#: access-group fields beyond the columns, with the value a group without them shows.
_AG_MORE: dict[str, Any] = {"numbertype": 0, "timecode": None, "timecodetype": None, "alarmon": "", "alarmoff": "",
                            "elsassigned": False, "userassigned": False, "functionassigned": False,
                            "pincodeassigned": False, "rasystem": 1, "bookobjects": False, "apidooraccess": False}
_STAMP_COLS = ", ".join(f"{c} TEXT NOT NULL DEFAULT ''" for c in STAMPS)

# AUTOINCREMENT: an id is never given again after a delete (as in M5)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS departments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, departmentname TEXT NOT NULL, departmentdata TEXT NOT NULL DEFAULT '',
    rastamp TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS usergroups (
    id INTEGER PRIMARY KEY AUTOINCREMENT, groupname TEXT NOT NULL, groupdata TEXT NOT NULL DEFAULT '',
    rastamp TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS accessgroups (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, blocked INTEGER NOT NULL DEFAULT 0,
    startdate TEXT NOT NULL DEFAULT '', enddate TEXT NOT NULL DEFAULT '', timeperiod TEXT NOT NULL DEFAULT '{{}}',
    more TEXT NOT NULL DEFAULT '{{}}', {_STAMP_COLS});
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    {", ".join(column_sql(k, kind) for k, kind in USER_KINDS.items())},
    {_STAMP_COLS});
CREATE TABLE IF NOT EXISTS cards (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    {", ".join(column_sql(k, kind) for k, kind in CARD_KINDS.items())},
    {_STAMP_COLS});
CREATE INDEX IF NOT EXISTS cards_user ON cards (fkusernumber);
CREATE TABLE IF NOT EXISTS user_accessgroups (
    user_id INTEGER NOT NULL, accessgroup_id INTEGER NOT NULL, PRIMARY KEY (user_id, accessgroup_id));
CREATE TABLE IF NOT EXISTS card_accessgroups (
    card_id INTEGER NOT NULL, accessgroup_id INTEGER NOT NULL, PRIMARY KEY (card_id, accessgroup_id));
"""
_TABLES = ("user_accessgroups", "card_accessgroups", "cards", "users", "accessgroups", "usergroups", "departments")


def _casefold(value: Any) -> str | None:
    return None if value is None else str(value).casefold()


def parse_filter(text: str) -> list[tuple[str, str]]:
    """``firstname:'anna'¤lastname:'berg'`` -> ``[("firstname", "anna"), ("lastname", "berg")]``.

    Values may be quoted with ``'`` (``''`` inside a quoted value is one quote) or bare.
    """
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        colon = text.find(":", i)
        if colon < 0:
            raise _invalid(f"filter condition {text[i:]!r} has no ':'", "filter")
        field = text[i:colon].strip().lower()
        j = colon + 1
        if j < n and text[j] == "'":
            j += 1
            buf = []
            while True:
                if j >= n:
                    raise _invalid(f"filter value for {field!r} has no closing quote", "filter")
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        buf.append("'")
                        j += 2
                        continue
                    j += 1
                    break
                buf.append(text[j])
                j += 1
            value = "".join(buf)
            if j < n and text[j] != "¤":
                raise _invalid(f"filter condition for {field!r} has text after its quoted value", "filter")
        else:
            end = text.find("¤", j)
            end = n if end < 0 else end
            value = text[j:end].strip()
            j = end
        if not field:
            raise _invalid("filter condition without a field name", "filter")
        out.append((field, value))
        i = j + 1 if j < n else n
    return out


def _rowid(cur: sqlite3.Cursor) -> int:
    """The id SQLite gave the row just inserted."""
    if cur.lastrowid is None:  # pragma: no cover - an INSERT always sets it
        raise RuntimeError("SQLite gave no row id")
    return int(cur.lastrowid)


def _timeperiod(value: Any) -> dict[str, Any]:
    """An access group's ``timeperiod`` as the real API has it: ``{periods[], lock, color}``.

    A seed may give a name ("Kontorstid 07-18"): it becomes the one period's name."""
    out: dict[str, Any] = {"periods": [], "lock": False, "color": ""}
    if isinstance(value, Mapping):
        out.update({k: value[k] for k in out if k in value})
    elif value:
        out["periods"] = [{"name": str(value)}]
    return out


class Store:
    """The simulated M5 database in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=OFF")
        self._conn.create_function("casefold", 1, _casefold, deterministic=True)
        self._conn.executescript(_SCHEMA)
        self._last_stamp = ""

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _now(self) -> str:
        """A local timestamp strictly later than every earlier one (rastamps never repeat)."""
        now = _dt.datetime.now().replace(tzinfo=None)
        stamp = now.isoformat(timespec="microseconds")
        if stamp <= self._last_stamp:
            last = _dt.datetime.fromisoformat(self._last_stamp)
            stamp = (last + _dt.timedelta(microseconds=1)).isoformat(timespec="microseconds")
        self._last_stamp = stamp
        return stamp

    @staticmethod
    def _rastamp(changed: str, changedby: str, created: str, createdby: str, after: str = "") -> str:
        """``/changed/changedBy/created/createdBy`` in compact stamps; ``after`` (the row's rastamp
        until now) is passed by, so a row's rastamps never repeat within one second."""
        stamp = compact_stamp(changed)
        before = after.split("/")[1] if after.count("/") >= 4 else ""
        if before and stamp <= before:
            try:
                stamp = (_dt.datetime.strptime(before, "%Y%m%d%H%M%S") + _dt.timedelta(seconds=1)).strftime(
                    "%Y%m%d%H%M%S")
            except ValueError:
                stamp = before + "1"
        return f"/{stamp}/{changedby}/{compact_stamp(created)}/{createdby}"

    def is_empty(self) -> bool:
        with self._lock:
            for table in _TABLES:
                if self._conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                    return False
            return True

    def reset(self, seed: Mapping[str, Any] | None = None) -> None:
        """Forget everything (and load ``seed`` if given)."""
        with self._tx() as c:
            for table in _TABLES:
                c.execute(f"DELETE FROM {table}")
            c.execute("DELETE FROM sqlite_sequence")
        if seed:
            self.load_seed(seed)

    # ------------------------------------------------------------------ seed
    def load_seed(self, seed: Mapping[str, Any]) -> dict[str, int]:
        """Load a seed world; users keep their ids and their created/changed stamps.

        Shape: ``{"departments", "usergroups", "accessgroups", "users", "cards"}`` (all optional).
        A user names its department by ``fkdepartment`` or by ``department`` (a name, created
        when missing), its user group likewise (``fkusergroup`` / ``usergroup``), and may list
        ``accessgroups`` by id or name. Raises ValueError naming the bad entry.
        """
        if not isinstance(seed, Mapping):
            raise ValueError("the seed is not a JSON object")
        unknown = set(seed) - {"departments", "usergroups", "accessgroups", "users", "cards"}
        if unknown:
            raise ValueError(f"the seed has unknown section {sorted(unknown)[0]!r}")
        counts: dict[str, int] = {}
        with self._tx() as c:
            stamp = self._now()
            dept_ids = self._seed_named(c, seed.get("departments", []), "departments", "departmentname",
                                        "departmentdata", stamp)
            group_ids = self._seed_named(c, seed.get("usergroups", []), "usergroups", "groupname", "groupdata",
                                         stamp)
            ag_ids: dict[str, int] = {}
            for n, ag in enumerate(seed.get("accessgroups", [])):
                if isinstance(ag, str):
                    ag = {"name": ag}
                if not isinstance(ag, Mapping) or not ag.get("name"):
                    raise ValueError(f"seed accessgroups[{n}] has no name")
                more = {k: ag[k] for k in _AG_MORE if k in ag}
                rastamp = self._rastamp(stamp, "admin", stamp, "admin")
                cur = c.execute(
                    "INSERT INTO accessgroups (id, name, blocked, startdate, enddate, timeperiod, more, refguid, "
                    "rastamp, createdby, createddate, changedby, changeddate) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (ag.get("id"), ag["name"], int(bool(ag.get("blocked", 0))), ag.get("startdate", "") or "",
                     ag.get("enddate", "") or "", json.dumps(_timeperiod(ag.get("timeperiod"))), json.dumps(more),
                     str(uuid.uuid4()), rastamp, "admin", stamp, "admin", stamp),
                )
                ag_ids[str(ag["name"]).casefold()] = _rowid(cur)
            counts["accessgroups"] = len(ag_ids)
            counts["departments"], counts["usergroups"] = len(dept_ids), len(group_ids)
            users = seed.get("users", [])
            for n, raw in enumerate(users):
                self._seed_user(c, n, raw, dept_ids, group_ids, ag_ids, stamp)
            counts["users"] = len(users)
            cards = seed.get("cards", [])
            for n, raw in enumerate(cards):
                self._seed_card(c, n, raw, stamp)
            counts["cards"] = len(cards)
            counts["departments"] = c.execute("SELECT count(*) FROM departments").fetchone()[0]
            counts["usergroups"] = c.execute("SELECT count(*) FROM usergroups").fetchone()[0]
        return counts

    def _seed_named(self, c: sqlite3.Connection, items: Sequence[Any], table: str, name_col: str,
                    data_col: str, stamp: str) -> dict[str, int]:
        ids: dict[str, int] = {}
        for n, item in enumerate(items):
            if isinstance(item, str):
                item = {name_col: item}
            if not isinstance(item, Mapping) or not item.get(name_col):
                raise ValueError(f"seed {table}[{n}] has no {name_col}")
            rastamp = self._rastamp(stamp, "admin", stamp, "admin")
            cur = c.execute(
                f"INSERT INTO {table} (id, {name_col}, {data_col}, rastamp) VALUES (?,?,?,?)",
                (item.get("id"), item[name_col], item.get(data_col, "") or "", rastamp),
            )
            ids[str(item[name_col]).casefold()] = _rowid(cur)
        return ids

    def _named_id(self, c: sqlite3.Connection, table: str, name_col: str, name: str, ids: dict[str, int],
                  stamp: str) -> int:
        key = name.casefold()
        if key not in ids:
            cur = c.execute(
                f"INSERT INTO {table} ({name_col}, rastamp) VALUES (?, ?)",
                (name, self._rastamp(stamp, "admin", stamp, "admin")),
            )
            ids[key] = _rowid(cur)
        return ids[key]

    def _seed_user(self, c: sqlite3.Connection, n: int, raw: Any, dept_ids: dict[str, int],
                   group_ids: dict[str, int], ag_ids: dict[str, int], stamp: str) -> None:
        where = f"seed users[{n}]"
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where} is not an object")
        raw = dict(raw)
        dept = raw.pop("department", None)
        group = raw.pop("usergroup", None)
        ags = raw.pop("accessgroups", None) or []
        raw.pop("cards", None)
        if isinstance(dept, Mapping):
            dept = dept.get("departmentname")
        if isinstance(group, Mapping):
            group = group.get("groupname")
        if dept and raw.get("fkdepartment") is None:
            raw["fkdepartment"] = self._named_id(c, "departments", "departmentname", str(dept), dept_ids, stamp)
        if group and raw.get("fkusergroup") is None:
            raw["fkusergroup"] = self._named_id(c, "usergroups", "groupname", str(group), group_ids, stamp)
        kept = {k: raw.pop(k) for k in ("id", "createdby", "createddate", "changedby", "changeddate", "refguid")
                if k in raw}
        raw.pop("rastamp", None)
        try:
            fields = self._check_user_fields(c, raw, creating=True)
        except SimError as exc:
            raise ValueError(f"{where}: {exc.friendly}") from None
        try:
            uid = self._insert_stamped(c, "users", {**_USER_DEFAULTS, **fields}, "admin", kept=kept, now=stamp)
        except sqlite3.IntegrityError:
            raise ValueError(f"{where}: id {kept.get('id')} is used twice") from None
        for ag in ags:
            if isinstance(ag, Mapping):
                ag = ag.get("id", ag.get("name"))
            ag_id = ag if isinstance(ag, int) else ag_ids.get(str(ag).casefold())
            if ag_id is None or not c.execute("SELECT 1 FROM accessgroups WHERE id=?", (ag_id,)).fetchone():
                raise ValueError(f"{where}: access group {ag!r} is not in the seed")
            c.execute("INSERT OR IGNORE INTO user_accessgroups VALUES (?, ?)", (uid, ag_id))

    def _seed_card(self, c: sqlite3.Connection, n: int, raw: Any, stamp: str) -> None:
        where = f"seed cards[{n}]"
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where} is not an object")
        raw = dict(raw)
        kept = {k: raw.pop(k) for k in ("id", "createdby", "createddate", "changedby", "changeddate", "refguid")
                if k in raw}
        raw.pop("rastamp", None)
        try:
            fields = self._check_card_fields(c, raw, creating=True)
        except SimError as exc:
            raise ValueError(f"{where}: {exc.friendly}") from None
        self._insert_stamped(c, "cards", {**_CARD_DEFAULTS, **fields}, "admin", kept=kept, now=stamp)

    # ------------------------------------------------------------------ validation
    def _check_user_fields(self, c: sqlite3.Connection, fields: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        out = check_fields("user", fields, USER_KINDS, USER_READONLY)
        for key, table, what in (("fkdepartment", "departments", "department"), ("fkusergroup", "usergroups",
                                                                                  "user group")):
            if out.get(key) is not None and not c.execute(f"SELECT 1 FROM {table} WHERE id=?", (out[key],)).fetchone():
                raise _invalid(f"{what} {out[key]} does not exist")
        for key in ("firstname", "lastname"):
            if (creating or key in out) and not str(out.get(key) or "").strip():
                raise _invalid(f"user field '{key}' is required")
        return out

    def _check_card_fields(self, c: sqlite3.Connection, fields: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        out = check_fields("card", fields, CARD_KINDS, CARD_READONLY)
        for key in ("pinblocked", "isblocked", "inherituseraccess"):
            if key in out and out[key] is None:
                raise _invalid(f"card field '{key}' must be true or false")
        if creating and out.get("fkusernumber") is None:
            raise _invalid("card field 'fkusernumber' is required")
        if "fkusernumber" in out and not c.execute(
            "SELECT 1 FROM users WHERE id=?", (out["fkusernumber"],)
        ).fetchone():
            raise _invalid(f"user {out['fkusernumber']} does not exist")
        if out.get("fkaccessgroup") is not None:
            self._need(c, "accessgroups", "access group", out["fkaccessgroup"])
        return out

    # ------------------------------------------------------------------ reading
    def _user_rows(self, c: sqlite3.Connection, where: str, params: Sequence[Any], offset: int = 0,
                   limit: int | None = None) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM users {where} ORDER BY id"
        args = list(params)
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            args += [-1 if limit is None else limit, offset]
        rows = [self._user_out(dict(r)) for r in c.execute(sql, args)]
        return self._expand_users(c, rows)

    @staticmethod
    def _user_out(row: dict[str, Any]) -> dict[str, Any]:
        for key in _USER_BOOL:
            row[key] = None if row[key] is None else bool(row[key])
        return row

    def _expand_users(self, c: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not rows:
            return rows
        ids = [r["id"] for r in rows]
        marks = ",".join("?" * len(ids))
        cards: dict[int, list[dict[str, Any]]] = {}
        for card in c.execute(f"SELECT * FROM cards WHERE fkusernumber IN ({marks}) ORDER BY id", ids):
            cards.setdefault(card["fkusernumber"], []).append(self._card_out(dict(card)))
        ags = {r["id"]: self._ag_out(dict(r)) for r in c.execute("SELECT * FROM accessgroups")}
        member: dict[int, list[dict[str, Any]]] = {}
        for m in c.execute(
            f"SELECT user_id, accessgroup_id FROM user_accessgroups WHERE user_id IN ({marks}) ORDER BY accessgroup_id",
            ids,
        ):
            if m[1] in ags:
                member.setdefault(m[0], []).append(ags[m[1]])
        depts = {r["id"]: dict(r) for r in c.execute("SELECT * FROM departments")}
        groups = {r["id"]: dict(r) for r in c.execute("SELECT * FROM usergroups")}
        for r in rows:
            r["cards"] = cards.get(r["id"], [])
            r["department"] = depts.get(r["fkdepartment"])
            r["usergroup"] = groups.get(r["fkusergroup"])
            r["accessgroups"] = member.get(r["id"], [])
            r["floor"] = None
        return rows

    @staticmethod
    def _card_out(row: dict[str, Any]) -> dict[str, Any]:
        for key in _CARD_BOOL:
            row[key] = None if row[key] is None else bool(row[key])
        end = str(row.get("enddate") or "")[:10]
        row["expired"] = bool(end) and end < _dt.date.today().isoformat()
        return row

    @staticmethod
    def _ag_out(row: dict[str, Any]) -> dict[str, Any]:
        more = json.loads(row.pop("more", None) or "{}")
        row["timeperiod"] = _timeperiod(json.loads(row["timeperiod"] or "null"))
        return {**row, **_AG_MORE, **more}

    @staticmethod
    def _filter_sql(conditions: Sequence[tuple[str, str]], columns: Sequence[str], what: str) -> tuple[str, list[Any]]:
        parts, args = [], []
        for field, value in conditions:
            if field not in columns:
                raise _invalid(f"cannot filter on {field!r}: not a {what} field", "filter")
            parts.append(f"casefold({field}) = ?")
            args.append(value.casefold())
        return ("WHERE " + " AND ".join(parts) if parts else ""), args

    def list_users(self, conditions: Sequence[tuple[str, str]] = (), *, offset: int = 0, limit: int | None = 500,
                   count: bool = False) -> tuple[list[dict[str, Any]], int | None]:
        """Users matching every ``(field, value)`` (case-insensitive), ``limit`` None for all."""
        where, args = self._filter_sql(conditions, _USER_COLUMNS, "user")
        with self._lock:
            users = self._user_rows(self._conn, where, args, offset, limit)
            total = self._conn.execute(f"SELECT count(*) FROM users {where}", args).fetchone()[0] if count else None
        return users, total

    def get_user(self, user_id: int) -> dict[str, Any]:
        with self._lock:
            rows = self._user_rows(self._conn, "WHERE id = ?", [user_id])
        if not rows:
            raise SimError(404, "not_found", f"user {user_id} does not exist")
        return rows[0]

    # ------------------------------------------------------------------ writing users
    def create_user(self, fields: Mapping[str, Any], by: str) -> dict[str, Any]:
        with self._tx() as c:
            checked = self._check_user_fields(c, fields, creating=True)
            uid = self._insert_stamped(c, "users", {**_USER_DEFAULTS, **checked}, by)
        return self.get_user(uid)

    def update_user(self, user_id: int, fields: Mapping[str, Any], rastamp: str | None, by: str) -> dict[str, Any]:
        with self._tx() as c:
            cur = self._current_stamp(c, "users", "user", user_id, rastamp)
            checked = self._check_user_fields(c, fields, creating=False)
            self._update_stamped(c, "users", user_id, checked, cur, by)
        return self.get_user(user_id)

    def _insert_stamped(self, c: sqlite3.Connection, table: str, row: dict[str, Any], by: str, *,
                        kept: Mapping[str, Any] | None = None, now: str | None = None) -> int:
        """Insert a user or card with its created/changed stamps and rastamp; returns its id.

        ``kept`` carries a seed's own id and stamps, so seeded manual records look hand-made.
        """
        kept = kept or {}
        now = now or self._now()
        createdby = str(kept.get("createdby") or by)
        created = str(kept.get("createddate") or now)
        changedby = str(kept.get("changedby") or createdby)
        changed = str(kept.get("changeddate") or created)
        row = {**row, "id": kept.get("id"), "refguid": kept.get("refguid") or str(uuid.uuid4()),
               "createdby": createdby, "createddate": created, "changedby": changedby, "changeddate": changed,
               "rastamp": self._rastamp(changed, changedby, created, createdby)}
        cols = list(row)
        cur = c.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        [row[k] for k in cols])
        return _rowid(cur)

    def _current_stamp(self, c: sqlite3.Connection, table: str, what: str, ident: int,
                       rastamp: str | None) -> sqlite3.Row:
        """The row's stamps, after checking the caller's rastamp is the current one (optimistic lock)."""
        cur = c.execute(f"SELECT rastamp, createddate, createdby FROM {table} WHERE id=?", (ident,)).fetchone()
        if cur is None:
            raise SimError(404, "not_found", f"{what} {ident} does not exist")
        if not rastamp:
            raise SimError(409, "no_rastamp", f"updating {what} {ident} needs its current rastamp")
        if rastamp != cur["rastamp"]:
            raise SimError(409, "stale", f"{what} {ident} was changed by someone else (stale rastamp)",
                           f"sent rastamp {rastamp!r}, current is {cur['rastamp']!r}")
        return cur

    def _update_stamped(self, c: sqlite3.Connection, table: str, ident: int, fields: dict[str, Any],
                        cur: sqlite3.Row | Mapping[str, Any], by: str) -> None:
        now = self._now()
        fields.update(changedby=by, changeddate=now,
                      rastamp=self._rastamp(now, by, cur["createddate"], cur["createdby"], cur["rastamp"]))
        c.execute(f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?", [*fields.values(), ident])

    def delete_user(self, user_id: int) -> None:
        with self._tx() as c:
            if c.execute("DELETE FROM users WHERE id=?", (user_id,)).rowcount == 0:
                raise SimError(404, "not_found", f"user {user_id} does not exist")
            c.execute("DELETE FROM card_accessgroups WHERE card_id IN (SELECT id FROM cards WHERE fkusernumber=?)",
                      (user_id,))
            c.execute("DELETE FROM cards WHERE fkusernumber=?", (user_id,))
            c.execute("DELETE FROM user_accessgroups WHERE user_id=?", (user_id,))

    def _need(self, c: sqlite3.Connection, table: str, what: str, ident: int) -> None:
        if not c.execute(f"SELECT 1 FROM {table} WHERE id=?", (ident,)).fetchone():
            raise SimError(404, "not_found", f"{what} {ident} does not exist")

    def add_membership(self, user_id: int, accessgroup_id: int) -> None:
        with self._tx() as c:
            self._need(c, "users", "user", user_id)
            self._need(c, "accessgroups", "access group", accessgroup_id)
            c.execute("INSERT OR IGNORE INTO user_accessgroups VALUES (?, ?)", (user_id, accessgroup_id))

    def remove_membership(self, user_id: int, accessgroup_id: int) -> None:
        with self._tx() as c:
            self._need(c, "users", "user", user_id)
            self._need(c, "accessgroups", "access group", accessgroup_id)
            if c.execute("DELETE FROM user_accessgroups WHERE user_id=? AND accessgroup_id=?",
                         (user_id, accessgroup_id)).rowcount == 0:
                raise SimError(404, "not_found", f"user {user_id} is not in access group {accessgroup_id}")

    # ------------------------------------------------------------------ cards
    def list_cards(self, conditions: Sequence[tuple[str, str]] = (), *, offset: int = 0, limit: int | None = 500,
                   count: bool = False, include: Sequence[str] = ()) -> tuple[list[dict[str, Any]], int | None]:
        """Cards matching every ``(field, value)``, with the relations named in ``include``."""
        where, args = self._filter_sql(conditions, _CARD_COLUMNS, "card")
        with self._lock:
            rows = [self._card_out(dict(r)) for r in self._conn.execute(
                f"SELECT * FROM cards {where} ORDER BY id LIMIT ? OFFSET ?",
                [*args, -1 if limit is None else limit, offset])]
            total = self._conn.execute(f"SELECT count(*) FROM cards {where}", args).fetchone()[0] if count else None
            self._card_relations(self._conn, rows, include)
        return rows, total

    def _card_relations(self, c: sqlite3.Connection, rows: list[dict[str, Any]], include: Sequence[str]) -> None:
        ags = {r["id"]: self._ag_out(dict(r)) for r in c.execute("SELECT * FROM accessgroups")} \
            if "accessgroups" in include else {}
        for card in rows:
            if "user" in include:
                u = c.execute("SELECT id, firstname, lastname FROM users WHERE id=?", (card["fkusernumber"],)).fetchone()
                card["user"] = dict(u) if u else None
            if "accessgroups" in include:
                card["accessgroups"] = [ags[r[0]] for r in c.execute(
                    "SELECT accessgroup_id FROM card_accessgroups WHERE card_id=? ORDER BY accessgroup_id",
                    (card["id"],)) if r[0] in ags]
            for key in ("readeraccess", "accessalarms"):
                if key in include:
                    card[key] = []

    def get_card(self, card_id: int, include: Sequence[str] = ()) -> dict[str, Any]:
        with self._lock:
            row = self._conn.execute("SELECT * FROM cards WHERE id=?", (card_id,)).fetchone()
            if row is None:
                raise SimError(404, "not_found", f"card {card_id} does not exist")
            card = self._card_out(dict(row))
            self._card_relations(self._conn, [card], include)
        return card

    def add_card_membership(self, card_id: int, accessgroup_id: int) -> None:
        with self._tx() as c:
            self._need(c, "cards", "card", card_id)
            self._need(c, "accessgroups", "access group", accessgroup_id)
            c.execute("INSERT OR IGNORE INTO card_accessgroups VALUES (?, ?)", (card_id, accessgroup_id))

    def remove_card_membership(self, card_id: int, accessgroup_id: int) -> None:
        with self._tx() as c:
            self._need(c, "cards", "card", card_id)
            self._need(c, "accessgroups", "access group", accessgroup_id)
            if c.execute("DELETE FROM card_accessgroups WHERE card_id=? AND accessgroup_id=?",
                         (card_id, accessgroup_id)).rowcount == 0:
                raise SimError(404, "not_found", f"card {card_id} is not in access group {accessgroup_id}")

    def create_card(self, fields: Mapping[str, Any], by: str) -> dict[str, Any]:
        with self._tx() as c:
            checked = self._check_card_fields(c, fields, creating=True)
            cid = self._insert_stamped(c, "cards", {**_CARD_DEFAULTS, **checked}, by)
        return self.get_card(cid)

    def update_card(self, card_id: int, fields: Mapping[str, Any], rastamp: str | None, by: str) -> dict[str, Any]:
        with self._tx() as c:
            cur = self._current_stamp(c, "cards", "card", card_id, rastamp)
            checked = self._check_card_fields(c, fields, creating=False)
            self._update_stamped(c, "cards", card_id, checked, cur, by)
        return self.get_card(card_id)

    def delete_card(self, card_id: int) -> None:
        with self._tx() as c:
            if c.execute("DELETE FROM cards WHERE id=?", (card_id,)).rowcount == 0:
                raise SimError(404, "not_found", f"card {card_id} does not exist")
            c.execute("DELETE FROM card_accessgroups WHERE card_id=?", (card_id,))

    def block_cards(self, card_ids: Sequence[int], by: str) -> int:
        """Block every card (all or nothing: an unknown id blocks none)."""
        with self._tx() as c:
            rows = []
            for cid in card_ids:
                cur = c.execute("SELECT rastamp, createddate, createdby FROM cards WHERE id=?", (cid,)).fetchone()
                if cur is None:
                    raise SimError(404, "not_found", f"card {cid} does not exist")
                rows.append((cid, cur))
            for cid, cur in rows:
                self._update_stamped(c, "cards", cid, {"isblocked": True}, cur, by)
        return len(rows)

    # ------------------------------------------------------------------ departments, groups
    def list_departments(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._conn.execute("SELECT * FROM departments ORDER BY id")]

    def list_usergroups(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._conn.execute("SELECT * FROM usergroups ORDER BY id")]

    def list_accessgroups(self, include: Sequence[str] = ()) -> list[dict[str, Any]]:
        with self._lock:
            rows = [self._ag_out(dict(r)) for r in self._conn.execute("SELECT * FROM accessgroups ORDER BY id")]
            for ag in rows:
                self._ag_relations(self._conn, ag, include)
        return rows

    def get_accessgroup(self, accessgroup_id: int, include: Sequence[str] = ()) -> dict[str, Any]:
        with self._lock:
            row = self._conn.execute("SELECT * FROM accessgroups WHERE id=?", (accessgroup_id,)).fetchone()
            if row is None:
                raise SimError(404, "not_found", f"access group {accessgroup_id} does not exist")
            ag = self._ag_out(dict(row))
            self._ag_relations(self._conn, ag, include)
        return ag

    @staticmethod
    def _ag_relations(c: sqlite3.Connection, ag: dict[str, Any], include: Sequence[str]) -> None:
        if "users" in include:
            ag["users"] = [dict(r) for r in c.execute(
                "SELECT u.id, u.firstname, u.lastname FROM users u JOIN user_accessgroups m ON m.user_id = u.id "
                "WHERE m.accessgroup_id = ? ORDER BY u.id", (ag["id"],))]
        if "cards" in include:
            ag["cards"] = [dict(r) for r in c.execute(
                "SELECT k.id, k.fkusernumber, k.name FROM cards k JOIN card_accessgroups m ON m.card_id = k.id "
                "WHERE m.accessgroup_id = ? ORDER BY k.id", (ag["id"],))]
        for key in ("units", "machinegroups", "functions"):
            if key in include:
                ag[key] = []

    def _create_named(self, table: str, name_col: str, data_col: str, what: str, name: str, data: str,
                      by: str) -> dict[str, Any]:
        if not isinstance(name, str) or not name.strip():
            raise _invalid(f"{what} field '{name_col}' is required")
        if len(name) > 255 or len(data) > 4000:
            raise _invalid(f"{what} name or data is too long")
        with self._tx() as c:
            if c.execute(f"SELECT 1 FROM {table} WHERE casefold({name_col}) = ?", (name.casefold(),)).fetchone():
                raise _invalid(f"{what} {name!r} already exists", "duplicate")
            now = self._now()
            cur = c.execute(f"INSERT INTO {table} ({name_col}, {data_col}, rastamp) VALUES (?,?,?)",
                            (name, data, self._rastamp(now, by, now, by)))
            new_id = _rowid(cur)
            return dict(c.execute(f"SELECT * FROM {table} WHERE id=?", (new_id,)).fetchone())

    def create_department(self, name: str, data: str, by: str) -> dict[str, Any]:
        return self._create_named("departments", "departmentname", "departmentdata", "department", name, data, by)

    def create_usergroup(self, name: str, data: str, by: str) -> dict[str, Any]:
        return self._create_named("usergroups", "groupname", "groupdata", "user group", name, data, by)
