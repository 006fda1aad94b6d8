"""The go-live banner on every page: where am I, what is left, what happens next.

Go-live is one flow with explicit steps – sources read → proposals → reviewed → signed off → first
sync approved → nightly – and the command line and the workbench must say the same. The state is
``passerlink.sync.golive``'s (``read_golive_facts`` → ``golive_status``); this module only words it
for the operator and points at the page that does the next step. One thing the workbench knows
better than the store: how many questions are worth asking still (the review engine's estimate,
the number the Review page shows), so while questions are open that number is the one used.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from passerlink.matching.linkstore import reason_of_note
from passerlink.sync.golive import STEPS, GoLiveFacts, Step, golive_status

__all__ = ["Banner", "Line", "PAGE_OF_ACTION", "banner_of", "reason_of"]

#: The page that does each next action of ``sync.golive.ACTIONS``.
PAGE_OF_ACTION = {
    "read_sources": "sources",
    "propose": "matching",
    "answer_questions": "review",
    "sign_off": "links",
    "approve_first_sync": "sync",
    "schedule_nightly": "sync",
}


@dataclass(frozen=True)
class Line:
    """A sentence for the operator: an i18n key, its values and the page that does it."""

    key: str
    values: dict[str, object] = field(default_factory=dict)
    page: str = ""


@dataclass(frozen=True)
class Banner:
    """What the banner draws: each step with its mark, what is left, the next step."""

    steps: tuple[tuple[str, str], ...]  # (i18n key, "done" | "current" | "later")
    left: tuple[Line, ...]
    next: Line


def banner_of(facts: GoLiveFacts, *, questions_left: int | None = None) -> Banner:
    """The banner for these facts (pure). ``questions_left``: the review engine's estimate, used
    instead of the store's count of open questions whenever questions are open (before the first
    sign-off, and after it when a later matching run stored new ones): the banner and the Review
    page's card then say the same number."""
    if questions_left is not None and (not facts.signoffs or facts.questions):
        facts = replace(facts, questions=int(questions_left))
    status = golive_status(facts)
    steps = tuple((f"step_{s.value}", "done" if s in status.reached else "current" if s is status.next_step
                   else "later") for s in STEPS)
    left = tuple(Line(f"left_{key}", {"n": n}) for key, n in status.left)
    if status.next_step is None:
        return Banner(steps, left, Line("next_done", {}, "sync"))
    key = f"next_{status.action}"
    values: dict[str, object] = {"n": facts.questions, "proposed": facts.proposed}
    if status.next_step is Step.FIRST_SYNC_APPROVED:
        if facts.last_run_status == "stopped":
            key = "next_approve_stopped"
        elif facts.last_plan_id and facts.dry_runs:
            key, values = "next_approve_plan", {"plan": facts.last_plan_id}
        else:
            key = "next_dry_run"
    return Banner(steps, left, Line(key, values, PAGE_OF_ACTION.get(status.action, "")))


#: The link store's reasons (``matching.reason_of_note``) -> i18n key of the sentence that says it.
_REASON_KEYS = {
    "conflict_other_m5": "why_conflict_other_m5",
    "conflict_other_person": "why_conflict_other_person",
    "already_person": "why_already_person",
    "already_m5": "why_already_m5",
    "no_longer_proposed": "why_no_longer",
    "open_at_signoff": "why_unanswered",
}


def reason_of(note: str) -> Line:
    """Why a proposal was removed, as an i18n key: the store reads its own notes back
    (``reason_of_note``); any other note is shown as written."""
    reason, values = reason_of_note(str(note).strip())
    if reason not in _REASON_KEYS:
        return Line("why_other", {"note": str(note)})
    if "person" in values:
        values["person"] = values["person"].replace(":", " ", 1)
    if "signoff" in values:
        values["number"] = values.pop("signoff")
    return Line(_REASON_KEYS[reason], dict(values))
