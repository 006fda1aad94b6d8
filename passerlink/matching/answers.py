"""The operator's answer per candidate pair, as the session keeps it: one small integer per pair.

The session holds answers in an ``int8`` array (vectorised over millions of pairs); ``Answer``
names its values, and ``DECISION_OF_ANSWER`` gives the link store's ``Decision`` each stands for.
"""

from __future__ import annotations

from enum import IntEnum

from passerlink.matching.linkstore import Decision

__all__ = ["Answer", "DECISION_OF_ANSWER"]


class Answer(IntEnum):
    """What the operator said about a pair (``OPEN``: nothing yet, or taken back)."""

    OPEN = 0
    YES = 1
    NO = 2
    UNSURE = 3


#: The link store's decision for each answer (an open pair has none).
DECISION_OF_ANSWER: dict[Answer, Decision | None] = {
    Answer.OPEN: None,
    Answer.YES: Decision.CONFIRMED,
    Answer.NO: Decision.REJECTED,
    Answer.UNSURE: Decision.UNSURE,
}
