"""The canonical person table that every source (HR, student register, M5) is turned into.

Every later step (features, matching, sync) reads only these columns, so a new source needs only
a reader. In memory every canonical column holds ``str`` with ``""`` for missing: the comparison
code never has to care about NaN/None/NA, and a CSV round trip is loss-free.

``created`` is the day the source created the record (M5's read-only ``createddate``; empty for
a register): an M5 user created before a person could have gone to school is somebody else's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where a table is built: `passerlink --help` stays fast
    import pandas as pd

__all__ = [
    "CANONICAL_COLUMNS",
    "PERSON_FIELDS",
    "RowIssue",
    "PeopleTable",
    "empty_people",
]

#: The exact column names of a canonical table, in order.
CANONICAL_COLUMNS: list[str] = [
    "source",
    "source_id",
    "given_names",
    "call_name",
    "family_name",
    "birth_date",
    "personnummer",
    "email",
    "org_unit",
    "employee_number",
    "created",
]

#: The fields a column mapping may target (everything but ``source``).
PERSON_FIELDS: list[str] = CANONICAL_COLUMNS[1:]


@dataclass(frozen=True)
class RowIssue:
    """A row-level problem that does not stop reading: counted and listed in the summary."""

    row: int  # 1-based data row number as the user sees it in the file (header = row 1)
    column: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column!r}: {self.problem}"


@dataclass
class PeopleTable:
    """One source's people in canonical shape, plus what the source had beyond it."""

    source: str
    people: pd.DataFrame
    extra: pd.DataFrame = field(default_factory=lambda: _pandas().DataFrame())
    issues: list[RowIssue] = field(default_factory=list)
    origin: str = ""  # file path, URL or "M5" – for messages

    def __len__(self) -> int:
        return len(self.people)


def _pandas() -> ModuleType:
    """pandas, imported on first use (a table is being built, so it is needed now)."""
    import pandas

    return pandas


def empty_people() -> pd.DataFrame:
    """An empty canonical table with the right columns."""
    pandas = _pandas()
    return pandas.DataFrame({c: pandas.Series([], dtype=object) for c in CANONICAL_COLUMNS})
