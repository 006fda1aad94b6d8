"""Candidate generation, classifier, active learning, one-to-one assignment and the link store."""

from passerlink.matching.linkstore import DECISIONS, LINK_DECISIONS, Decision, LinkStore

__all__ = ["DECISIONS", "LINK_DECISIONS", "Decision", "LinkStore"]
