"""Candidate generation, the link model, the operator conversation, assignment and the link store.

The names below are loaded on first use (PEP 562): a command that only reads the link store
(``passerlink links``, the workbench's link table) does not pay for pandas' and rapidfuzz's
matching machinery at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, for type checkers and readers
    from passerlink.matching.assignment import assign_one_to_one
    from passerlink.matching.candidates import CandidatePairs, blocking_recall, generate_candidates
    from passerlink.matching.driver import MatchRun, ask_operator, oracle_from_pairs, run_matching
    from passerlink.matching.evaluation import evaluate
    from passerlink.matching.linkstore import (
        DECISIONS,
        LINK_DECISIONS,
        OPERATOR_DECISIONS,
        PROPOSAL_DECISIONS,
        Decision,
        LinkDecision,
        LinkStore,
        SignOff,
    )
    from passerlink.matching.registers import RegisterMatch, link_new_people, match_registers
    from passerlink.matching.session import MatchSession

#: exported name -> the module of this package that defines it
_EXPORTS = {
    "DECISIONS": "linkstore",
    "LINK_DECISIONS": "linkstore",
    "OPERATOR_DECISIONS": "linkstore",
    "PROPOSAL_DECISIONS": "linkstore",
    "Decision": "linkstore",
    "LinkDecision": "linkstore",
    "LinkStore": "linkstore",
    "SignOff": "linkstore",
    "LinkModel": "model",
    "MatchSession": "session",
    "RegisterMatch": "registers",
    "match_registers": "registers",
    "link_new_people": "registers",
    "MatchRun": "driver",
    "run_matching": "driver",
    "ask_operator": "driver",
    "oracle_from_pairs": "driver",
    "CandidatePairs": "candidates",
    "assign_one_to_one": "assignment",
    "blocking_recall": "candidates",
    "evaluate": "evaluation",
    "generate_candidates": "candidates",
}

__all__ = [
    "DECISIONS",
    "LINK_DECISIONS",
    "OPERATOR_DECISIONS",
    "PROPOSAL_DECISIONS",
    "Decision",
    "LinkDecision",
    "LinkStore",
    "SignOff",
    "LinkModel",
    "MatchSession",
    "RegisterMatch",
    "match_registers",
    "link_new_people",
    "MatchRun",
    "run_matching",
    "ask_operator",
    "oracle_from_pairs",
    "CandidatePairs",
    "assign_one_to_one",
    "blocking_recall",
    "evaluate",
    "generate_candidates",
]  # = the keys of _EXPORTS (tests/matching/test_public_api.py)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
