"""Desired state: what each register person's M5 user should look like, per the sync policy.

Pure: register tables and the link table in, ``DesiredState`` out. A person found in several
registers (linked to the same M5 user, or sharing a valid personnummer) becomes one desired user
whose fields come from the winning register; people with protected identity get only the fields
the access system needs (see ``SyncPolicy.protected_fields``).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from passerlink.people import PeopleTable
from passerlink.policy import AccessRule, SyncPolicy

__all__ = ["PersonKey", "DesiredUser", "DesiredState", "build_desired", "parse_register_date"]

#: ``(source, source_id)`` of one register row.
PersonKey = tuple[str, str]

_DIGITS = re.compile(r"\D+")
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y")


@dataclass(frozen=True)
class DesiredUser:
    """One M5 user as the registers want it. ``fields`` holds M5 field -> value ("" = empty),
    including ``department`` and ``usergroup`` by name and ``startdate``/``enddate`` as ISO
    dates; a field absent from ``fields`` is not managed for this user."""

    key: PersonKey
    keys: tuple[PersonKey, ...]
    fields: Mapping[str, str]
    accessgroups: frozenset[str] = frozenset()
    protected: bool = False
    label: str = ""

    def marker_keys(self) -> set[PersonKey]:
        return set(self.keys)


@dataclass(frozen=True)
class RegisterIssue:
    """A value the engine could not use (e.g. an unreadable date): reported, the field left as is."""

    key: PersonKey
    column: str
    problem: str


@dataclass
class DesiredState:
    users: list[DesiredUser]
    source_counts: dict[str, int]
    managed_accessgroups: frozenset[str] = frozenset()
    issues: list[RegisterIssue] = field(default_factory=list)

    def by_key(self) -> dict[PersonKey, DesiredUser]:
        return {k: u for u in self.users for k in u.keys}


@lru_cache(maxsize=65536)
def parse_register_date(text: str) -> str:
    """ISO date of a register's date cell; "" for empty; ValueError for anything else."""
    text = text.strip()
    if not text:
        return ""
    head = text[:10] if re.match(r"^\d{4}-\d{2}-\d{2}([ T].*)?$", text) else text
    for fmt in _DATE_FORMATS:
        try:
            return _dt.datetime.strptime(head, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date")


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if v is pd.NaT:
        return ""
    if isinstance(v, _dt.datetime | pd.Timestamp):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v).strip()


def _employee_digits(text: str) -> str:
    digits = _DIGITS.sub("", text)
    return str(int(digits)) if digits else ""


def _first_name(row: Mapping[str, str]) -> str:
    call = row.get("call_name", "")
    if call:
        return call
    given = row.get("given_names", "").split()
    return given[0] if given else ""


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[PersonKey, PersonKey] = {}

    def find(self, k: PersonKey) -> PersonKey:
        p = self.parent.setdefault(k, k)
        while p != self.parent[p]:
            self.parent[p] = self.parent[self.parent[p]]
            p = self.parent[p]
        self.parent[k] = p
        return p

    def union(self, a: PersonKey, b: PersonKey) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _rows(table: PeopleTable) -> Iterable[tuple[dict[str, str], dict[str, str]]]:
    people = table.people
    extra = table.extra if table.extra is not None else pd.DataFrame()
    ppl = people.to_dict("records")
    if len(extra) == len(people) and len(extra.columns):
        ext = extra.to_dict("records")
    else:
        ext = [{} for _ in ppl]
    for p, e in zip(ppl, ext, strict=True):
        # canonical tables hold str already (people.py); convert only what is not
        yield ({k: v.strip() if isinstance(v, str) else _cell(v) for k, v in p.items()},
               {str(k): v.strip() if isinstance(v, str) else _cell(v) for k, v in e.items()})


@dataclass(frozen=True)
class _Rules:
    """What ``build_desired`` derives from the policy once, for every person."""

    policy: SyncPolicy
    rank: Mapping[str, int]
    groups_by_source: Mapping[str, str]
    access: tuple[tuple[AccessRule, re.Pattern[str] | None, re.Pattern[str] | None], ...]
    unprotected: frozenset[str]


def _rules(tables: Mapping[str, PeopleTable], policy: SyncPolicy, source_order: Sequence[str] | None,
           user_groups: Mapping[str, str | None] | None) -> _Rules:
    order = [s for s in policy.winner if s in tables] + [
        s for s in (source_order or sorted(tables)) if s not in policy.winner
    ]
    order += [s for s in sorted(tables) if s not in order]
    access = tuple(
        (r, re.compile(r.role, re.I) if r.role else None, re.compile(r.org_unit, re.I) if r.org_unit else None)
        for r in policy.access_rules
    )
    return _Rules(
        policy=policy,
        rank={s: i for i, s in enumerate(order)},
        groups_by_source={**policy.user_groups, **{k: v for k, v in (user_groups or {}).items() if v}},
        access=access,
        unprotected=frozenset(v.strip().casefold() for v in policy.unprotected_values),
    )


_Row = tuple[dict[str, str], dict[str, str]]


def _read_rows(tables: Mapping[str, PeopleTable], rules: _Rules) -> tuple[dict[PersonKey, _Row], dict[str, int]]:
    """Every register row once, by key, in winner order; and the number of rows per source."""
    rows: dict[PersonKey, _Row] = {}
    counts: dict[str, int] = {}
    for source in sorted(tables, key=lambda s: rules.rank[s]):
        table = tables[source]
        counts[source] = len(table)
        for person, extra in _rows(table):
            sid = person.get("source_id", "")
            if sid:
                rows[(source, sid)] = (person, extra)
    return rows, counts


class _Grouping:
    """One person, one M5 user: rows grouped by link and by personnummer (never two rows of one
    register; never two groups linked to different M5 users)."""

    def __init__(self, rows: Mapping[PersonKey, _Row]) -> None:
        self.uf = _UnionFind()
        for k in rows:
            self.uf.find(k)
        self.sources_of: dict[PersonKey, set[str]] = {k: {k[0]} for k in rows}

    def join(self, a: PersonKey, b: PersonKey) -> bool:
        ra, rb = self.uf.find(a), self.uf.find(b)
        if ra == rb or self.sources_of[ra] & self.sources_of[rb]:
            return False
        self.uf.union(ra, rb)
        self.sources_of[self.uf.find(ra)] = self.sources_of[ra] | self.sources_of[rb]
        return True


def _join_linked(g: _Grouping, rows: Mapping[PersonKey, _Row], m5_of: Mapping[PersonKey, str]
                 ) -> dict[PersonKey, set[str]]:
    """Join rows linked to the same M5 user; returns group root -> its linked M5 users."""
    first_by_m5: dict[str, PersonKey] = {}
    for k in rows:
        mid = m5_of.get(k)
        if mid is None:
            continue
        if mid in first_by_m5:
            g.join(first_by_m5[mid], k)
        else:
            first_by_m5[mid] = k
    group_m5: dict[PersonKey, set[str]] = {}
    for k in rows:
        if k in m5_of:
            group_m5.setdefault(g.uf.find(k), set()).add(m5_of[k])
    return group_m5


def _join_by_personnummer(g: _Grouping, rows: Mapping[PersonKey, _Row], group_m5: dict[PersonKey, set[str]]) -> None:
    """Join rows with the same valid personnummer, unless linked to two different M5 users."""
    first_by_pnr: dict[str, PersonKey] = {}
    for k, (person, _) in rows.items():
        pnr = _DIGITS.sub("", person.get("personnummer", ""))
        if len(pnr) != 12:
            continue
        ra, rb = g.uf.find(first_by_pnr.setdefault(pnr, k)), g.uf.find(k)
        if ra == rb:
            continue
        ma, mb = group_m5.get(ra, set()), group_m5.get(rb, set())
        if ma and mb and ma != mb:
            continue  # linked to two different M5 users: keep apart
        if g.join(ra, rb):
            group_m5[g.uf.find(ra)] = ma | mb


def _group(rows: Mapping[PersonKey, _Row], links: pd.DataFrame | None) -> list[list[PersonKey]]:
    """The register rows of each person."""
    g = _Grouping(rows)
    m5_of: dict[PersonKey, str] = {}
    if links is not None and len(links):
        m5_of = {(str(s), str(sid)): str(mid)
                 for s, sid, mid in zip(links["source"], links["source_id"], links["m5_id"], strict=True)}
    _join_by_personnummer(g, rows, _join_linked(g, rows, m5_of))
    members: dict[PersonKey, list[PersonKey]] = {}
    for k in rows:
        members.setdefault(g.uf.find(k), []).append(k)
    return list(members.values())


def _field_value(expr: str, person: Mapping[str, str], extra: Mapping[str, str]) -> str | None:
    """The value ``expr`` (see ``FIELD_EXPRESSIONS``) gives; None when the register lacks the column."""
    if expr == "first_name":
        return _first_name(person)
    if expr == "employee_digits":
        return _employee_digits(person.get("employee_number", ""))
    if expr.startswith("extra:"):
        return extra.get(expr[6:])
    return person.get(expr, "")


def _fields(winner: PersonKey, person: Mapping[str, str], extra: Mapping[str, str], protected: bool,
            rules: _Rules, issues: list[RegisterIssue]) -> dict[str, str]:
    policy = rules.policy
    fields: dict[str, str] = {}
    for m5_field, expr in policy.fields.items():
        if protected and m5_field not in policy.protected_fields:
            fields[m5_field] = ""
            continue
        value = _field_value(expr, person, extra)
        if value is not None:
            fields[m5_field] = value  # a column the register does not have is not managed here
    unit = person.get("org_unit", "")
    if protected:
        fields["department"] = policy.protected_department
    else:
        fields["department"] = policy.departments.get(unit, unit) if unit else ""
    group = rules.groups_by_source.get(winner[0])
    if group:
        fields["usergroup"] = group
    cols = policy.dates.get(winner[0])
    if cols is not None:
        for m5_field, col in (("startdate", cols.start), ("enddate", cols.end)):
            if col is None or col not in extra:
                continue
            try:
                fields[m5_field] = parse_register_date(extra[col])
            except ValueError as exc:
                issues.append(RegisterIssue(winner, col, str(exc)))
    return fields


def _granted(keys: Sequence[PersonKey], rows: Mapping[PersonKey, _Row], rules: _Rules) -> frozenset[str]:
    """The access groups the access rules give to any of the person's rows."""
    granted: set[str] = set()
    for k in keys:
        p, e = rows[k]
        role_col = rules.policy.role_columns.get(k[0])
        role = e.get(role_col, "") if role_col else ""
        for rule, role_re, unit_re in rules.access:
            if rule.source is not None and rule.source != k[0]:
                continue
            if role_re is not None and not role_re.fullmatch(role):
                continue
            if unit_re is not None and not unit_re.fullmatch(p.get("org_unit", "")):
                continue
            granted.add(rule.accessgroup)
    return frozenset(granted)


def _desired_user(keys: list[PersonKey], rows: Mapping[PersonKey, _Row], rules: _Rules,
                  issues: list[RegisterIssue]) -> DesiredUser:
    keys.sort(key=lambda k: (rules.rank[k[0]], k[1]))
    winner = keys[0]
    person, extra = rows[winner]
    protected = any(
        rows[k][1].get(col, "").strip().casefold() not in rules.unprotected
        for k in keys
        for col in rules.policy.protected_columns
        if col in rows[k][1]
    )
    if protected:
        label = f"Skyddad identitet ({winner[0]}:{winner[1]})"
    else:
        name = " ".join(x for x in (_first_name(person), person.get("family_name", "")) if x)
        label = f"{name} ({winner[0]}:{winner[1]})"
    return DesiredUser(
        key=winner,
        keys=tuple(keys),
        fields=_fields(winner, person, extra, protected, rules, issues),
        accessgroups=_granted(keys, rows, rules),
        protected=protected,
        label=label,
    )


def build_desired(
    tables: Mapping[str, PeopleTable],
    links: pd.DataFrame | None,
    policy: SyncPolicy,
    *,
    source_order: Sequence[str] | None = None,
    user_groups: Mapping[str, str | None] | None = None,
) -> DesiredState:
    """Desired M5 users for every register row.

    ``links`` has columns ``source, source_id, m5_id`` (the link store's current links);
    ``source_order`` is the order of sources in the config (ties broken by ``policy.winner``
    first); ``user_groups`` are the sources' own ``user_group`` settings.
    """
    rules = _rules(tables, policy, source_order, user_groups)
    rows, counts = _read_rows(tables, rules)
    issues: list[RegisterIssue] = []
    users = [_desired_user(keys, rows, rules, issues) for keys in _group(rows, links)]
    users.sort(key=lambda u: u.key)
    managed = frozenset(r.accessgroup for r in policy.access_rules)
    return DesiredState(users=users, source_counts=counts, managed_accessgroups=managed, issues=issues)
