"""Where go-live day stands: one state machine, the same on the command line and in the workbench.

    sources read -> proposals -> reviewed -> signed off -> first sync approved -> nightly

The state is not kept anywhere of its own: it is a pure function (``golive_status``) of facts read
from the link store and the sync's state (``read_golive_facts``), so the command line, every
workbench page and a script that asks see the same step, what is left and what happens next.

- **sources read**: every configured register is there to read (a file source's file exists).
- **proposals**: the joint matching stored its proposals (``links propose`` or the workbench), or
  an operator imported a link table.
- **reviewed**: no open question is left (answered, or settled by another answer).
- **signed off**: the reviewed set was turned into links in one recorded step, and no proposal
  has been stored since that still waits for a sign-off.
- **first sync approved**: a real sync run finished (its plan approved after a dry run, or forced
  past the mass-change rules by a script).
- **nightly**: a later run finished too: the nightly sync keeps M5 in line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from passerlink.config import Config
from passerlink.m5 import M5Client
from passerlink.matching.linkstore import LINK_DECISIONS, Decision, LinkStore
from passerlink.sync.approval import latest_plan_id, plans_folder
from passerlink.sync.engine import SyncResult, run_sync, sync_paths
from passerlink.sync.journal import SyncState

__all__ = ["Step", "STEPS", "ACTIONS", "GoLiveFacts", "GoLiveStatus", "golive_status", "read_golive_facts",
           "read_golive_status", "status_lines", "plan_first_sync", "run_approved_plan"]


class Step(StrEnum):
    """The steps of go-live day, in order."""

    SOURCES_READ = "sources_read"
    PROPOSALS = "proposals"
    REVIEWED = "reviewed"
    SIGNED_OFF = "signed_off"
    FIRST_SYNC_APPROVED = "first_sync_approved"
    NIGHTLY = "nightly"


STEPS: tuple[Step, ...] = tuple(Step)

#: What an operator does to reach each step (a key the workbench translates; the CLI line).
ACTIONS: dict[Step, tuple[str, str]] = {
    Step.SOURCES_READ: ("read_sources", "put the register files where [[sources]] says (passerlink extract)"),
    Step.PROPOSALS: ("propose", "passerlink links propose --config {config}"),
    Step.REVIEWED: ("answer_questions", "answer the open questions in the workbench (Granska), or export "
                                        "them: passerlink links export --config {config} --out links.xlsx; "
                                        "when asking no longer pays off, sign off with the rest open (no "
                                        "link; the sync queues those people): passerlink links signoff "
                                        "--config {config}"),
    Step.SIGNED_OFF: ("sign_off", "passerlink links signoff --config {config}"),
    Step.FIRST_SYNC_APPROVED: ("approve_first_sync", "passerlink sync --config {config} --dry-run, then "
                                                      "passerlink sync --config {config} --approve PLAN_ID"),
    Step.NIGHTLY: ("schedule_nightly", "schedule passerlink sync --config {config} every night "
                                       "(see passerlink sync --help)"),
}


@dataclass(frozen=True)
class GoLiveFacts:
    """What the link store and the sync state say, counted; ``golive_status`` needs nothing else."""

    sources: tuple[str, ...] = ()
    missing_sources: tuple[str, ...] = ()
    #: auto-link proposals waiting for sign-off
    proposed: int = 0
    #: open questions (asked by the model, not answered)
    questions: int = 0
    #: proposals a conflict or a later answer removed
    withdrawn: int = 0
    #: every pair the model ever proposed or asked about
    ever_proposed: int = 0
    #: current links (auto after sign-off, confirmed, manual)
    links: int = 0
    #: operator answers standing (confirmed, rejected, unsure, manual, unlinked)
    answers: int = 0
    signoffs: int = 0
    last_signoff_by: str = ""
    last_signoff_at: str = ""
    #: dry runs finished, and the id of the latest stored plan ("" before the first)
    dry_runs: int = 0
    last_plan_id: str = ""
    #: real (not dry) runs that finished "done"
    done_runs: int = 0
    last_run_status: str = ""
    #: people the sync sent to the operator's review queue (pending)
    queued: int = 0


@dataclass(frozen=True)
class GoLiveStatus:
    """Where go-live stands: the last step reached, what is left, and what to do next."""

    step: Step | None
    reached: tuple[Step, ...]
    next_step: Step | None
    #: a key for the next action (``ACTIONS``), "" when go-live is done
    action: str
    #: the command line that does it ("" when go-live is done)
    command: str
    #: what is left, as (key, count): open_questions, proposals_to_sign, review_queue, missing_sources
    left: tuple[tuple[str, int], ...] = ()
    facts: GoLiveFacts = field(default_factory=GoLiveFacts)

    @property
    def done(self) -> bool:
        return self.step is Step.NIGHTLY


def golive_status(facts: GoLiveFacts, *, config_name: str = "F") -> GoLiveStatus:
    """The go-live state of these facts (pure: no file, no clock)."""
    reached_now = {
        Step.SOURCES_READ: bool(facts.sources) and not facts.missing_sources,
        Step.PROPOSALS: facts.ever_proposed > 0 or facts.links > 0 or facts.answers > 0,
        Step.REVIEWED: facts.questions == 0,
        Step.SIGNED_OFF: facts.signoffs > 0 and facts.proposed == 0,
        Step.FIRST_SYNC_APPROVED: facts.done_runs >= 1,
        Step.NIGHTLY: facts.done_runs >= 2,
    }
    reached: list[Step] = []
    for candidate in STEPS:  # a step counts only when every step before it holds too
        if not reached_now[candidate]:
            break
        reached.append(candidate)
    step = reached[-1] if reached else None
    next_step = STEPS[len(reached)] if len(reached) < len(STEPS) else None
    left = [(key, n) for key, n in (("missing_sources", len(facts.missing_sources)),
                                    ("open_questions", facts.questions),
                                    ("proposals_to_sign", facts.proposed),
                                    ("review_queue", facts.queued)) if n]
    action, command = ("", "") if next_step is None else ACTIONS[next_step]
    if next_step is Step.FIRST_SYNC_APPROVED and facts.last_plan_id and facts.last_run_status == "dry_run":
        command = (f"passerlink sync --config {{config}} --approve {facts.last_plan_id} (the last dry run's plan; "
                   "a plan that changed since stops and says how)")
    return GoLiveStatus(step=step, reached=tuple(reached), next_step=next_step, action=action,
                        command=command.format(config=config_name), left=tuple(left), facts=facts)


def read_golive_facts(config: Config) -> GoLiveFacts:
    """Count the facts of ``config``'s link store and sync state (reads both, writes nothing new)."""
    sources = tuple(s.name for s in config.sources)
    missing = tuple(s.name for s in config.sources if _missing(getattr(s, "path", None)))
    store = LinkStore(config.link_store.path)
    cur = store.current()
    decided = cur["decision"].value_counts().to_dict() if len(cur) else {}
    ever = store.proposals()
    last = store.last_signoff()
    answers = sum(int(decided.get(d.value, 0)) for d in (Decision.CONFIRMED, Decision.REJECTED, Decision.UNSURE,
                                                         Decision.MANUAL, Decision.UNLINKED))
    state_path = sync_paths(config)[1]
    runs_done = dry_runs = queued = 0
    last_status = last_plan = ""
    if state_path.exists():
        with SyncState(state_path) as state:
            runs = state.runs()
            queued = len(state.review_queue())
        real = runs[runs["dry_run"] == 0]
        runs_done = int((real["status"] == "done").sum())
        dry_runs = int(((runs["dry_run"] == 1) & (runs["status"] == "dry_run")).sum())
        last_status = str(runs["status"].iloc[-1]) if len(runs) else ""
        last_plan = latest_plan_id(plans_folder(state_path))
    return GoLiveFacts(
        sources=sources, missing_sources=missing,
        proposed=int(decided.get(Decision.PROPOSED.value, 0)),
        questions=int(decided.get(Decision.QUESTION.value, 0)),
        withdrawn=int(decided.get(Decision.WITHDRAWN.value, 0)),
        ever_proposed=len(ever),
        links=sum(int(decided.get(d.value, 0)) for d in LINK_DECISIONS),
        answers=answers,
        signoffs=len(store.signoffs()),
        last_signoff_by=last.who if last else "", last_signoff_at=last.at if last else "",
        dry_runs=dry_runs, last_plan_id=last_plan, done_runs=runs_done, last_run_status=last_status,
        queued=queued,
    )


def read_golive_status(config: Config) -> GoLiveStatus:
    """``golive_status(read_golive_facts(config))``: what the workbench shows on every page."""
    name = config.config_path.name if config.config_path else "F"
    return golive_status(read_golive_facts(config), config_name=name)


def _missing(path: Path | None) -> bool:
    return path is not None and not Path(path).exists()


_STEP_TEXT = {
    Step.SOURCES_READ: "sources read",
    Step.PROPOSALS: "proposals",
    Step.REVIEWED: "reviewed",
    Step.SIGNED_OFF: "signed off",
    Step.FIRST_SYNC_APPROVED: "first sync approved",
    Step.NIGHTLY: "nightly",
}
_LEFT_TEXT = {
    "missing_sources": "register files missing",
    "open_questions": "open questions to answer",
    "proposals_to_sign": "proposed links waiting for sign-off",
    "review_queue": "people in the sync's review queue",
}


def status_lines(status: GoLiveStatus) -> list[str]:
    """The status in English lines, for the command line (the workbench translates the keys)."""
    f = status.facts
    marks = [("[x] " if s in status.reached else ("[>] " if s is status.next_step else "[ ] ")) + _STEP_TEXT[s]
             for s in STEPS]
    out = ["go-live: " + " -> ".join(_STEP_TEXT[s] for s in STEPS), *marks]
    out.append(f"where: {_STEP_TEXT[status.step] if status.step else 'not started'}")
    out.append(f"links: {f.links}; proposals waiting: {f.proposed}; open questions: {f.questions}; "
               f"withdrawn proposals: {f.withdrawn}; operator answers: {f.answers}")
    if f.signoffs:
        out.append(f"signed off {f.signoffs} time(s), last by {f.last_signoff_by} at {f.last_signoff_at}")
    if f.dry_runs or f.done_runs:
        out.append(f"sync runs: {f.dry_runs} dry, {f.done_runs} done; last plan: {f.last_plan_id or '-'}")
    if f.missing_sources:
        out.append(f"missing register files: {', '.join(f.missing_sources)}")
    out.append("left: " + ("; ".join(f"{n} {_LEFT_TEXT[k]}" for k, n in status.left) if status.left else "nothing"))
    out.append(f"next: {status.command}" if status.command else "next: nothing – the nightly sync keeps M5 in line")
    return out


# ---- the first sync, for the workbench's Synk page and scripts ---------------------------------
def plan_first_sync(config: Config, *, m5_url: str | None = None, client: M5Client | None = None) -> SyncResult:
    """A dry run: the plan is stored and its id is in ``result.report["plan_id"]``; the rules it
    would go past are in ``result.report["needs_approval"]`` (show them, then offer approval)."""
    return run_sync(config, dry_run=True, m5_url=m5_url, client=client)


def run_approved_plan(config: Config, plan_id: str, *, m5_url: str | None = None,
                      client: M5Client | None = None) -> SyncResult:
    """Run exactly the plan ``plan_id`` past the mass-change rules. If the fresh plan differs, the
    run stops (``exit_code`` 3) with ``report["plan_difference"]``; who approved is in
    ``report["approval"]``."""
    return run_sync(config, approve=plan_id, m5_url=m5_url, client=client)
