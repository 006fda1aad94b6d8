"""What a spreadsheet would do with a text, defined once for every reader and writer.

A value that starts with ``=``, ``+``, ``-`` or ``@`` (or their full-width forms, or a tab or
line break before them) is run as a formula – or a DDE command – when a person opens the file in
Excel or LibreOffice. The register readers list such cells, and every writer of a workbook or a
CSV meant for people (the workbench's Excel round trip, the sync report) neutralises them with
the same leading apostrophe. One definition, so that a value one side calls safe the other does
not call a formula. Control characters that XML 1.0 cannot hold are replaced, so that a hostile
string can never make a writer crash, and very long text is cut for the reports.
"""

from __future__ import annotations

import re

__all__ = [
    "FORMULA_TRIGGERS",
    "looks_like_formula",
    "guard_text",
    "unguard_text",
    "xml_safe",
    "report_cell",
    "REPORT_CELL_LIMIT",
]

#: First characters that make a spreadsheet treat a typed value as a formula (or a DDE command).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

#: Longest text a report cell shows (Excel's own limit is 32,767 characters per cell).
REPORT_CELL_LIMIT = 1000

# XML 1.0 allows tab, LF and CR of the C0 controls; openpyxl refuses the others with a traceback.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def looks_like_formula(value: str) -> bool:
    """Text that a spreadsheet would run as a formula if it were typed or pasted into a cell."""
    return value.startswith(FORMULA_TRIGGERS)


def guard_text(value: str) -> str:
    """``value`` made inert for a spreadsheet: a leading apostrophe before a formula trigger."""
    return "'" + value if looks_like_formula(value) else value


def unguard_text(value: str) -> str:
    """Undo ``guard_text`` (only an apostrophe we could have added is removed)."""
    if value.startswith("'") and looks_like_formula(value[1:]):
        return value[1:]
    return value


def xml_safe(value: str) -> str:
    """``value`` with the control characters a workbook cannot store shown as U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


def report_cell(value: object, limit: int = REPORT_CELL_LIMIT) -> object:
    """A value a report's workbook can always store and a person can open safely: text made
    XML-safe, cut to ``limit`` characters (with a note of the full length) and formula-guarded;
    numbers, booleans and ``None`` as they are."""
    if not isinstance(value, str):
        return value
    text = xml_safe(value)
    if len(text) > limit:
        text = text[: limit - 30] + f"… ({len(value)} characters)"
    return guard_text(text)
