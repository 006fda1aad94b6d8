"""The step every reader shares: source columns -> canonical fields, normalised and validated.

Readers only turn bytes into a frame of strings plus the file row number of each line; this
module decides which column is which field, cleans the values and records what it had to
leave out. Decisions made here, on purpose:

* Invalid personnummer, impossible or unrecognised dates and e-mail without ``@`` are row
  issues: the value is left out of its canonical column, the row is kept.
* A row whose id is empty stops the source (``SourceError`` naming the row): a register with
  an empty id cell is damaged, and leaving the row out would make its person look gone.
* A repeated id is a file-level error (``SourceError`` naming the id and both rows): a register
  whose id is not unique cannot be linked safely. A row that repeats another row exactly is
  only listed and left out (a double export line, not two people).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from passerlink.errors import SourceError
from passerlink.features import mask_personnummer, parse_personnummer
from passerlink.people import CANONICAL_COLUMNS, PERSON_FIELDS, PeopleTable, RowIssue
from passerlink.sources._dates import parse_birth_date
from passerlink.sources._headers import MIDDLE_NAME, recognised_ranks
from passerlink.sources._text import cell_text, clean_text, fold_header, shown

__all__ = ["canonicalize", "INVALID_PERSONNUMMER", "ID_FROM_ATTR", "column_list"]

INVALID_PERSONNUMMER = "invalid personnummer"
#: ``PeopleTable.people.attrs`` key saying where ``source_id`` came from (for the summary).
ID_FROM_ATTR = "id_from"

_NAME_FIELDS = ("given_names", "call_name", "family_name")


def column_list(columns: Sequence[str], limit: int = 12) -> str:
    """'A, B, C' (cut after ``limit`` names) for messages."""
    shown_cols = ", ".join(str(c) for c in columns[:limit])
    return shown_cols + (f", … ({len(columns)} in all)" if len(columns) > limit else "")


def _find(name: str, columns: Sequence[str]) -> str | None:
    """The column called ``name``: exactly, else ignoring case, spaces and diacritics."""
    if name in columns:
        return name
    key = fold_header(name)
    hits = [c for c in columns if fold_header(c) == key]
    return hits[0] if len(hits) == 1 else None


def _choose_fields(
    columns: list[str], mapping: Mapping[str, str] | None, origin: str, recognise: bool
) -> tuple[dict[str, list[str]], list[str], set[str]]:
    """field -> source columns (in use order), id candidates, and the explicitly mapped fields."""
    field_cols: dict[str, list[str]] = {}
    explicit_cols: set[str] = set()
    for key, fld in (mapping or {}).items():
        if fld not in PERSON_FIELDS:
            raise SourceError(
                f"{origin}: column {key!r} is mapped to {fld!r}, which is not one of "
                f"{', '.join(PERSON_FIELDS)}"
            )
        col = _find(key, columns)
        if col is None:
            raise SourceError(
                f"{origin} has no column {key!r} (mapped to {fld}); its columns are "
                f"{column_list(columns)}"
            )
        field_cols.setdefault(fld, []).append(col)
        explicit_cols.add(col)
    explicit_fields = set(field_cols)
    id_candidates: list[str] = []
    if recognise:
        ranks = recognised_ranks(c for c in columns if c not in explicit_cols)

        def best(fld: str) -> list[str]:
            cands = [c for c, (f, _r) in ranks.items() if f == fld]
            return sorted(cands, key=lambda c: (ranks[c][1], columns.index(c)))

        for fld in PERSON_FIELDS:
            if fld in explicit_fields:
                continue
            cands = best(fld)
            if fld == "source_id":
                id_candidates = cands
            elif fld == "family_name":
                # A Swedish mellannamn is the first part of a two-part family name
                # ("Forsberg Bergström"), not a given name.
                picked = best(MIDDLE_NAME)[:1] + cands[:1]
                if picked:
                    field_cols[fld] = picked
            elif cands:
                field_cols[fld] = cands[:1]
    return field_cols, id_candidates, explicit_fields


def _choose_id(
    columns: list[str],
    texts: dict[str, list[str]],
    keep: list[int],
    field_cols: dict[str, list[str]],
    id_candidates: list[str],
    explicit_fields: set[str],
    id_column: str | None,
    origin: str,
) -> tuple[str | None, str]:
    """The id column and a phrase saying where it came from."""
    if id_column:
        col = _find(id_column, columns)
        if col is None:
            raise SourceError(
                f"{origin} has no column {id_column!r} to use as the id; its columns are "
                f"{column_list(columns)}"
            )
        return col, f"column {col!r} (as asked)"
    if "source_id" in explicit_fields:
        col = field_cols["source_id"][0]
        return col, f"column {col!r} (mapped)"
    # HR: the employee number; then a student id, FEBRL rec_id, a plain id. Prefer the first
    # candidate that is filled in and unique on every row.
    own = [c for c in id_candidates if fold_header(c) == "sourceid"]  # a canonical table read back
    cands = own + field_cols.get("employee_number", [])[:1] + [c for c in id_candidates if c not in own]
    for col in cands:
        vals = [texts[col][i].strip() for i in keep]
        if all(vals) and len(set(vals)) == len(vals):
            return col, f"column {col!r} (recognised)"
    if cands:
        return cands[0], f"column {cands[0]!r} (recognised)"
    return None, "row numbers (no id column recognised; name one with --id-column)"


def _column_texts(df: pd.DataFrame) -> tuple[list[str], dict[str, list[str]]]:
    """Column names and each column's values as text (readers already give text: kept as is)."""
    columns = [str(c) for c in df.columns]
    texts: dict[str, list[str]] = {}
    for j, c in enumerate(columns):
        values = df.iloc[:, j].tolist()
        texts[c] = values if all(type(v) is str for v in values) else [cell_text(v) for v in values]
    return columns, texts


def _ids(
    keep: list[int], rows: list[int], texts: dict[str, list[str]], columns: list[str],
    id_col: str | None, origin: str, found: list[RowIssue],
) -> list[tuple[int, str]]:
    """``(row index, id)`` of every row to read, in order.

    An empty id cell stops the source (a row that cannot be told apart from the others is a
    damaged export, and leaving it out would make its person look gone); a repeated id stops it
    too; a row that repeats another row exactly is listed in ``found`` and left out."""
    out: list[tuple[int, str]] = []
    first_row_of: dict[str, int] = {}  # id -> index into texts of its first row
    empty: list[int] = []
    duplicates: list[tuple[str, int, int]] = []
    id_texts = texts[id_col] if id_col else None
    for i in keep:
        sid = clean_text(id_texts[i]) if id_texts is not None else str(rows[i])
        if not sid:
            empty.append(rows[i])
            continue
        j = first_row_of.setdefault(sid, i)
        if j == i:
            out.append((i, sid))
        elif all(texts[c][i] == texts[c][j] for c in columns):
            found.append(RowIssue(rows[i], id_col or "", f"repeats row {rows[j]} exactly; left out"))
        else:
            duplicates.append((sid, rows[j], rows[i]))
    if empty:
        more = f" ({len(empty) - 1} more rows have none)" if len(empty) > 1 else ""
        raise SourceError(
            f"{origin}: row {empty[0]} has no id in column {id_col!r}{more}; every row of a register "
            "needs its id – correct the register (or name another column with --id-column)"
        )
    if duplicates:
        sid, r1, r2 = duplicates[0]
        more_ids = len({d[0] for d in duplicates}) - 1
        raise SourceError(
            f"{origin}: id {shown(sid)} in column {id_col!r} appears on rows {r1} and {r2}"
            + (f" ({more_ids} more ids are repeated)" if more_ids else "")
            + "; a register's id must be unique (name another column with --id-column)"
        )
    return out


class _Row:
    """One source row seen through the chosen columns: the first filled value of a field."""

    def __init__(self, texts: dict[str, list[str]], field_cols: dict[str, list[str]]) -> None:
        self.texts = texts
        self.field_cols = field_cols
        self.i = 0

    def first(self, fld: str) -> tuple[str, str]:
        """(cleaned value, column) from the first column of ``fld`` that has one on this row."""
        cols = self.field_cols.get(fld, [])
        for col in cols:
            v = clean_text(self.texts[col][self.i])
            if v:
                return v, col
        return "", (cols[0] if cols else "")

    def name(self, fld: str) -> str:
        """Every column of a name field joined (a mellannamn before the family name)."""
        parts = (clean_text(self.texts[c][self.i]) for c in self.field_cols.get(fld, []))
        return " ".join(v for v in parts if v)


def _identity(r: _Row, row: int, found: list[RowIssue]) -> tuple[str, str]:
    """(personnummer as 12 digits or '', ISO birth date or ''), with the row's issues."""
    raw_pnr, pnr_col = r.first("personnummer")
    parsed = parse_personnummer(raw_pnr) if raw_pnr else None
    pnr = parsed.digits12 if parsed else ""
    if raw_pnr and not pnr:
        found.append(
            RowIssue(row, pnr_col, f"{INVALID_PERSONNUMMER} {mask_personnummer(raw_pnr)!r}; left out")
        )
    raw_date, date_col = r.first("birth_date")
    birth, problem = parse_birth_date(raw_date)
    if problem:
        found.append(RowIssue(row, date_col, f"{problem} {shown(raw_date)}; left empty"))
    pnr_birth = parsed.birth_date.isoformat() if parsed else ""
    if not birth:
        birth = pnr_birth
    elif pnr_birth and birth != pnr_birth:
        found.append(RowIssue(row, date_col, "birth date disagrees with the personnummer; both kept"))
    return pnr, birth


def _email(r: _Row, row: int, found: list[RowIssue]) -> str:
    """The row's e-mail in lower case, or '' (listed) when it is no address."""
    email, email_col = r.first("email")
    email = email.lower().replace(" ", "")
    if email and ("@" not in email or email.startswith("@") or email.endswith("@")):
        found.append(RowIssue(row, email_col, "not an e-mail address; left out"))
        return ""
    return email


def canonicalize(
    df: pd.DataFrame,
    *,
    source: str,
    id_column: str | None = None,
    mapping: Mapping[str, str] | None = None,
    origin: str = "",
    row_numbers: Sequence[int] | None = None,
    issues: Iterable[RowIssue] = (),
    recognise: bool = True,
    no_rows_message: str | None = None,
) -> PeopleTable:
    """Turn one source's frame of text into a canonical ``PeopleTable``.

    ``mapping`` (source column -> field) overrides header recognition for the fields it names;
    ``row_numbers`` are the rows as the user sees them (default: header is row 1, so data starts
    at 2); ``issues`` are the reader's own row issues, merged into the result.
    Raises ``SourceError`` (one sentence naming ``origin``) for file-level problems.
    """
    origin = origin or source
    columns, texts = _column_texts(df)
    n = len(df)
    rows = list(row_numbers) if row_numbers is not None else list(range(2, n + 2))
    if len(rows) != n:
        raise ValueError("row_numbers must have one entry per row")
    found: list[RowIssue] = list(issues)

    keep = [i for i in range(n) if any(texts[c][i].strip() for c in columns)]
    field_cols, id_candidates, explicit_fields = _choose_fields(columns, mapping, origin, recognise)
    if not any(field_cols.get(f) for f in _NAME_FIELDS):
        raise SourceError(
            f"{origin}: none of its columns ({column_list(columns)}) is recognised as a name; "
            "map them with --map COL=FIELD (or 'columns' in the config)"
        )
    if not keep:
        raise SourceError(no_rows_message or f"{origin} has a header but no data rows")
    id_col, id_from = _choose_id(
        columns, texts, keep, field_cols, id_candidates, explicit_fields, id_column, origin
    )
    ids = _ids(keep, rows, texts, columns, id_col, origin, found)
    name_col = next(c for f in _NAME_FIELDS for c in field_cols.get(f, []))

    out: dict[str, list[str]] = {c: [] for c in CANONICAL_COLUMNS}
    r = _Row(texts, field_cols)
    for i, sid in ids:
        r.i, row = i, rows[i]
        names = {fld: r.name(fld) for fld in _NAME_FIELDS}
        if not any(names.values()):
            found.append(RowIssue(row, name_col, "no name; row kept"))
        pnr, birth = _identity(r, row, found)
        out["source"].append(source)
        out["source_id"].append(sid)
        for fld in _NAME_FIELDS:
            out[fld].append(names[fld])
        out["birth_date"].append(birth)
        out["personnummer"].append(pnr)
        out["email"].append(_email(r, row, found))
        out["org_unit"].append(r.first("org_unit")[0])
        out["employee_number"].append(r.first("employee_number")[0])
    kept = [i for i, _sid in ids]

    used = {c for cols in field_cols.values() for c in cols} | ({id_col} if id_col else set())
    extra_cols = [c for c in columns if c not in used]
    people = pd.DataFrame({c: pd.Series(out[c], dtype=object) for c in CANONICAL_COLUMNS})
    people.attrs[ID_FROM_ATTR] = id_from
    extra = pd.DataFrame(
        {c: pd.Series([texts[c][i].strip() for i in kept], dtype=object) for c in extra_cols},
        index=people.index,
    )
    found.sort(key=lambda issue: issue.row)
    return PeopleTable(source=source, people=people, extra=extra, issues=found, origin=origin)
