"""The readers' row problems (``people.RowIssue``, written in English for logs and the command
line) in the operator's words, by pattern: the Sources page lists them in Swedish.

A problem text no pattern knows is shown as it is; ``tests/app/test_swedish.py`` renders the
Sources page over a world with row problems, so a new reader message fails there first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pandas as pd

from passerlink.people import RowIssue

__all__ = ["PROBLEMS", "problem_text", "issue_rows"]

_V = r"(?P<value>.*)"
#: (pattern of the English problem, i18n key): the groups are the key's values.
PROBLEMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?P<problem>impossible date|unrecognised date|birth date in the future) " + _V + r"; left empty$"),
     "issue_date"),
    (re.compile(r"^invalid personnummer " + _V + r"; left out$"), "issue_personnummer"),
    (re.compile(r"^birth date disagrees with the personnummer; both kept$"), "issue_birth_vs_pnr"),
    (re.compile(r"^not an e-mail address; left out$"), "issue_email"),
    (re.compile(r"^no name; row kept$"), "issue_no_name"),
    (re.compile(r"^repeats row (?P<row>\d+) exactly; left out$"), "issue_repeat"),
    (re.compile(r"^text looks like a spreadsheet formula; kept as text$"), "issue_formula_text"),
    (re.compile(r"^text in cell (?P<cell>\S+) looks like a formula; kept as text$"), "issue_formula_text_cell"),
    (re.compile(r"^this and (?P<n>\d+) more cells of the column look like spreadsheet formulas; kept as text$"),
     "issue_formula_text_more"),
    (re.compile(r"^formula in cell (?P<cell>\S+) kept as text$"), "issue_formula_cell"),
    (re.compile(r"^error value in cell (?P<cell>\S+); read as empty$"), "issue_error_cell"),
    (re.compile(r"^(?P<n>\d+) values right of the last header column are ignored$"), "issue_surplus"),
    (re.compile(r"^unit (?P<unit>.*) has no name in the API's organisations$"), "issue_unit_name"),
]
_M5_USER = re.compile(r"^(?P<problem>.*) \(M5 user (?P<m5_id>[^)]*)\)$")
_DATE_WORDS = {"impossible date": "date_impossible", "unrecognised date": "date_unrecognised",
               "birth date in the future": "date_future"}


def problem_text(problem: str, t: Callable[..., str]) -> str:
    """One problem in the operator's language (``t`` is the page's translator)."""
    m5 = _M5_USER.match(problem)
    if m5:
        return t("issue_m5_user", problem=problem_text(m5.group("problem"), t), m5_id=m5.group("m5_id"))
    for pattern, key in PROBLEMS:
        m = pattern.match(problem)
        if m:
            values = m.groupdict()
            if "problem" in values:
                values["problem"] = t(_DATE_WORDS[values["problem"]])
            return t(key, **values)
    return problem


def issue_rows(issues: Iterable[RowIssue], t: Callable[..., str], limit: int = 500) -> pd.DataFrame:
    """``row, column, problem``: the first ``limit`` issues, their problems translated."""
    rows = [{"row": i.row, "column": i.column, "problem": problem_text(i.problem, t)}
            for n, i in enumerate(issues) if n < limit]
    return pd.DataFrame(rows, columns=["row", "column", "problem"])
