"""One sync run, start to end: read -> desired -> plan -> safety -> apply -> report.

Each step is a function of its own module; this one only strings them together, holds the run
lock, and makes sure that every run – dry, stopped, failed, crashed or done – ends with a report
(written in a ``finally``) and a closed run in the state database, and an exit code: 0 done,
1 failed, 2 bad input or config (an unreachable M5 included), 3 stopped by a safety rule.

Before anything is written: the report folder must be writable (else exit 2 at once);
``verify_tls = false`` is a warning in the report and the log; a damaged register stops the run
(exit 3) before anything is planned; and a source with more new people than twenty times the
creates limit stops it before the plan is built (``new_people:<source>``), so a wrong
million-row file costs the time of reading it. Memory stays bounded: the report's changes are
made from the plan when the report is written (``PlannedOps``).
"""

from __future__ import annotations

import datetime as _dt
import getpass
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import pandas as pd

from passerlink.errors import (
    InputError,
    M5UnavailableError,
    PasserlinkError,
    SafetyStop,
    SourceError,
)
from passerlink.people import PeopleTable

if TYPE_CHECKING:
    from passerlink.config import Config
    from passerlink.m5 import M5Client
    from passerlink.policy import SyncPolicy
    from passerlink.sync.apply import ApplyResult, Outcome
    from passerlink.sync.current import CurrentState
    from passerlink.sync.desired import DesiredState
    from passerlink.sync.journal import SyncState
    from passerlink.sync.keys import Keyer
    from passerlink.sync.planner import Op, Plan, PlanContext

__all__ = ["SyncResult", "run_sync", "sync_paths", "op_to_dict", "read_m5_state", "TLS_OFF_WARNING",
           "shorten", "failure_text"]

log = logging.getLogger(__name__)

#: Blankings listed in the report (all are counted; a damaged export can blank a field of everyone).
BLANKINGS_LISTED = 1000

#: Written in the report and the log of every run whose [m5] turns certificate checks off.
TLS_OFF_WARNING = (
    "verify_tls = false in [m5]: the M5 server's TLS certificate is NOT verified, so anyone between "
    "this machine and M5 can read the M5 credentials and change what is written; give the site's CA "
    "with ca_file instead"
)


@dataclass
class SyncResult:
    exit_code: int
    status: str  # done | dry_run | stopped | failed
    report: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)
    plan: Plan | None = None
    apply: ApplyResult | None = None


def sync_paths(config: Config) -> tuple[Path, Path, Path]:
    """(report folder, state database, lock file), relative paths resolved against the config."""
    base = config.config_path.parent if config.config_path else Path.cwd()
    policy = config.sync

    def res(p: Path) -> Path:
        p = Path(p).expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    state = res(policy.state_db)
    return res(policy.report_dir), state, state.with_name(state.name + ".lock")


#: Optional attributes of an operation, in report order, and how each is written.
_OP_EXTRAS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("fields", dict), ("add_groups", sorted), ("remove_groups", sorted), ("block_cards", list),
    ("unblock_cards", list), ("message", str), ("probability", lambda p: round(float(p), 4)),
    ("gone_since", str), ("name", str),
)


#: Longest label or value a report line or message shows before it gives the length instead.
SHOWN_LIMIT = 120


def shorten(text: str, limit: int = SHOWN_LIMIT) -> str:
    """``text``, or its start and its length when it is longer than ``limit``."""
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def failure_text(op: Op, error: str) -> str:
    """M5's refusal of an operation as the report says it: an over-long value is named by its
    field and length, never repeated (a 10,000-character name once filled the terminal)."""
    values: dict[str, str] = {c.field: str(c.after) for c in getattr(op, "changes", None) or []}
    values.update({k: str(v) for k, v in (getattr(op, "fields", None) or {}).items()})
    long = {f: v for f, v in values.items() if len(v) > SHOWN_LIMIT}
    for f, v in long.items():
        error = error.replace(v, f"<the {len(v)}-character value of {f}>")
    if long:
        error += " (" + ", ".join(f"{f} has {len(v)} characters" for f, v in long.items()) + ")"
    return shorten(error, 4 * SHOWN_LIMIT)


def op_to_dict(op: Op, *, status: str = "planned", error: str = "", notes: list[str] | None = None,
               m5_id: str | None = None) -> dict[str, Any]:
    """One planned (or applied) operation as the report shows it; empty attributes left out."""
    d: dict[str, Any] = {
        "kind": op.kind, "situation": op.situation, "label": shorten(op.label),
        "key": list(op.key) if op.key else None, "m5_id": m5_id or op.m5_id, "protected": op.protected,
        "status": status,
    }
    changes = getattr(op, "changes", None)
    if changes:
        d["changes"] = [{"field": c.field, "before": c.before, "after": c.after} for c in changes]
    for attr, write in _OP_EXTRAS:
        value = getattr(op, attr, None)
        if value:
            d[attr] = write(value)
    if error:
        d["error"] = failure_text(op, error)
    if notes:
        d["notes"] = list(notes)
    return d


class PlannedOps(Sequence[dict[str, Any]]):
    """A plan's operations as report dicts (``op_to_dict``, with their outcomes once applied), each
    made when it is read: the report of a huge plan does not hold the plan a second time. Reads
    like the list it stands for (iteration, ``len``, indexing, ``==``)."""

    def __init__(self, ops: Sequence[Op], outcomes: Mapping[int, Outcome] | None = None) -> None:
        self._ops = ops
        self._outcomes = outcomes  # after apply: each operation's outcome, by id() of the planned op

    def _dict(self, op: Op) -> dict[str, Any]:
        if self._outcomes is None:
            return op_to_dict(op)
        o = self._outcomes.get(id(op))
        if o is None:
            return op_to_dict(op, status="planned" if op.writes else "reported")
        return op_to_dict(o.op or op, status=o.status, error=o.error, notes=o.notes, m5_id=o.m5_id)

    def __len__(self) -> int:
        return len(self._ops)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._dict(op) for op in self._ops[index]]
        return self._dict(self._ops[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self._dict(op) for op in self._ops)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


class _CachedUsers:
    """``read_m5`` wants a client with ``list_users``; hand it the users we already have."""

    def __init__(self, users: list[dict[str, Any]]) -> None:
        self._users = users

    def list_users(self) -> list[dict[str, Any]]:
        return self._users


def read_m5_state(client: M5Client, marker_field: str) -> tuple[CurrentState, list[dict[str, Any]]]:
    """The current state and the raw user list."""
    from passerlink.sync.current import current_from_m5

    users = client.list_users()
    departments = client.list_departments()
    usergroups = client.list_usergroups()
    accessgroups = client.list_accessgroups()
    return current_from_m5(users, departments=departments, usergroups=usergroups, accessgroups=accessgroups,
                           marker_field=marker_field), users


def run_sync(
    config: Config,
    *,
    dry_run: bool = False,
    allow_mass_changes: bool = False,
    m5_url: str | None = None,
    source_paths: Mapping[str, Path] | None = None,
    client: M5Client | None = None,
    today: _dt.date | None = None,
    before_apply: Callable[[Plan], None] | None = None,
    approve: str | None = None,
) -> SyncResult:
    """Run the sync once. ``client`` (an ``M5Client``) is made from ``[m5]`` when not given;
    ``approve`` is the id of a plan a dry run stored: the run goes past the mass-change rules only
    if its fresh plan is exactly that one (``sync.approval``);
    ``before_apply(plan)`` is called between the safety check and the first write (tests use it
    to change M5 behind the engine's back).

    Every run leaves a report: it is written in a ``finally``, whatever happened – a safety stop,
    an M5 failure, or a step that crashed (then the run is closed as failed, exit 1, and the
    report says what broke). Only a report folder that cannot be written stops the run before
    anything else (exit 2), because then no report could be left."""
    from passerlink.redact import mask_logs
    from passerlink.sync.lock import RunLock
    from passerlink.sync.report import check_report_dir

    mask_logs()
    report_dir, _state_path, lock_path = sync_paths(config)
    check_report_dir(report_dir)
    run = _Run(config=config, report=_new_report(config, dry_run, allow_mass_changes), dry_run=dry_run,
               allow=allow_mass_changes, m5_url=m5_url, source_paths=source_paths or {},
               today=today or _dt.date.today(), before_apply=before_apply, approve=approve)
    _warn_settings(run)
    lock = None if dry_run else RunLock(lock_path).acquire()
    t0 = time.perf_counter()
    try:
        _run_logged(run, client)
    finally:
        try:
            _finish(run, report_dir, time.perf_counter() - t0)
        finally:
            if lock is not None:
                lock.release()
    return run.result


@dataclass
class _Run:
    """What one run knows and has found so far (the steps below read and fill it)."""

    config: Config
    report: dict[str, Any]
    dry_run: bool
    allow: bool
    m5_url: str | None
    source_paths: Mapping[str, Path]
    today: _dt.date
    before_apply: Callable[[Plan], None] | None
    approve: str | None
    run_id: str = ""
    state: SyncState | None = None
    result: SyncResult = field(init=False)

    def __post_init__(self) -> None:
        self.run_id = str(self.report["run_id"])
        self.result = SyncResult(exit_code=1, status="failed", report=self.report)

    @property
    def policy(self) -> SyncPolicy:
        return self.config.sync

    def end(self, exit_code: int, status: str) -> None:
        self.result.exit_code, self.result.status = exit_code, status


@dataclass
class _Planned:
    """The plan of a run and what it was made from (apply needs all of it)."""

    plan: Plan
    desired: DesiredState
    current: CurrentState
    context: PlanContext
    unsearched: bool = False  # new people were not looked for in M5 (see _matcher_limit)


def _new_report(config: Config, dry_run: bool, allow_mass_changes: bool) -> dict[str, Any]:
    started = _dt.datetime.now().astimezone()
    return {
        "run_id": uuid.uuid4().hex, "started": started.isoformat(timespec="milliseconds"), "dry_run": dry_run,
        "config": str(config.config_path or ""), "allow_mass_changes": allow_mass_changes,
        "sources": {}, "counts": {}, "changes": [], "errors": [], "safety": [], "m5_writes": 0,
        "manual_left_alone": 0, "user": _user(), "warnings": [],
    }


def _warn_settings(run: _Run) -> None:
    """Settings that weaken a safeguard are said in every run's report and log, never silent."""
    m5 = run.config.m5
    if m5 is not None and not m5.verify_tls:
        run.report["warnings"].append(TLS_OFF_WARNING)
        log.warning("%s", TLS_OFF_WARNING)


def _run_logged(run: _Run, client: M5Client | None) -> None:
    """The run's steps; every way they can end is turned into the result and the report."""
    from passerlink.redact import mask_text
    from passerlink.sync.journal import SyncState

    report = run.report
    try:
        run.state = SyncState(sync_paths(run.config)[1])
        run.state.start_run(run.run_id, dry_run=run.dry_run)
        _run(run, client)
    except PasserlinkError as exc:
        run.end(exc.exit_code, "stopped" if exc.exit_code == 3 else "failed")
        report["stop_reason"] = str(exc)
        report["m5_unreachable"] = isinstance(exc, M5UnavailableError)
        if not isinstance(exc, InputError | SafetyStop):
            report["errors"].append({"label": "", "kind": "run", "message": str(exc)})
    except Exception as exc:  # noqa: BLE001 - a crashed step still leaves a report and a closed run
        run.end(1, "failed")
        what = mask_text(f"{type(exc).__name__}: {exc}")[:500]
        report["stop_reason"] = f"the run stopped on an unexpected error ({what}); see the log"
        report["errors"].append({"label": "", "kind": "run", "message": what})
        log.error("sync run %s crashed: %s", run.run_id[:8], what)
        log.debug("traceback of the crash", exc_info=True)


def _finish(run: _Run, report_dir: Path, seconds: float) -> None:
    """Write the report, close the run in the state database, prune old reports and journal."""
    from passerlink.sync.report import prune_reports, write_reports

    report, result, policy = run.report, run.result, run.policy
    report["status"] = result.status
    report["exit_code"] = result.exit_code
    report["finished"] = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    report["duration_seconds"] = round(seconds, 3)
    try:
        result.paths = write_reports(report, report_dir)
        report["files"] = {k: str(v) for k, v in result.paths.items()}
        prune_reports(report_dir, policy.report_keep_days)
    except Exception as exc:  # noqa: BLE001 - the state must still be closed below
        log.error("could not write the sync report: %s", exc)
    state = run.state
    if state is None:
        return
    try:
        state.finish_run(run.run_id, result.status, source_counts=report.get("sources"),
                         stats={"counts": report.get("counts"), "m5_writes": report.get("m5_writes")},
                         report=str(result.paths.get("json", "")))
        cutoff = _dt.datetime.now(_dt.UTC) - _dt.timedelta(days=policy.report_keep_days)
        state.prune_journal(cutoff.isoformat(timespec="microseconds"))
    finally:
        state.close()


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _read_sources(config: Config, source_paths: Mapping[str, Path]) -> tuple[dict[str, PeopleTable],
                                                                           list[tuple[str, str]]]:
    from passerlink.sources import read_source

    unknown = sorted(set(source_paths) - {s.name for s in config.sources})
    if unknown:
        raise InputError(
            f"--source {unknown[0]}=...: no source named {unknown[0]!r} in {config.config_path} "
            f"(known: {', '.join(s.name for s in config.sources)})"
        )
    tables: dict[str, PeopleTable] = {}
    failed: list[tuple[str, str]] = []
    for spec in config.sources:
        if spec.name in source_paths:
            spec = spec.model_copy(update={"path": Path(source_paths[spec.name]).resolve()})
        try:
            tables[spec.name] = read_source(spec, config_path=config.config_path)
        except SourceError as exc:
            failed.append((spec.name, str(exc)))
    return tables, failed


def _links(config: Config) -> tuple[pd.DataFrame, set[tuple[str, str, str]]]:
    from passerlink.matching import LinkStore

    store = LinkStore(config.link_store.path)
    links = store.links()
    cur = store.current()
    rejected = {(str(s), str(i), str(m)) for s, i, m, d in
                zip(cur["source"], cur["source_id"], cur["m5_id"], cur["decision"], strict=True) if d == "rejected"}
    return links, rejected


def _run(run: _Run, client: M5Client | None) -> None:
    """read -> M5 -> plan -> safety -> apply -> remember, each step a function below."""
    _check_request(run, client)
    tables, keyer = _read_registers(run)
    own_client = client is None
    m5 = client if client is not None else _connect(run)
    try:
        planned = _make_plan(run, m5, tables, keyer)
        _record_plan(run, planned.plan)
        # 4. safety before the first write (a dry run ends there, its plan stored under an id)
        assert run.state is not None
        if _safety_gate(run.config, planned.plan, run.policy, run.state, run.report, run.result,
                        dry_run=run.dry_run, allow=run.allow, approve=run.approve):
            return
        if planned.unsearched:  # never write a plan whose new people were not looked for in M5
            run.end(3, "stopped")
            raise SafetyStop(run.report["warnings"][-1])
        applied = _apply(run, m5, planned)
        _remember(run, planned, applied)
    finally:
        if own_client:
            m5.close()


def _check_request(run: _Run, client: M5Client | None) -> None:
    from passerlink.errors import ConfigError

    config = run.config
    if config.m5 is None and client is None:
        raise ConfigError(f"{config.config_path}: the sync needs an [m5] section")
    if run.m5_url is not None and not run.m5_url.startswith(("http://", "https://")):
        raise InputError(f"--m5-url {run.m5_url!r} is not an http(s) URL")


def _read_registers(run: _Run) -> tuple[dict[str, PeopleTable], Keyer]:
    """1. Every register, whole: an unreadable or damaged one is a safety stop (exit 3) before
    anything is planned, never a partial sync."""
    from passerlink.sync.keys import key_registers, keyer_for
    from passerlink.sync.safety import raise_if_unsafe, source_unreadable

    report = run.report
    tables, failed = _read_sources(run.config, run.source_paths)
    report["sources"] = {name: len(t) for name, t in tables.items()}
    report["source_issues"] = {name: len(t.issues) for name, t in tables.items()}
    if failed:
        report["safety"] = [source_unreadable(name, why).to_dict() for name, why in failed]
        run.end(3, "stopped")
        raise_if_unsafe([source_unreadable(name, why) for name, why in failed])
    # a register keyed by personnummer: markers, links and reports see a keyed hash, never the number
    keyer = keyer_for(run.config, tables)
    return key_registers(tables, keyer), keyer


def _connect(run: _Run) -> M5Client:
    from passerlink.m5 import M5Client

    config = run.config
    assert config.m5 is not None  # _check_request
    return M5Client.from_config(config.m5, config_path=config.config_path, url=run.m5_url)


def _make_plan(run: _Run, client: M5Client, tables: dict[str, PeopleTable], keyer: Keyer) -> _Planned:
    """2. M5 as it is now; 3. links, state, desired, matcher for new people, plan."""
    from passerlink.m5.checks import sync_preflight
    from passerlink.matching import LinkStore
    from passerlink.sync.desired import build_desired
    from passerlink.sync.keys import key_link_ids
    from passerlink.sync.newpeople import hold_model_takeovers
    from passerlink.sync.planner import PlanContext, plan

    config, policy, state = run.config, run.policy, run.state
    assert state is not None
    marker_field = config.m5.marker_field if config.m5 is not None else "apireference"
    current, raw_users = read_m5_state(client, marker_field)
    run.report["m5_users"] = len(current.users)
    sync_preflight(client, raw_users, config.m5)  # filters honoured, clocks agree: else stop (exit 3)

    links_df, rejected = _links(config)
    links_df = key_link_ids(links_df, keyer)
    # an auto-link that would take over a hand-made record of another user group waits for an operator
    links_df, held = hold_model_takeovers(
        links_df, current, policy, [s.user_group or "" for s in config.sources] + list(policy.user_groups.values()))
    run.report["held_auto_links"] = [{"source": s, "source_id": i, "m5_id": m} for s, i, m in
                                     zip(held["source"], held["source_id"], held["m5_id"], strict=True)]
    rejected = {(s, keyer.key(s, i), m) for s, i, m in rejected}
    links = {(str(s), str(i)): str(m) for s, i, m in
             zip(links_df["source"], links_df["source_id"], links_df["m5_id"], strict=True)}
    _stop_if_too_many_new(run, tables, links, raw_users, marker_field)
    desired = build_desired(
        tables, links_df, policy, source_order=[s.name for s in config.sources],
        user_groups={s.name: s.user_group for s in config.sources},
    )
    candidates: dict | None = {}
    if policy.situations.new == "match_then_create":
        candidates = _candidates(desired, current, policy, links, tables, raw_users, config, rejected,
                                 answers=lambda: key_link_ids(LinkStore(config.link_store.path).current(), keyer),
                                 pending=state.review_queue, skip_above=_matcher_limit(run))
    unsearched = candidates is None
    if candidates is None:
        candidates = {}
        run.report["warnings"].append(
            f"more than {_matcher_limit(run):,} new people: M5 was not searched for them, so every one is "
            "planned as a create and the run stops before writing; a dry run (--dry-run) searches and "
            "shows the whole plan")
    ctx = PlanContext(links=links, gone_since=state.gone_since(), deleted_by_sync=state.deleted_ids(),
                      candidates=candidates, blocked_by_sync=state.blocked_by_sync(), today=run.today,
                      marker_key=keyer.sync_key)
    the_plan = plan(desired, current, policy, ctx)
    run.result.plan = the_plan
    return _Planned(the_plan, desired, current, ctx, unsearched)


def _stop_if_too_many_new(run: _Run, tables: Mapping[str, PeopleTable], links: Mapping[tuple[str, str], str],
                          raw_users: list[dict[str, Any]], marker_field: str) -> None:
    """Stop (exit 3) before the plan is built when a source holds more people that are neither
    linked nor marked in M5 than ``_matcher_limit``: a register that grew by a million rows
    (a wrong file, a join gone wrong) is stopped in the time it takes to read it, not after
    planning a million creates. Counting needs only sets of ids; the full plan is one dry run
    away, and --allow-mass-changes or --approve go past it like any mass-change rule."""
    from passerlink.sync.safety import RuleResult, raise_if_unsafe

    limit = _matcher_limit(run)
    if limit is None:
        return
    policy = run.policy
    known = set(links) | {m for u in raw_users if (m := policy.parse_marker(u.get(marker_field))) is not None}
    for name, table in tables.items():
        new = sum(1 for sid in table.people["source_id"].tolist() if (name, str(sid)) not in known)
        if new > limit:
            rule = RuleResult(
                rule=f"new_people:{name}", ok=False, value=new, limit=limit,
                message=(f"source {name!r} holds {new:,} people neither linked nor marked in M5, more than "
                         f"{limit:,} (twenty times the creates limit), so the plan was not built; see it with "
                         "--dry-run"))
            run.report["safety"] = [rule.to_dict()]
            run.end(3, "stopped")
            raise_if_unsafe([rule])


def _matcher_limit(run: _Run) -> int | None:
    """New people above which a run that would stop anyway does not search M5 for them.

    Twenty times the creates limit: such a plan passes the creates rule only if the matcher
    finds nearly all of them in M5, which is go-live (the first-night rule's case), never a night.
    A dry run, an allowed run and an approved one always search (their plan is the one to be
    signed off); without a creates limit nothing is skipped."""
    limit = run.policy.thresholds.creates.max_count
    if run.dry_run or run.allow or run.approve is not None or limit is None:
        return None
    return max(20 * limit, 100)


def _record_plan(run: _Run, the_plan: Plan) -> None:
    report = run.report
    report["counts"] = dict(the_plan.counts)
    report["manual_left_alone"] = the_plan.manual
    report["owned"] = the_plan.owned
    report["register_issues"] = [
        {"key": list(i.key), "column": i.column, "problem": i.problem} for i in the_plan.issues
    ]
    report["changes"] = PlannedOps(the_plan.ops)
    blanks = the_plan.blankings()
    names = sum(1 for b in blanks if b.name)
    report["blanking_counts"] = {"names": names, "other_fields": len(blanks) - names}
    report["blankings"] = [b.to_dict() for b in blanks[:BLANKINGS_LISTED]]


def _apply(run: _Run, client: M5Client, planned: _Planned) -> ApplyResult:
    """5. Apply the plan, then put each operation's outcome into the report."""
    from passerlink.sync.apply import apply_plan

    assert run.state is not None
    report, the_plan = run.report, planned.plan
    if run.before_apply is not None:
        run.before_apply(the_plan)
    writes_before = client.stats.get("writes", 0) if hasattr(client, "stats") else 0
    applied = apply_plan(the_plan, client, run.state, run_id=run.run_id, policy=run.policy,
                         current=planned.current, desired=planned.desired, context=planned.context)
    run.result.apply = applied
    report["m5_writes"] = (client.stats.get("writes", 0) - writes_before) if hasattr(client, "stats") else 0
    outcome_of = {id(o.planned): o for o in applied.outcomes}
    for op in the_plan.ops:
        o = outcome_of.get(id(op))
        if o is not None and o.status == "failed":
            report["errors"].append({"label": shorten(op.label), "kind": op.kind, "m5_id": o.m5_id or op.m5_id,
                                     "message": failure_text(o.op or op, o.error)})
    report["changes"] = PlannedOps(the_plan.ops, outcome_of)
    report["ops_by_status"] = applied.by_status()
    return applied


def _remember(run: _Run, planned: _Planned, applied: ApplyResult) -> None:
    """6. Our own state (review queue, gone since, cleared on return) and the run's outcome."""
    from passerlink.sync.planner import Queue

    state, the_plan, today = run.state, planned.plan, run.today
    assert state is not None
    state.queue((q.key[0], q.key[1], str(q.m5_id), q.probability, q.label)
                for q in the_plan.ops if isinstance(q, Queue) and q.key is not None)
    failed_ids = {o.planned.m5_id for o in applied.outcomes if o.status != "done"}
    state.mark_gone({m: lbl for m, lbl in the_plan.gone.items() if m not in failed_ids}, today.isoformat())
    state.clear_gone(m for m in the_plan.present if m not in failed_ids)
    if applied.stopped:
        run.report["stop_reason"] = shorten(applied.stopped, 4 * SHOWN_LIMIT)
        run.end(1, "failed")
    elif applied.failed:
        run.report["stop_reason"] = f"{len(applied.failed)} operations failed; see the errors"
        run.end(1, "failed")
    else:
        run.end(0, "done")


def _safety_gate(config: Config, the_plan: Plan, policy: SyncPolicy, state: SyncState, report: dict[str, Any],
                 result: SyncResult, *,
                 dry_run: bool, allow: bool, approve: str | None) -> bool:
    """Check the safety rules; True when the run ends here as a dry run. A dry run stores its
    plan under an id; a run that approves that id passes the mass-change rules if its fresh plan
    is exactly that one (``sync.approval``), and stops with the difference if not."""
    from passerlink.sync.approval import approve_plan, plan_fingerprint, plans_folder, save_plan
    from passerlink.sync.safety import check_safety, raise_if_unsafe

    plans = plans_folder(sync_paths(config)[1])
    report["plan_id"] = plan_fingerprint(report["changes"])
    approved = approve is not None and bool(approve_plan(plans, approve, report, who=report["user"]))
    rules = check_safety(the_plan, policy, state.previous_run_stats(), allow_mass_changes=allow or approved)
    report["safety"] = [r.to_dict() for r in rules]
    if dry_run:
        save_plan(plans, report)
        report["needs_approval"] = [r.rule for r in rules if r.stops]
        result.exit_code, result.status = 0, "dry_run"
        return True
    if any(r.stops for r in rules):
        result.exit_code, result.status = 3, "stopped"
        raise_if_unsafe(rules)
    return False


def _candidates(desired: DesiredState, current: CurrentState, policy: SyncPolicy,
                links: Mapping[tuple[str, str], str],
                tables: Mapping[str, PeopleTable], raw_users: list[dict[str, Any]], config: Config,
                rejected: set[tuple[str, str, str]], *, answers: Callable[[], pd.DataFrame] | None = None,
                pending: Callable[[], pd.DataFrame] | None = None, skip_above: int | None = None) -> dict | None:
    """Likely matches among unlinked M5 users for people that are neither linked nor marked;
    None (not searched) when there are more than ``skip_above`` such people. ``answers`` (the
    operator's link decisions) and ``pending`` (the review queue) are read only when someone is
    new: a night with no new person does not load them."""
    from passerlink.sources import read_m5
    from passerlink.sync.newpeople import likely_matches, still_queued

    marked = {policy.parse_marker(u.get(current.marker_field)) for u in current.users.values()}
    marked.discard(None)
    linked_ids = {m for m in links.values() if m in current.users}
    new_keys = {
        k for du in desired.users
        if not any((links.get(k2) in current.users) or (k2 in marked) for k2 in du.keys)
        for k in du.keys
    }
    if not new_keys:
        return {}
    if skip_above is not None and len(new_keys) > skip_above:
        return None
    owned = linked_ids | {uid for uid, u in current.users.items()
                          if policy.parse_marker(u.get(current.marker_field)) is not None}
    free = {str(u.get("id")) for u in raw_users} - owned
    if not free:
        return {}
    columns = config.m5.columns if config.m5 is not None else {}
    m5_all = read_m5(_CachedUsers(raw_users), columns).people
    m5_people = m5_all[m5_all["source_id"].astype(str).isin(free)]
    frames = []
    for name, t in tables.items():
        df = t.people
        keep = [(name, str(s)) in new_keys for s in df["source_id"]]
        frames.append(df[keep])
    new_people = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    # the full model (every register against every M5 user, taught the operator's answers); a
    # person already in the review queue stays there until an operator decides
    found = likely_matches(new_people, m5_people, registers={n: t.people for n, t in tables.items()}, m5=m5_all,
                           answers=answers() if answers is not None else None, rejected=rejected,
                           min_probability=policy.queue_min_probability,
                           use_model=policy.new_person_matcher == "model", rule_bands=policy.queue_bands)
    return found if pending is None else still_queued(found, pending(), new_keys, free, rejected)
