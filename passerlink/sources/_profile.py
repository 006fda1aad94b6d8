"""What a read source looks like at a glance: row count, gaps, problems. For the CLI and workbench."""

from __future__ import annotations

from typing import Any

from passerlink.people import PERSON_FIELDS, PeopleTable
from passerlink.sources._canonical import ID_FROM_ATTR, INVALID_PERSONNUMMER

__all__ = ["profile", "describe"]


def profile(table: PeopleTable) -> dict[str, Any]:
    """Rows, share of empty values per field, invalid personnummer, repeated ids, issue count.

    Holds no personal data, so it can be logged and shown as it is.
    """
    people = table.people
    n = len(people)
    missing = {
        f: (float((people[f].astype(str) == "").mean()) if n else 0.0) for f in PERSON_FIELDS
    }
    ids = people["source_id"][people["source_id"] != ""]
    return {
        "source": table.source,
        "origin": table.origin,
        "rows": n,
        "id_from": people.attrs.get(ID_FROM_ATTR, ""),
        "read_as": people.attrs.get("read_as", ""),
        "missing": missing,
        "invalid_personnummer": sum(
            1 for i in table.issues if i.problem.startswith(INVALID_PERSONNUMMER)
        ),
        "duplicate_ids": int(ids[ids.duplicated(keep=False)].nunique()),
        "issues": len(table.issues),
    }


def describe(table: PeopleTable, *, max_issues: int = 20) -> list[str]:
    """The summary lines ``passerlink extract`` prints for one source (personnummer masked)."""
    p = profile(table)
    lines = [f"{p['source']}: {p['rows']} rows from {p['origin']}"]
    if p["read_as"]:
        lines.append(f"  read as: {p['read_as']}")
    lines.append(f"  id: {p['id_from'] or 'source_id column'}")
    lines.append(
        "  missing: "
        + ", ".join(f"{f} {share:.0%}" for f, share in p["missing"].items() if f != "source_id")
    )
    lines.append(f"  invalid personnummer: {p['invalid_personnummer']}")
    lines.append(f"  duplicate ids: {p['duplicate_ids']}")
    lines.append(f"  row issues: {p['issues']}")
    for issue in table.issues[:max_issues]:
        lines.append(f"    {issue}")
    if len(table.issues) > max_issues:
        lines.append(f"    … and {len(table.issues) - max_issues} more")
    return lines
