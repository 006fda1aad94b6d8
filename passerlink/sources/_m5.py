"""RCard M5 users as people, so they can be matched against the registers.

Which M5 field holds what is site-specific (``[m5] columns`` in the config: personnummer is
often typed into a custom field); the M5 user id is always the source id. The expanded
``department`` is either an object with ``departmentname`` or already a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import pandas as pd

from passerlink.errors import SourceError
from passerlink.people import PeopleTable, RowIssue
from passerlink.sources._canonical import canonicalize
from passerlink.sources._text import cell_text

__all__ = ["read_m5", "UsersClient", "CREATED_FIELD"]

#: The M5 user field that says when the user was created (read-only in the Admin API).
CREATED_FIELD = "createddate"


class UsersClient(Protocol):
    """What ``read_m5`` needs of ``passerlink.m5.M5Client``."""

    def list_users(self) -> list[dict[str, Any]]: ...


def _department(value: Any) -> str:
    if isinstance(value, dict):
        return cell_text(value.get("departmentname") or value.get("name"))
    return cell_text(value)


def _flat(user: dict[str, Any]) -> dict[str, str]:
    row: dict[str, str] = {}
    for key, value in user.items():
        if key == "department":
            row[key] = _department(value)
        elif isinstance(value, dict | list):
            continue  # cards, accessgroups, usergroup: not person data
        else:
            row[key] = cell_text(value)
    row.setdefault("department", "")
    return row


def read_m5(
    client: UsersClient, columns: Mapping[str, str], source: str = "m5", *, origin: str = "M5"
) -> PeopleTable:
    """Every M5 user as a canonical row (``source_id`` = M5 user id).

    ``columns`` maps M5 user fields to canonical fields (``M5Config.columns``); fields that no
    user carries are simply empty. Other scalar fields go to ``extra``. M5's own read-only
    ``createddate`` is read as ``created`` whatever the site's columns say (unless they map
    another field there): the day a user was created is no site choice, and a user created
    before a pupil was old enough for school is not that pupil.
    """
    users = client.list_users()
    if not users:
        raise SourceError(f"{origin} returned no users")
    flat = [_flat(u) for u in users if isinstance(u, dict)]
    keys = list(dict.fromkeys(k for row in flat for k in row))
    frame = pd.DataFrame([[row.get(k, "") for k in keys] for row in flat], columns=keys, dtype=object)
    if "id" not in frame.columns:
        raise SourceError(f"{origin} answered users without an 'id'")
    mapping = {k: v for k, v in columns.items() if k != "id"}
    if CREATED_FIELD in frame.columns and "created" not in mapping.values():
        mapping[CREATED_FIELD] = "created"
    for field in mapping:
        if field not in frame.columns:
            frame[field] = ""
    table = canonicalize(
        frame,
        source=source,
        id_column="id",
        mapping=mapping,
        origin=origin,
        row_numbers=range(1, len(frame) + 1),
        recognise=False,
    )
    # row numbers mean nothing in M5: name the user instead
    ids = frame["id"].tolist()
    table.issues = [
        RowIssue(i.row, i.column, f"{i.problem} (M5 user {ids[i.row - 1]})") for i in table.issues
    ]
    table.people.attrs["id_from"] = "M5 user id"
    table.people.attrs["read_as"] = f"M5 Admin API, {len(frame)} users"
    return table
