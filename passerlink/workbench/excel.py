"""The link table as an Excel workbook for sign-off, and the way back in.

Whoever signs off the go-live works in Excel, so the export has to be usable there (one sheet per
register, frozen header, filters, a drop-down for the decision) and safe there: every text cell
that Excel or LibreOffice could take for a formula (``=``, ``+``, ``-``, ``@``, tab, CR, LF) gets a
leading apostrophe and is stored as text, and personnummer are masked unless the operator asked.
Reading an edited workbook back gives the decisions it changes; nothing is written until the
operator has seen that preview.
"""

from __future__ import annotations

import datetime as _dt
import io
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from passerlink.errors import InputError
from passerlink.features import mask_personnummer
from passerlink.matching.linkstore import LinkDecision
from passerlink.spreadsheet import FORMULA_TRIGGERS, guard_text, unguard_text
from passerlink.workbench.i18n import (
    DECISION_LABELS,
    decision_from_label,
    decision_label,
    field_label,
    text,
)
from passerlink.workbench.linktable import LINK_COLUMNS, OPERATOR_DECISIONS, SHOWN_FIELDS

#: Decisions only the model (and the sign-off) writes: shown in the workbook, never read back as a change.
MODEL_DECISIONS = ("auto", "proposed", "question")

__all__ = [
    "FORMULA_TRIGGERS",
    "guard_text",
    "unguard_text",
    "export_workbook",
    "read_workbook",
    "diff_decisions",
    "changes_to_decisions",
    "registers_in",
]

_MAX_WIDTH = 45
_MIN_WIDTH = 8
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


class WorkbookError(InputError):
    """A workbook that cannot be read back, in one sentence naming file, sheet, row and column.

    The message is English (logs, the command line); ``key`` and ``values`` let the workbench say
    the same in the operator's language (``i18n.text(key, lang, **values)``).
    """

    def __init__(self, key: str, **values: object) -> None:
        self.key, self.values = key, values
        super().__init__(text(key, "en", **values))


def _columns(lang: str) -> list[tuple[str, str]]:
    """(link-table column, header) for a register sheet, in order."""
    cols = [("source_id", text("col_source_id", lang))]
    cols += [(f, field_label(f, lang)) for f in SHOWN_FIELDS]
    cols += [("m5_id", text("col_m5_id", lang))]
    prefix = text("col_m5_prefix", lang)
    cols += [(f"m5_{f}", prefix + field_label(f, lang)) for f in SHOWN_FIELDS if f != "employee_number"]
    cols += [
        ("probability", text("col_probability", lang)),
        ("decision", text("col_decision", lang)),
        ("who", text("col_who", lang)),
        ("at", text("col_at", lang)),
    ]
    return cols


def _set_text(cell: Any, value: object) -> int:
    s = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    if not s:
        return 0  # an empty cell stays empty
    cell.value = guard_text(s)
    cell.data_type = "s"  # never a formula, whatever the text looks like
    return len(cell.value)


def export_workbook(
    table: pd.DataFrame,
    *,
    registers: list[str],
    lang: str = "sv",
    show_personnummer: bool = False,
    exported_by: str = "",
    model_version: str = "",
    exported_at: _dt.datetime | None = None,
) -> bytes:
    """The workbook as bytes: a summary sheet, then one sheet per register.

    ``table`` is a link table with people (``linktable.with_people``), optionally with rows of
    unlinked people (decision ``""``). Rows of a register not in ``registers`` are left out.
    """
    exported_at = exported_at or _dt.datetime.now().astimezone()
    wb = Workbook()
    summary = wb.active
    summary.title = text("sheet_summary", lang)
    cols = _columns(lang)
    choices = [DECISION_LABELS[lang if lang in DECISION_LABELS else "sv"][d] for d in (*MODEL_DECISIONS, *OPERATOR_DECISIONS)]
    for register in registers:
        rows = table[table["register"] == register]
        _register_sheet(wb, register, rows, cols, choices, lang, show_personnummer)
    _summary_sheet(summary, table, registers, lang, show_personnummer, exported_by, model_version, exported_at)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _register_sheet(wb, register, rows, cols, choices, lang, show_personnummer) -> None:
    ws = wb.create_sheet(title=register[:31])
    widths = _header_row(ws, cols)
    records = rows.reindex(columns=[k for k, _ in cols]).to_dict("records")
    for i, rec in enumerate(records, start=2):
        for j, (key, _) in enumerate(cols, start=1):
            n = _put_value(ws.cell(row=i, column=j), key, rec.get(key), lang, show_personnummer)
            widths[j - 1] = max(widths[j - 1], n)
    last = max(len(records) + 1, 2)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{last}"
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, _MIN_WIDTH), _MAX_WIDTH)
    keys = [k for k, _ in cols]
    if "probability" in keys:
        letter = get_column_letter(keys.index("probability") + 1)
        ws.conditional_formatting.add(
            f"{letter}2:{letter}{last}",
            ColorScaleRule(start_type="num", start_value=0, start_color="F8696B",
                           mid_type="num", mid_value=0.5, mid_color="FFEB84",
                           end_type="num", end_value=1, end_color="63BE7B"),
        )
    if "decision" in keys:
        letter = get_column_letter(keys.index("decision") + 1)
        dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle=text("col_decision", lang),
                            error=", ".join(choices))
        dv.add(f"{letter}2:{letter}{last}")
        ws.add_data_validation(dv)


def _header_row(ws, cols) -> list[int]:
    """The bold header row; returns each column's width so far."""
    widths = []
    for j, (_, header) in enumerate(cols, start=1):
        c = ws.cell(row=1, column=j)
        widths.append(_set_text(c, header))
        c.font = Font(bold=True)
        c.fill = _HEADER_FILL
        c.alignment = Alignment(vertical="center")
    return widths


def _put_value(cell: Any, key: str, value: object, lang: str, show_personnummer: bool) -> int:
    """One cell of a register sheet (a probability as a number, a decision in words, personnummer
    masked unless asked for, everything else as guarded text); returns its width."""
    if key == "probability":
        if isinstance(value, int | float) and not pd.isna(value):
            cell.value = float(value)
            cell.number_format = "0.00"
        return 0
    if key == "decision":
        value = decision_label(str(value or ""), lang)
    elif key in ("personnummer", "m5_personnummer") and not show_personnummer:
        value = mask_personnummer(str(value or ""))
    return _set_text(cell, value)


def _summary_sheet(ws, table, registers, lang, show_personnummer, exported_by, model_version, exported_at) -> None:
    def put(r: int, c: int, v: object, bold: bool = False) -> None:
        cell = ws.cell(row=r, column=c)
        if isinstance(v, int | float) and not isinstance(v, bool):
            cell.value = v
        else:
            _set_text(cell, v)
        if bold:
            cell.font = Font(bold=True)

    put(1, 1, text("summary_title", lang), bold=True)
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    meta = [
        ("summary_exported_at", exported_at.isoformat(timespec="seconds")),
        ("summary_exported_by", exported_by),
        ("summary_model_version", model_version),
        ("summary_personnummer", text("summary_unmasked" if show_personnummer else "summary_masked", lang)),
    ]
    r = 3
    for key, value in meta:
        put(r, 1, text(key, lang), bold=True)
        put(r, 2, value)
        r += 1
    r += 1
    decisions = [*MODEL_DECISIONS, *OPERATOR_DECISIONS]
    header = [text("register", lang), *[decision_label(d, lang) for d in decisions], text("summary_no_link", lang), text("summary_total", lang)]
    for j, h in enumerate(header, start=1):
        put(r, j, h, bold=True)
    for register in registers:
        r += 1
        rows = table[table["register"] == register]
        counts = Counter(rows["decision"])
        put(r, 1, register)
        for j, d in enumerate(decisions, start=2):
            put(r, j, int(counts.get(d, 0)))
        put(r, len(decisions) + 2, int(counts.get("", 0)))
        put(r, len(decisions) + 3, len(rows))
    r += 2
    put(r, 1, text("summary_deciders", lang), bold=True)
    who = Counter(w for w in table.get("who", pd.Series([], dtype=object)) if w)
    for name, n in sorted(who.items()):
        r += 1
        put(r, 1, name)
        put(r, 2, int(n))
    r += 2
    put(r, 1, text("summary_decision_help", lang))
    ws.column_dimensions["A"].width = 28
    for j in range(2, len(header) + 1):
        ws.column_dimensions[get_column_letter(j)].width = 14


# ---- reading back ------------------------------------------------------------------------------

def _header_keys() -> dict[str, str]:
    """Header text (any language, lower case) -> link-table column, for the columns we read back."""
    keys = {}
    for lang in DECISION_LABELS:
        keys[text("col_source_id", lang).lower()] = "source_id"
        keys[text("col_m5_id", lang).lower()] = "m5_id"
        keys[text("col_decision", lang).lower()] = "decision"
    return keys


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an id Excel turned into a number
    return unguard_text(str(value).strip())


def _at(row: tuple, j: int) -> str:
    return _cell_text(row[j]) if j < len(row) else ""


def read_workbook(source: bytes | str | Path, *, name: str = "") -> pd.DataFrame:
    """The decisions in an exported (and edited) workbook: ``register, source_id, m5_id, decision, row``.

    Every register sheet is read (a sheet is a register sheet if it has the id, M5 id and decision
    headers). ``decision`` is the code; an unknown word raises ``InputError`` naming sheet, row and column.
    """
    label = name or (str(source) if not isinstance(source, bytes) else "the workbook")
    try:
        wb = load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise WorkbookError("xl_not_workbook", file=label, kind=type(exc).__name__) from None
    keys = _header_keys()
    out = []
    try:
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            header = next(rows, None)
            if not header:
                continue
            where = {keys[str(h).strip().lower()]: j for j, h in enumerate(header) if h is not None and str(h).strip().lower() in keys}
            if set(where) != {"source_id", "m5_id", "decision"}:
                continue
            dec_header = header[where["decision"]]
            for i, row in enumerate(rows, start=2):
                sid, mid, word = (_at(row, where[k]) for k in ("source_id", "m5_id", "decision"))
                if not sid and not mid and not word:
                    continue
                code = decision_from_label(word) if word else ""
                if code is None:
                    raise WorkbookError("xl_not_a_decision", file=label, sheet=ws.title, row=i, column=dec_header,
                                        word=word, words=", ".join(DECISION_LABELS["sv"].values()))
                out.append({"register": ws.title, "source_id": sid, "m5_id": mid, "decision": code, "row": i})
    finally:
        wb.close()
    return pd.DataFrame(out, columns=["register", "source_id", "m5_id", "decision", "row"])


def diff_decisions(current: pd.DataFrame, edited: pd.DataFrame, *, name: str = "the workbook") -> pd.DataFrame:
    """The decisions an edited workbook changes: ``register, source_id, m5_id, before, after, probability``.

    A row counts only if its decision differs from the current one; a blank decision never
    changes anything (a blank cell is not an answer). ``auto`` can only be set by the model, and
    a link needs an M5 id: both raise ``InputError`` naming sheet and row.
    """
    cur = {
        (r.register, r.source_id, r.m5_id): (r.decision, r.probability)
        for r in current[[c for c in LINK_COLUMNS if c in current.columns]].itertuples(index=False)
    }
    changes = []
    seen = set()
    for r in edited.itertuples(index=False):
        if not r.decision:
            continue
        key = (r.register, r.source_id, r.m5_id)
        before, prob = cur.get(key, ("", float("nan")))
        if r.decision == before or key in seen:
            continue
        if r.decision in MODEL_DECISIONS or r.decision == "withdrawn":
            raise WorkbookError("xl_model_only", file=name, sheet=r.register, row=r.row,
                                decision=decision_label(r.decision))
        if not r.m5_id or not r.source_id:
            raise WorkbookError("xl_needs_ids", file=name, sheet=r.register, row=r.row)
        seen.add(key)
        changes.append({"register": r.register, "source_id": r.source_id, "m5_id": r.m5_id,
                        "before": before, "after": r.decision, "probability": prob})
    return pd.DataFrame(changes, columns=["register", "source_id", "m5_id", "before", "after", "probability"])


def changes_to_decisions(changes: pd.DataFrame, *, who: str, note: str = "excel import", model_version: str = "") -> list[LinkDecision]:
    """Link-store rows for a previewed set of changes (written in one transaction by the caller)."""
    out = []
    for r in changes.itertuples(index=False):
        p = None if r.probability is None or pd.isna(r.probability) else float(r.probability)
        out.append(LinkDecision(r.register, r.source_id, r.m5_id, r.after, p, who, note, model_version))
    return out


def registers_in(table: pd.DataFrame, configured: Mapping[str, object] | list[str]) -> list[str]:
    """Registers to export: the configured ones first, then any other found in the table."""
    names = list(configured)
    return names + sorted(set(table["register"]) - set(names))
