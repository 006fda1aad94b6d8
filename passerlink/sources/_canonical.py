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

import datetime as _dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from passerlink.errors import SourceError
from passerlink.features import mask_personnummer
from passerlink.people import CANONICAL_COLUMNS, PERSON_FIELDS, PeopleTable, RowIssue
from passerlink.sources._dates import FUTURE_DATE, parse_birth_date
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
        texts[c] = values if set(map(type, values)) <= {str} else [cell_text(v) for v in values]
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


_SEP = "\x00"  # joins a column for one-pass checks; counted, so a value holding it is noticed
_NOT_CLEAN = re.compile(r"[^\S ]|  |(?:^|\x00) | (?:\x00|$)")


def _clean_column(values: list[str]) -> list[str]:
    """``clean_text`` of every value; a column that is already clean (every real register's
    usual case) is found so by one regular-expression pass and returned as it is."""
    joined = _SEP.join(values)
    if (joined.count(_SEP) == len(values) - 1 and not _NOT_CLEAN.search(joined)
            and unicodedata.is_normalized("NFC", joined)):
        return values
    return [clean_text(v) for v in values]


class _Columns:
    """The chosen source columns of every field, cleaned once, read a whole column at a time."""

    def __init__(self, texts: dict[str, list[str]], field_cols: dict[str, list[str]], n: int) -> None:
        self.field_cols = field_cols
        self.n = n
        used = {c for cols in field_cols.values() for c in cols}
        self.clean = {c: _clean_column(texts[c]) for c in used}

    def first(self, fld: str) -> list[str]:
        """Per row, the cleaned value of the first column of ``fld`` that has one."""
        cols = [self.clean[c] for c in self.field_cols.get(fld, [])]
        if not cols:
            return [""] * self.n
        if len(cols) == 1:
            return cols[0]
        return [next((v for v in vs if v), "") for vs in zip(*cols, strict=True)]

    def column_of(self, fld: str, i: int) -> str:
        """The column ``first`` took row i's value of ``fld`` from (the first one if none)."""
        cols = self.field_cols.get(fld, [])
        return next((c for c in cols if self.clean[c][i]), cols[0] if cols else "")

    def joined(self, fld: str) -> list[str]:
        """Per row, every column of a name field joined (a mellannamn before the family name)."""
        cols = [self.clean[c] for c in self.field_cols.get(fld, [])]
        if not cols:
            return [""] * self.n
        if len(cols) == 1:
            return cols[0]
        return [" ".join(v for v in vs if v) for vs in zip(*cols, strict=True)]


_PNR_FORM = re.compile(r"^(\d{2})?(\d{6})([-+]?)(\d{4})$")
_PNR_STRIP = re.compile(r"[\s.]")


def _pnr_date(digits12: str) -> _dt.date:
    day = int(digits12[6:8])
    return _dt.date(int(digits12[:4]), int(digits12[4:6]), day - 60 if day > 60 else day)


def _parse_pnr(text: str, today: _dt.date) -> tuple[str, str] | None:
    """``(12 digits, ISO birth date)`` or None: exactly ``features.parse_personnummer``'s rules
    (form, century, calendar date, samordningsnummer, Luhn, serial not 000) without building
    the reference library's object per row – a million rows in seconds, not a minute.
    ``tests/sources/test_readers.py`` holds the two to the same answers."""
    m = _PNR_FORM.match(_PNR_STRIP.sub("", text))
    if not m:
        return None
    century, yymmdd, sep, tail = m.groups()
    if tail[:3] == "000" or not _luhn_ok(yymmdd + tail):  # the ten-digit form, whatever was written
        return None
    try:
        if century is not None:
            digits = century + yymmdd + tail
            birth = _pnr_date(digits)
        else:
            base = today.year - (100 if sep == "+" else 0)
            year = base - ((base - int(yymmdd[:2])) % 100)
            digits = f"{year:04d}" + yymmdd[2:] + tail
            birth = _pnr_date(digits)
            if birth > today and sep != "+":
                digits = f"{year - 100:04d}" + yymmdd[2:] + tail
                birth = _pnr_date(digits)
    except ValueError:
        return None
    return digits, birth.isoformat()


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # Luhn: a digit times two, its digits summed


def _luhn_ok(ten: str) -> bool:
    """Luhn over the ten-digit form (weights 2,1,2,...), as ``features.luhn_ok``."""
    digits = [ord(ch) - 48 for ch in ten]
    return (sum(_DOUBLED[d] for d in digits[0::2]) + sum(digits[1::2])) % 10 == 0


def _identities(cols: _Columns, rows: list[int], found: list[RowIssue]) -> tuple[list[str], list[str]]:
    """(personnummer as 12 digits or '', ISO birth date or '') per row, with the rows' issues."""
    today = _dt.date.today()
    raw_pnrs = cols.first("personnummer")
    parsed = [_parse_pnr(v, today) if v else None for v in raw_pnrs]
    for i, (raw, pp) in enumerate(zip(raw_pnrs, parsed, strict=True)):
        if raw and pp is None:
            found.append(RowIssue(rows[i], cols.column_of("personnummer", i),
                                  f"{INVALID_PERSONNUMMER} {mask_personnummer(raw)!r}; left out"))
    raw_dates = cols.first("birth_date")
    dates: dict[str, tuple[str, str | None]] = {}
    births: list[str] = []
    for i, (raw, pp) in enumerate(zip(raw_dates, parsed, strict=True)):
        if raw not in dates:
            dates[raw] = parse_birth_date(raw)
        birth, problem = dates[raw]
        if problem:
            found.append(RowIssue(rows[i], cols.column_of("birth_date", i), f"{problem} {shown(raw)}; left empty"))
        pnr_birth = pp[1] if pp else ""
        if not birth:
            birth = pnr_birth
        elif pnr_birth and birth != pnr_birth:
            found.append(RowIssue(rows[i], cols.column_of("birth_date", i),
                                  "birth date disagrees with the personnummer; both kept"))
        births.append(birth)
    return [pp[0] if pp else "" for pp in parsed], births


def _created(cols: _Columns, rows: list[int], found: list[RowIssue]) -> list[str]:
    """Each row's record-creation day as ISO ``YYYY-MM-DD`` (a time part dropped), or '' (listed)
    when it is no date."""
    out: list[str] = []
    for i, raw in enumerate(cols.first("created")):
        day, problem = parse_birth_date(raw) if raw else ("", None)
        if problem:
            word = "date in the future" if problem.startswith(FUTURE_DATE) else problem
            found.append(RowIssue(rows[i], cols.column_of("created", i), f"{word} {shown(raw)}; left empty"))
        out.append(day)
    return out


def _emails(cols: _Columns, rows: list[int], found: list[RowIssue]) -> list[str]:
    """Each row's e-mail in lower case, or '' (listed) when it is no address."""
    out = [v.lower().replace(" ", "") if v else "" for v in cols.first("email")]
    for i, email in enumerate(out):
        if email and ("@" not in email or email.startswith("@") or email.endswith("@")):
            found.append(RowIssue(rows[i], cols.column_of("email", i), "not an e-mail address; left out"))
            out[i] = ""
    return out


def _nonblank_rows(columns: list[str], texts: dict[str, list[str]], n: int) -> list[int]:
    """Indexes of the rows with any value (a blank row is no person); column by column, so the
    usual file – no blank row, every id filled – costs one pass over its first column."""
    blank: Sequence[int] = range(n)
    for c in columns:
        values = texts[c]
        blank = [i for i in blank if not values[i] or values[i].isspace()]
        if not blank:
            return list(range(n))
    gone = set(blank)
    return [i for i in range(n) if i not in gone]


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

    keep = _nonblank_rows(columns, texts, n)
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

    kept = [i for i, _sid in ids]
    every_row = len(kept) == n
    krows = rows if every_row else [rows[i] for i in kept]
    sub = texts if every_row else {c: [texts[c][i] for i in kept] for c in
                                   {c for cols in field_cols.values() for c in cols}}
    cols = _Columns(sub, field_cols, len(kept))
    out: dict[str, list[str]] = {"source": [source] * len(kept), "source_id": [sid for _i, sid in ids]}
    for fld in _NAME_FIELDS:
        out[fld] = cols.joined(fld)
    found.extend(RowIssue(krows[j], name_col, "no name; row kept")
                 for j, names in enumerate(zip(*(out[f] for f in _NAME_FIELDS), strict=True)) if not any(names))
    out["personnummer"], out["birth_date"] = _identities(cols, krows, found)
    out["email"] = _emails(cols, krows, found)
    out["org_unit"] = cols.first("org_unit")
    out["employee_number"] = cols.first("employee_number")
    out["created"] = _created(cols, krows, found)

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
