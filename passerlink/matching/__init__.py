"""Candidate generation, classifier, active learning, one-to-one assignment and the link store."""

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

__all__ = [
    "DECISIONS",
    "LINK_DECISIONS",
    "OPERATOR_DECISIONS",
    "PROPOSAL_DECISIONS",
    "Decision",
    "LinkDecision",
    "LinkStore",
    "SignOff",
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
]
