"""The simulated M5's field sets, taken from the published models, and their validation.

Each writable field has a kind (text, date, whole number, true/false, number) read off the
pydantic model that documents it, so the OpenAPI document, the SQLite columns and the checks
of a write cannot drift apart. Unknown fields are refused by name, read-only ones as read-only.
"""

from __future__ import annotations

import datetime as _dt
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel

from passerlink.m5sim import models as m

__all__ = ["Kind", "kinds_of", "USER_KINDS", "CARD_KINDS", "USER_WRITABLE", "CARD_WRITABLE", "USER_READONLY",
           "CARD_READONLY", "STAMPS", "SimError", "ERR", "invalid", "check_fields", "column_sql", "compact_stamp"]

Kind = Literal["str", "date", "int", "bool", "float"]

#: errorcode of each kind of problem (the simulator's own numbering; the real M5 has its own).
ERR = {
    "invalid": 4000, "readonly": 4001, "unknown_field": 4002, "duplicate": 4003, "filter": 4004,
    "no_token": 4010, "token_expired": 4011, "login": 4012, "not_found": 4040, "stale": 4090,
    "no_rastamp": 4091, "rate": 4290, "internal": 5000, "timeout": 5040,
}

_UINT_MAX = 2**32 - 1
_MAX_LEN = {"message": 4000}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?$")
_DATES = frozenset({"startdate", "enddate"})
#: whole-number fields that may not be emptied.
_REQUIRED_INT = frozenset({"status", "type", "fkusernumber"})


class SimError(Exception):
    """A request the simulated M5 refuses: HTTP status plus the M5 error body."""

    def __init__(self, status: int, kind: str, friendly: str, developer: str = "") -> None:
        super().__init__(friendly)
        self.status = status
        self.kind = kind
        self.friendly = friendly
        self.developer = developer or friendly

    def body(self) -> dict[str, Any]:
        return {"errorcode": ERR[self.kind], "friendlymessage": self.friendly, "developermessage": self.developer,
                "moreinfo": "", "reject": 1}


def invalid(msg: str, kind: str = "invalid") -> SimError:
    return SimError(400, kind, msg)


def _kind(name: str, annotation: object) -> Kind:
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    args = set(typing.get_args(annotation)) if union else {annotation}
    args.discard(type(None))
    base = next(iter(args)) if len(args) == 1 else str
    if typing.get_origin(base) is Annotated:
        base = typing.get_args(base)[0]
    if base is bool:
        return "bool"
    if base is int:
        return "int"
    if base is float:
        return "float"
    return "date" if name in _DATES else "str"


def kinds_of(model: type[BaseModel], skip: frozenset[str] = frozenset()) -> dict[str, Kind]:
    """Field name -> kind, for every field of a model (in the model's order)."""
    return {n: _kind(n, f.annotation) for n, f in model.model_fields.items() if n not in skip}


USER_KINDS = kinds_of(m.UserCreate)
CARD_KINDS = kinds_of(m.CardCreate)
USER_WRITABLE = tuple(USER_KINDS)
CARD_WRITABLE = tuple(CARD_KINDS)
STAMPS = ("rastamp", "refguid", "createdby", "createddate", "changedby", "changeddate")
USER_READONLY = ("id", *STAMPS, "cards", "department", "usergroup", "accessgroups", "floor")
CARD_READONLY = ("id", *STAMPS, "expired", "user", "accessgroups", "readeraccess", "accessalarms")


def column_sql(name: str, kind: Kind) -> str:
    """The SQLite column of a field: text is never NULL, the rest may be."""
    return f"{name} TEXT NOT NULL DEFAULT ''" if kind in ("str", "date") else \
        f"{name} {'REAL' if kind == 'float' else 'INTEGER'}"


def _check_text(what: str, key: str, kind: Kind, value: object) -> object:
    value = "" if value is None else value
    if not isinstance(value, str):
        raise invalid(f"{what} field '{key}' must be text")
    if len(value) > _MAX_LEN.get(key, 255):
        raise invalid(f"{what} field '{key}' is longer than {_MAX_LEN.get(key, 255)} characters")
    if kind == "date" and value and not _DATE.match(value):
        raise invalid(f"{what} field '{key}' is not a date (YYYY-MM-DD): {value!r}")
    return value


def _check_int(what: str, key: str, kind: Kind, value: object) -> object:
    if value is None:
        if key in _REQUIRED_INT:
            raise invalid(f"{what} field '{key}' cannot be empty")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{what} field '{key}' must be a whole number")
    if not 0 <= value <= _UINT_MAX:
        raise invalid(f"{what} field '{key}' must be between 0 and {_UINT_MAX}")
    return value


def _check_bool(what: str, key: str, kind: Kind, value: object) -> object:
    if value is not None and not isinstance(value, bool):
        raise invalid(f"{what} field '{key}' must be true or false")
    return value


def _check_float(what: str, key: str, kind: Kind, value: object) -> object:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise invalid(f"{what} field '{key}' must be a number")
    return value


_CHECKS: dict[Kind, Callable[[str, str, Kind, object], object]] = {
    "str": _check_text, "date": _check_text, "int": _check_int, "bool": _check_bool, "float": _check_float}


def check_fields(what: str, fields: Mapping[str, object], kinds: Mapping[str, Kind], readonly: tuple[str, ...]
                 ) -> dict[str, Any]:
    """The fields of a write, checked one by one: read-only, unknown, of the wrong kind -> SimError."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key in readonly:
            raise invalid(f"{what} field '{key}' is read-only", "readonly")
        kind = kinds.get(key)
        if kind is None:
            raise invalid(f"'{key}' is not a {what} field", "unknown_field")
        out[key] = _CHECKS[kind](what, key, kind, value)
    return out


def compact_stamp(stamp: str) -> str:
    """An ISO timestamp as the real API writes it in a rastamp: ``20150923121107``."""
    try:
        return _dt.datetime.fromisoformat(stamp).strftime("%Y%m%d%H%M%S")
    except ValueError:
        digits = "".join(ch for ch in stamp if ch.isdigit())
        return (digits + "0" * 14)[:14]
