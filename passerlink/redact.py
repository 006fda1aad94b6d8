"""Personnummer out of free text: one pattern for messages, reports and every log line.

A personnummer reaches free text by accident – typed into a name field, echoed in an M5 error,
quoted in a message about a row – so anything that looks like one (six or eight digits, an
optional ``-``/``+``/space, four digits, not inside a longer digit run) is masked to its date
part, ``19800101-****``: enough for a person to recognise, not enough to identify. The CLI puts
``PersonnummerLogFilter`` on its log handler, so no command logs one unmasked.
"""

from __future__ import annotations

import logging
import re

__all__ = ["PNR_LIKE", "mask_text", "PersonnummerLogFilter", "mask_logs"]

#: A personnummer-like digit run in free text.
PNR_LIKE = re.compile(r"(?<!\d)(?:\d{8}|\d{6})[-+ ]?\d{4}(?!\d)")


def _masked(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return digits[:-4] + "-****"  # the same form as features.mask_personnummer


def mask_text(value: str) -> str:
    """Free text with every personnummer-like digit run masked ('19800101-****')."""
    return PNR_LIKE.sub(_masked, value)


class PersonnummerLogFilter(logging.Filter):
    """Masks personnummer-like digit runs in every log record a handler writes (a message
    quoting a register value, an M5 error echoing a name)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_logs(logger: logging.Logger | None = None) -> None:
    """Put ``PersonnummerLogFilter`` on every handler of ``logger`` (default: the root logger,
    where the CLI's handler is); calling it again adds nothing."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, PersonnummerLogFilter) for f in handler.filters):
            handler.addFilter(PersonnummerLogFilter())
