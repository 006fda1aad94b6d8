"""Where the go-live day stands, for the banner on every page: where am I, what is left, what next.

Go-live is one flow with explicit states – sources read → proposals → reviewed → signed off →
first sync approved → nightly – and the operator must see it on whichever page they are. The
state comes from what is stored (the link store's proposals, answers and sign-offs; the sync's
reports), never from what a page happens to hold, so a restart or a second tab shows the same.
``flow_state`` is pure over ``FlowFacts``; ``facts_of`` gathers them from a workspace.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from passerlink.config import Config


class _Engine(Protocol):
    def progress(self) -> tuple[int, int]: ...


class _Source(Protocol):
    error: str


class Workspace(Protocol):
    """What ``facts_of`` reads of a ``workspace.Workspace`` (a protocol: the workspace imports
    this module, not the other way round)."""

    config: Config
    engine: _Engine | None

    def loaded(self) -> Sequence[_Source]: ...

    def store_facts(self, max_age: float = 0.0) -> StoreFacts: ...

    def sync_runs(self, since: str) -> tuple[int, bool, bool]: ...

__all__ = ["STAGES", "FlowFacts", "FlowState", "Step", "flow_state", "facts_of", "store_facts", "reason_of"]

#: The go-live states in order (i18n keys ``stage_<name>``).
STAGES = ("sources", "proposals", "reviewed", "signed_off", "approved", "nightly")


@dataclass(frozen=True)
class Step:
    """A sentence for the operator: an i18n key, its values and the page that does it."""

    key: str
    values: dict[str, object] = field(default_factory=dict)
    page: str = ""  # "sources" | "matching" | "review" | "links" | "sync" | ""


@dataclass(frozen=True)
class FlowFacts:
    """What the stored state says (gathered by ``facts_of``; tests build it by hand)."""

    source_problems: int = 0  # sources (or M5) that could not be read
    sources_read: bool = False  # every source and M5 has been read in this process
    proposals: int = 0  # proposals and questions ever stored
    standing_proposals: int = 0  # proposed links waiting for sign-off
    open_questions: int = 0  # questions left to answer (the engine's estimate once it runs)
    answers: int = 0  # operator answers in the store
    withdrawn: int = 0  # proposals withdrawn, each with its reason
    signed_off: bool = False
    decisions_since_signoff: int = 0  # rows written after the last sign-off
    real_runs: int = 0  # sync runs that wrote (not dry runs), finished without a stop
    last_run_stopped: bool = False
    dry_run_seen: bool = False  # a dry run since the last sign-off


@dataclass(frozen=True)
class FlowState:
    """The banner's content: the current stage, what is done, what is left, the next step."""

    stage: str
    done: tuple[str, ...]
    left: tuple[Step, ...]
    next: Step


def _done(stage: str) -> tuple[str, ...]:
    return STAGES[: STAGES.index(stage)]


def flow_state(f: FlowFacts) -> FlowState:
    """The stage the facts put the day in, and the one next step (pure)."""
    if f.source_problems or not (f.sources_read or f.proposals):
        return FlowState("sources", (), (Step("left_sources", {"n": f.source_problems}, "sources"),),
                         Step("next_sources", {}, "sources"))
    if not f.proposals:
        return FlowState("proposals", _done("proposals"), (), Step("next_propose", {}, "matching"))
    if f.real_runs:
        return FlowState("nightly", STAGES[:-1], (), Step("next_nightly", {}, "sync"))
    left: list[Step] = []
    if f.open_questions and not f.signed_off:  # after a sign-off, unanswered questions are "no link"
        left.append(Step("left_questions", {"n": f.open_questions}, "review"))
    if not f.signed_off or f.decisions_since_signoff:
        left.append(Step("left_signoff", {"n": f.standing_proposals}, "links"))
    if f.open_questions and not f.signed_off:
        return FlowState("reviewed", _done("reviewed"), tuple(left), Step("next_review", {"n": f.open_questions}, "review"))
    if not f.signed_off or f.decisions_since_signoff:
        return FlowState("signed_off", _done("signed_off"), tuple(left),
                         Step("next_signoff" if not f.signed_off else "next_signoff_again",
                              {"n": f.standing_proposals, "since": f.decisions_since_signoff}, "links"))
    left.append(Step("left_first_sync", {}, "sync"))
    key = "next_approve" if f.dry_run_seen else "next_dry_run"
    if f.last_run_stopped:
        key = "next_approve_stopped"
    return FlowState("approved", _done("approved"), tuple(left), Step(key, {}, "sync"))


@dataclass(frozen=True)
class StoreFacts:
    """What the link store says about the day, read from its history (see ``store_facts``)."""

    proposals: int = 0
    standing_proposals: int = 0
    standing_questions: int = 0
    withdrawn: int = 0
    answers: int = 0
    answers_since_signoff: int = 0
    signed_off_at: str = ""


#: Decisions an operator writes (answers, hand links, undo): what makes a sign-off out of date.
_OPERATOR_ROWS = ("confirmed", "rejected", "unsure", "manual", "unlinked", "undone")


def store_facts(history: pd.DataFrame, proposals: pd.DataFrame, signed_off_at: str) -> StoreFacts:
    """Counts from ``LinkStore.history()``, ``LinkStore.proposals()`` and the last sign-off's time."""
    if len(proposals):
        state = proposals["state"].astype(str)
        standing, questions, withdrawn = ((state == k).sum() for k in ("proposed", "question", "withdrawn"))
    else:
        standing = questions = withdrawn = 0
    operator = history[history["decision"].astype(str).isin(_OPERATOR_ROWS)] if len(history) else history
    since = int((operator["at"].astype(str) > signed_off_at).sum()) if signed_off_at and len(operator) else 0
    return StoreFacts(len(proposals), int(standing), int(questions), int(withdrawn), len(operator), since,
                      signed_off_at)


def runs_in(report_dir: Path, since: str) -> tuple[int, bool, bool]:
    """(finished real runs, last real run stopped, a dry run after ``since``) from saved reports."""
    from passerlink.errors import PasserlinkError
    from passerlink.sync.report import list_reports, load_report

    real, stopped, dry = 0, False, False
    for path in list_reports(report_dir):
        try:
            r = load_report(path)
        except PasserlinkError:
            continue
        if r.get("dry_run"):
            dry = dry or str(r.get("started", "")) >= since
            continue
        ok = r.get("status") in ("ok", "success", "done") or r.get("exit_code") == 0
        real += bool(ok)
        stopped = not ok
    return real, stopped, dry


def facts_of(ws: Workspace, *, max_age: float = 0.0) -> FlowFacts:
    """The facts for ``flow_state`` from a workspace: its link store (``max_age``: see
    ``Workspace.store_facts``), its engine (if built: the questions left are its estimate, the
    number the Review page shows), the sources loaded so far (never reads one) and the sync's
    saved reports."""
    loaded = ws.loaded()
    problems = sum(1 for s in loaded if s.error)
    expected = len(ws.config.sources) + (ws.config.m5 is not None)
    sf = ws.store_facts(max_age)
    questions = ws.engine.progress()[1] if ws.engine is not None else sf.standing_questions
    real, stopped, dry = ws.sync_runs(sf.signed_off_at)
    needs_signoff = sf.answers_since_signoff + (sf.standing_proposals if sf.signed_off_at else 0)
    return FlowFacts(problems, len(loaded) >= expected and not problems, sf.proposals, sf.standing_proposals,
                     questions, sf.answers, sf.withdrawn, bool(sf.signed_off_at), needs_signoff, real, stopped,
                     dry and bool(sf.signed_off_at))


#: The link store's withdrawal notes (``LinkStore.propose`` / ``record``) -> i18n key and values.
_REASONS = [
    (re.compile(r"^(?P<person>\S+:\S+) was linked to M5 user (?P<m5_id>\S+) instead"), "why_conflict_other_m5"),
    (re.compile(r"^M5 user (?P<m5_id>\S+) was linked to (?P<person>\S+:\S+) instead"), "why_conflict_other_person"),
    (re.compile(r"^(?P<person>\S+:\S+) is already linked to M5 user (?P<m5_id>\S+)"), "why_already_person"),
    (re.compile(r"^M5 user (?P<m5_id>\S+) is already linked to (?P<person>\S+:\S+)"), "why_already_m5"),
    (re.compile(r"^no longer proposed by model (?P<model>.*)$"), "why_no_longer"),
]


def reason_of(note: str) -> Step:
    """Why a proposal was removed, as an i18n key (the store writes its reasons in English)."""
    for pattern, key in _REASONS:
        m = pattern.search(str(note).strip())
        if m:
            return Step(key, {k: v.replace(":", " ", 1) if k == "person" else v for k, v in m.groupdict().items()})
    return Step("why_other", {"note": str(note)})
