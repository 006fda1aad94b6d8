"""The link table the operator sees: the link store's decisions laid over the model's links.

The link store holds what people decided (and what was handed over); the model holds what it
would link now. The operator needs one table of both, with the people's fields beside the ids,
for the Links page, the Excel export and the re-import diff. Everything here is pure pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from passerlink.matching.linkstore import LINK_DECISIONS
from passerlink.people import PERSON_FIELDS

__all__ = [
    "LINK_COLUMNS",
    "TABLE_LINKS",
    "SHOWN_FIELDS",
    "PAIR_FIELDS",
    "OPERATOR_DECISIONS",
    "LABEL_OF_DECISION",
    "merge_links",
    "with_people",
    "unlinked_people",
    "conflicts",
    "filter_table",
]

#: Columns of a link table, in order.
LINK_COLUMNS = ["register", "source_id", "m5_id", "decision", "probability", "who", "at", "model_version"]
#: Rows that are links in the table an operator signs off: the store's links and the model's
#: proposals (which become ``auto`` links at sign-off).
TABLE_LINKS = (*LINK_DECISIONS, "proposed")
#: Person fields shown beside each id (``source_id`` is the id column itself; ``created``, M5's
#: stamp, is shown where it tells people apart: in a pair's explanation beside the birth date).
SHOWN_FIELDS = [f for f in PERSON_FIELDS if f not in ("source_id", "created")]
#: Fields of a question's two records side by side: the shown ones and the day the M5 user was
#: created (an M5 user older than a pupil's schooling is somebody else's).
PAIR_FIELDS = [*SHOWN_FIELDS, "created"]
#: Decisions an operator can make (in the workbench or the Excel drop-down).
OPERATOR_DECISIONS = ("confirmed", "rejected", "unsure", "manual", "unlinked")
#: What an operator decision teaches the model: a link, a non-link or nothing (unsure).
LABEL_OF_DECISION: dict[str, bool | None] = {
    "confirmed": True,
    "manual": True,
    "rejected": False,
    "unlinked": False,
    "unsure": None,
}


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=float if c == "probability" else object) for c in LINK_COLUMNS})


def merge_links(model_links: pd.DataFrame | None, store_current: pd.DataFrame) -> pd.DataFrame:
    """Every pair the store has a decision for, plus the model's links it has none for (as
    ``proposed``: the engine stores its proposals after each retrain that changed them, so these
    are the moments in between).

    ``model_links``: ``register, source_id, m5_id, probability`` (the model's current links);
    ``store_current``: ``LinkStore.current()``. A store decision always wins over the model, and
    a model link that would share a person or an M5 user with an operator's link is dropped
    (links are one-to-one; the model may not have retrained since the operator's answer).
    """
    parts = []
    if store_current is not None and len(store_current):
        s = store_current.rename(columns={"source": "register"})
        parts.append(s[LINK_COLUMNS].astype({"probability": float}))
    if model_links is not None and len(model_links):
        m = _free_model_links(model_links, store_current)
        if parts:
            decided = pd.MultiIndex.from_frame(parts[0][["register", "source_id", "m5_id"]])
            m = m[~pd.MultiIndex.from_frame(m[["register", "source_id", "m5_id"]]).isin(decided)]
        m = m.assign(decision="proposed", who="", at="", model_version="")
        parts.append(m[LINK_COLUMNS].astype({"probability": float}))
    if not parts:
        return _empty()
    out = pd.concat(parts, ignore_index=True)
    for c in ("register", "source_id", "m5_id", "decision", "who", "at", "model_version"):
        out[c] = out[c].fillna("").astype(str)
    return out.sort_values(["register", "source_id", "m5_id"], kind="stable").reset_index(drop=True)


def _free_model_links(model_links: pd.DataFrame, store_current: pd.DataFrame | None) -> pd.DataFrame:
    """The model's links that share neither person nor M5 user with an operator's link."""
    m = model_links[["register", "source_id", "m5_id", "probability"]].copy()
    if store_current is None or not len(store_current):
        return m
    operator = store_current[store_current["decision"].isin(["confirmed", "manual"])]
    taken = pd.MultiIndex.from_frame(operator[["source", "source_id"]].rename(columns={"source": "register"}))
    free = ~pd.MultiIndex.from_frame(m[["register", "source_id"]]).isin(taken)
    free &= ~m["m5_id"].isin(set(operator["m5_id"]))
    return m[free]


def with_people(
    table: pd.DataFrame, registers: Mapping[str, pd.DataFrame], m5: pd.DataFrame | None
) -> pd.DataFrame:
    """The link table with each side's person fields (``m5_``-prefixed for the M5 side)."""
    out = table.copy()
    left_parts = []
    for name, people in registers.items():
        p = people[["source_id", *SHOWN_FIELDS]].drop_duplicates("source_id").assign(register=name)
        left_parts.append(p)
    if left_parts:
        left = pd.concat(left_parts, ignore_index=True)
        out = out.merge(left, on=["register", "source_id"], how="left")
    else:
        for f in SHOWN_FIELDS:
            out[f] = ""
    if m5 is not None and len(m5):
        right = m5[["source_id", *SHOWN_FIELDS]].drop_duplicates("source_id")
        right = right.rename(columns={"source_id": "m5_id", **{f: f"m5_{f}" for f in SHOWN_FIELDS}})
        out = out.merge(right, on="m5_id", how="left")
    else:
        for f in SHOWN_FIELDS:
            out[f"m5_{f}"] = ""
    for f in SHOWN_FIELDS:
        out[f] = out[f].fillna("").astype(str)
        out[f"m5_{f}"] = out[f"m5_{f}"].fillna("").astype(str)
    return out


def unlinked_people(table: pd.DataFrame, registers: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Register people with no link at all (they will be created new in M5), as link-table rows."""
    linked = table[table["decision"].isin(TABLE_LINKS)]
    rows = []
    for name, people in registers.items():
        have = set(linked.loc[linked["register"] == name, "source_id"])
        ids = [i for i in people["source_id"].drop_duplicates() if i not in have]
        rows.append(pd.DataFrame({"register": name, "source_id": ids}))
    if not rows:
        return _empty()
    out = pd.concat(rows, ignore_index=True)
    for c in LINK_COLUMNS:
        if c not in out:
            out[c] = float("nan") if c == "probability" else ""
    return out[LINK_COLUMNS]


def conflicts(table: pd.DataFrame) -> list[dict]:
    """Links that break one-to-one: an M5 user linked to several people, or a person to several users.

    Each conflict is ``{"kind": "m5"|"person", "key": ..., "rows": DataFrame}``; conflicts between
    the two registers (one M5 user for an employee and a pupil) are found too.
    """
    linked = table[table["decision"].isin(TABLE_LINKS)]
    found: list[dict] = []
    # only the duplicated keys are grouped: the Review page calls this on every rerun
    shared = linked[linked.duplicated("m5_id", keep=False)]
    for m5_id, rows in shared.groupby("m5_id", sort=True):
        found.append({"kind": "m5", "key": str(m5_id), "rows": rows.reset_index(drop=True)})
    person = ["register", "source_id"]
    shared = linked[linked.duplicated(person, keep=False)]
    for (register, source_id), rows in shared.groupby(person, sort=True):
        found.append({"kind": "person", "key": (register, source_id), "rows": rows.reset_index(drop=True)})
    return found


def filter_table(table: pd.DataFrame, decisions: Sequence[str] | None, search: str, *, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Rows whose decision is in ``decisions`` (all if empty) and that contain ``search`` in any
    id or name column (case-insensitive)."""
    out = table
    if decisions:
        out = out[out["decision"].isin(list(decisions))]
    needle = search.strip().lower()
    if needle:
        cols = [c for c in (columns or out.columns) if c in out.columns and out[c].dtype == object]
        hit = pd.Series(False, index=out.index)
        for c in cols:
            hit |= out[c].astype(str).str.lower().str.contains(needle, regex=False)
        out = out[hit]
    return out
