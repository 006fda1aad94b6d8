"""Which of an SS 12000 person's enrolments, duties and e-mails the sync should see (pure).

A person in SS 12000 carries history: enrolments that ended years ago, a cancelled one, the
next school year's already registered, a private e-mail beside the school's. The access system
needs the one that holds today, so every choice here is by date and by type, never by list
position:

* **current**: not cancelled, ``startDate <= today <= endDate`` (an open end is allowed); with
  several, the latest start. Without a current one, the earliest future start (a pupil who
  starts next term is a future start for the sync); otherwise none (a former pupil).
* **e-mail**: the role's school type first (``Skola elev`` / ``Skola personal``), then the other
  non-private types in the server's order; ``Privat`` only if the config allows it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Span",
    "current_span",
    "pick_email",
    "is_protected",
    "is_leaver",
    "PRIVATE_EMAIL",
    "PROTECTED_MARKING",
    "CONFIDENTIAL_MARKING",
    "LEAVER_STATUSES",
]

Role = Literal["pupil", "staff"]
JSONObject = Mapping[str, object]

PRIVATE_EMAIL = "Privat"
PROTECTED_MARKING = "Skyddad folkbokföring"
NO_MARKING = "Ingen"
CONFIDENTIAL_MARKING = "Sekretessmarkering"
#: ``personStatus`` values that end a person: they stay in the register only as history.
LEAVER_STATUSES = frozenset({"Avliden", "Utvandrad"})
_SCHOOL_EMAIL: dict[Role, str] = {"pupil": "Skola elev", "staff": "Skola personal"}


@dataclass(frozen=True)
class Span:
    """The chosen enrolment or duty: the raw object, its dates, and whether it has begun."""

    item: JSONObject
    start: _dt.date | None
    end: _dt.date | None
    future: bool


def _date(value: object) -> _dt.date | None:
    """An RFC 3339 date (a date-time's date part is accepted); None if absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return _dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def current_span(items: Sequence[object], today: _dt.date) -> Span | None:
    """The enrolment (or duty) that holds ``today``, else the next to begin, else None.

    An item whose ``startDate`` is missing or unreadable counts as begun long ago; a
    ``cancelled`` item never counts.
    """
    spans: list[Span] = []
    for item in items:
        if not isinstance(item, Mapping) or item.get("cancelled") is True:
            continue
        start, end = _date(item.get("startDate")), _date(item.get("endDate"))
        if end is not None and end < today:
            continue
        spans.append(Span(item=item, start=start, end=end, future=start is not None and start > today))
    current = [s for s in spans if not s.future]
    if current:
        return max(current, key=lambda s: s.start or _dt.date.min)
    future = [s for s in spans if s.future]
    return min(future, key=lambda s: s.start or _dt.date.max) if future else None


def pick_email(emails: Sequence[object], role: Role, *, private_ok: bool = False) -> str:
    """The school's address for ``role``; other non-private ones next; ``Privat`` only if allowed."""
    typed = [
        (str(e.get("type") or ""), str(e.get("value") or "").strip())
        for e in emails
        if isinstance(e, Mapping) and str(e.get("value") or "").strip()
    ]
    preferred = _SCHOOL_EMAIL[role]
    for wanted in (lambda t: t == preferred, lambda t: t != PRIVATE_EMAIL):
        for kind, value in typed:
            if wanted(kind):
                return value
    if private_ok:
        return next((value for kind, value in typed if kind == PRIVATE_EMAIL), "")
    return ""


def is_protected(marking: object, *, confidential_protects: bool = True) -> bool:
    """Skyddad folkbokföring always; Sekretessmarkering unless the config says "ordinary"; a
    marking the standard does not know is taken as protected (the safe side)."""
    if marking is None or marking in ("", NO_MARKING):
        return False
    if marking == CONFIDENTIAL_MARKING:
        return confidential_protects
    return True


def is_leaver(status: object) -> bool:
    """``personStatus`` Avliden or Utvandrad: the person is to be ended, whatever their enrolment."""
    return status in LEAVER_STATUSES
