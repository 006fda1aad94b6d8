"""Current state: the M5 users as the plan compares them (every scalar field as text).

M5 answers with integers, nulls, ISO timestamps and expanded objects; the plan compares text, so
this module is the one place that knows how an M5 value reads as text (and, in ``m5_value``,
how a text goes back into an M5 value).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from passerlink.m5 import USER_RELATIONS, M5AssumptionError

__all__ = ["CurrentUser", "CurrentState", "current_from_m5", "m5_text", "m5_value", "INT_FIELDS"]

#: M5 user fields that hold unsigned integers (text "" <-> null).
INT_FIELDS = frozenset({"employmentnumber", "fkdepartment", "fkusergroup", "status", "type"})
_DATE_FIELDS = frozenset({"startdate", "enddate"})
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_EXPANDED = ("cards", "department", "usergroup", "accessgroups")


def m5_text(field_name: str, value: Any) -> str:
    """How an M5 value reads as text for comparison."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if field_name in _DATE_FIELDS:
        m = _MIDNIGHT.match(text)
        if m:
            return m.group(1)
    return text


def m5_value(field_name: str, text: str) -> Any:
    """The M5 value to send for a text: integers for integer fields ("" -> null), else text."""
    if field_name in INT_FIELDS:
        return int(text) if text != "" else None
    return text


@dataclass(frozen=True)
class CurrentUser:
    """One M5 user; ``fields`` includes ``department`` and ``usergroup`` by name."""

    id: str
    rastamp: str
    fields: Mapping[str, str]
    accessgroups: frozenset[str] = frozenset()
    cards: tuple[tuple[str, bool], ...] = ()  # (card id, is blocked)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


@dataclass
class CurrentState:
    """Everything the plan needs to know about M5."""

    users: dict[str, CurrentUser]
    marker_field: str = "apireference"
    departments: dict[str, str] = field(default_factory=dict)  # casefolded name -> id
    usergroups: dict[str, str] = field(default_factory=dict)  # casefolded name -> id
    accessgroups: dict[str, str] = field(default_factory=dict)  # casefolded name -> id


def _name(obj: Any, key: str) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get(key) or "")
    return "" if obj is None else str(obj)


def user_from_m5(raw: Mapping[str, Any], dept_names: Mapping[str, str], group_names: Mapping[str, str]) -> CurrentUser:
    """One M5 user dict as a ``CurrentUser`` (ids of departments/groups resolved to names).

    A user without its ``cards`` or ``accessgroups`` is not a user without cards: the plan would
    never block a leaver's cards. ``M5Client.list_users`` asks again with ``include=``; should one
    still arrive without them, this stops the run (``M5AssumptionError``) before any write."""
    for relation in USER_RELATIONS:
        if not isinstance(raw.get(relation), list):
            raise M5AssumptionError(
                f"M5 user {raw.get('id')} came without its {relation!r}: they are unknown, not none, "
                "so the sync stops before writing (passerlink m5 check says which [m5] include to set)")
    fields = {k: m5_text(k, v) for k, v in raw.items() if k not in _EXPANDED}
    dept = _name(raw.get("department"), "departmentname") or dept_names.get(fields.get("fkdepartment", ""), "")
    group = _name(raw.get("usergroup"), "groupname") or group_names.get(fields.get("fkusergroup", ""), "")
    fields["department"] = dept
    fields["usergroup"] = group
    ags = frozenset(_name(a, "name") for a in raw["accessgroups"] if _name(a, "name"))
    cards = tuple((str(c.get("id")), bool(c.get("isblocked"))) for c in raw["cards"] if isinstance(c, Mapping))
    return CurrentUser(
        id=fields.get("id", ""), rastamp=fields.get("rastamp", ""), fields=fields, accessgroups=ags, cards=cards,
        raw=raw,
    )


def current_from_m5(
    users: Iterable[Mapping[str, Any]],
    *,
    departments: Iterable[Mapping[str, Any]] = (),
    usergroups: Iterable[Mapping[str, Any]] = (),
    accessgroups: Iterable[Mapping[str, Any]] = (),
    marker_field: str = "apireference",
) -> CurrentState:
    """Build the current state from the Admin API's lists."""
    depts = {str(d.get("id")): str(d.get("departmentname") or "") for d in departments}
    groups = {str(g.get("id")): str(g.get("groupname") or "") for g in usergroups}
    out: dict[str, CurrentUser] = {}
    for raw in users:
        u = user_from_m5(raw, depts, groups)
        out[u.id] = u
    return CurrentState(
        users=out,
        marker_field=marker_field,
        departments={n.casefold(): i for i, n in depts.items() if n},
        usergroups={n.casefold(): i for i, n in groups.items() if n},
        accessgroups={str(a.get("name") or "").casefold(): str(a.get("id")) for a in accessgroups if a.get("name")},
    )
