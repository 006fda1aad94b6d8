"""One sync run, start to end: read -> desired -> plan -> safety -> apply -> report.

Each step is a function of its own module; this one only strings them together, holds the run
lock, and makes sure that every run – dry, stopped, failed or done – ends with a report and an
exit code: 0 done, 1 failed, 2 bad input or config, 3 stopped by a safety rule.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from passerlink.errors import InputError, PasserlinkError, SafetyStop, SourceError
from passerlink.people import PeopleTable

__all__ = ["SyncResult", "run_sync", "sync_paths", "op_to_dict", "read_m5_state"]

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    exit_code: int
    status: str  # done | dry_run | stopped | failed
    report: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)
    plan: Any = None
    apply: Any = None


def sync_paths(config: Any) -> tuple[Path, Path, Path]:
    """(report folder, state database, lock file), relative paths resolved against the config."""
    base = config.config_path.parent if config.config_path else Path.cwd()
    policy = config.sync

    def res(p: Path) -> Path:
        p = Path(p).expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    state = res(policy.state_db)
    return res(policy.report_dir), state, state.with_name(state.name + ".lock")


def op_to_dict(op: Any, *, status: str = "planned", error: str = "", notes: list[str] | None = None,
               m5_id: str | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "kind": op.kind, "situation": op.situation, "label": op.label,
        "key": list(op.key) if op.key else None, "m5_id": m5_id or op.m5_id, "protected": op.protected,
        "status": status,
    }
    for attr in ("changes",):
        if getattr(op, attr, None):
            d["changes"] = [{"field": c.field, "before": c.before, "after": c.after} for c in op.changes]
    if getattr(op, "fields", None):
        d["fields"] = dict(op.fields)
    for attr in ("add_groups", "remove_groups"):
        if getattr(op, attr, None):
            d[attr] = sorted(getattr(op, attr))
    if getattr(op, "block_cards", None):
        d["block_cards"] = list(op.block_cards)
    if getattr(op, "unblock_cards", None):
        d["unblock_cards"] = list(op.unblock_cards)
    if getattr(op, "message", ""):
        d["message"] = op.message
    if getattr(op, "probability", None):
        d["probability"] = round(float(op.probability), 4)
    if getattr(op, "gone_since", ""):
        d["gone_since"] = op.gone_since
    if getattr(op, "name", ""):
        d["name"] = op.name
    if error:
        d["error"] = error
    if notes:
        d["notes"] = list(notes)
    return d


class _CachedUsers:
    """``read_m5`` wants a client with ``list_users``; hand it the users we already have."""

    def __init__(self, users: list[dict[str, Any]]) -> None:
        self._users = users

    def list_users(self) -> list[dict[str, Any]]:
        return self._users


def read_m5_state(client: Any, marker_field: str) -> tuple[Any, list[dict[str, Any]]]:
    """The current state and the raw user list."""
    from passerlink.sync.current import current_from_m5

    users = client.list_users()
    departments = client.list_departments()
    usergroups = client.list_usergroups()
    accessgroups = client.list_accessgroups()
    return current_from_m5(users, departments=departments, usergroups=usergroups, accessgroups=accessgroups,
                           marker_field=marker_field), users


def run_sync(
    config: Any,
    *,
    dry_run: bool = False,
    allow_mass_changes: bool = False,
    m5_url: str | None = None,
    source_paths: Mapping[str, Path] | None = None,
    client: Any = None,
    today: _dt.date | None = None,
    before_apply: Callable[[Any], None] | None = None,
) -> SyncResult:
    """Run the sync once. ``client`` (an ``M5Client``) is made from ``[m5]`` when not given;
    ``before_apply(plan)`` is called between the safety check and the first write (tests use it
    to change M5 behind the engine's back)."""
    from passerlink.sync.journal import SyncState
    from passerlink.sync.lock import RunLock
    from passerlink.sync.report import prune_reports, write_reports

    report_dir, state_path, lock_path = sync_paths(config)
    policy = config.sync
    run_id = uuid.uuid4().hex
    started = _dt.datetime.now().astimezone()
    t0 = time.perf_counter()
    today = today or _dt.date.today()
    lock = None if dry_run else RunLock(lock_path).acquire()
    report: dict[str, Any] = {
        "run_id": run_id, "started": started.isoformat(timespec="milliseconds"), "dry_run": dry_run,
        "config": str(config.config_path or ""), "allow_mass_changes": allow_mass_changes,
        "sources": {}, "counts": {}, "changes": [], "errors": [], "safety": [], "m5_writes": 0,
        "manual_left_alone": 0, "user": _user(),
    }
    result = SyncResult(exit_code=1, status="failed", report=report)
    state: SyncState | None = None
    own_client = client is None
    try:
        state = SyncState(state_path)
        state.start_run(run_id, dry_run=dry_run)
        _run(config, policy, report, result, state, run_id=run_id, dry_run=dry_run,
             allow=allow_mass_changes, m5_url=m5_url, source_paths=source_paths or {}, client=client,
             own_client=own_client, today=today, before_apply=before_apply)
    except PasserlinkError as exc:
        result.exit_code = exc.exit_code
        result.status = "stopped" if exc.exit_code == 3 else "failed"
        report["stop_reason"] = str(exc)
        if not isinstance(exc, InputError | SafetyStop):
            report["errors"].append({"label": "", "kind": "run", "message": str(exc)})
    finally:
        finished = _dt.datetime.now().astimezone()
        report["status"] = result.status
        report["exit_code"] = result.exit_code
        report["finished"] = finished.isoformat(timespec="seconds")
        report["duration_seconds"] = round(time.perf_counter() - t0, 3)
        try:
            result.paths = write_reports(report, report_dir)
            report["files"] = {k: str(v) for k, v in result.paths.items()}
            prune_reports(report_dir, policy.report_keep_days)
        except (OSError, PasserlinkError) as exc:
            log.error("could not write the sync report: %s", exc)
        if state is not None:
            try:
                state.finish_run(run_id, result.status, source_counts=report.get("sources"),
                                 stats={"counts": report.get("counts"), "m5_writes": report.get("m5_writes")},
                                 report=str(result.paths.get("json", "")))
                cutoff = _dt.datetime.now(_dt.UTC) - _dt.timedelta(days=policy.report_keep_days)
                state.prune_journal(cutoff.isoformat(timespec="microseconds"))
            finally:
                state.close()
        if lock is not None:
            lock.release()
    return result


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _read_sources(config: Any, source_paths: Mapping[str, Path]) -> tuple[dict[str, PeopleTable],
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


def _links(config: Any) -> tuple[pd.DataFrame, set[tuple[str, str, str]]]:
    from passerlink.matching import LinkStore

    store = LinkStore(config.link_store.path)
    links = store.links()
    cur = store.current()
    rejected = {(str(s), str(i), str(m)) for s, i, m, d in
                zip(cur["source"], cur["source_id"], cur["m5_id"], cur["decision"], strict=True) if d == "rejected"}
    return links, rejected


def _run(config: Any, policy: Any, report: dict[str, Any], result: SyncResult, state: Any, *, run_id: str,
         dry_run: bool, allow: bool, m5_url: str | None, source_paths: Mapping[str, Path], client: Any,
         own_client: bool, today: _dt.date, before_apply: Callable[[Any], None] | None) -> None:
    from passerlink.errors import ConfigError
    from passerlink.sync.apply import apply_plan
    from passerlink.sync.desired import build_desired
    from passerlink.sync.keys import key_link_ids, key_registers, keyer_for
    from passerlink.sync.planner import PlanContext, plan
    from passerlink.sync.safety import check_safety, raise_if_unsafe, source_unreadable

    if config.m5 is None and client is None:
        raise ConfigError(f"{config.config_path}: the sync needs an [m5] section")
    if m5_url is not None and not m5_url.startswith(("http://", "https://")):
        raise InputError(f"--m5-url {m5_url!r} is not an http(s) URL")

    # 1. read the registers; an unreadable one is a safety stop, never a partial sync
    tables, failed = _read_sources(config, source_paths)
    report["sources"] = {name: len(t) for name, t in tables.items()}
    report["source_issues"] = {name: len(t.issues) for name, t in tables.items()}
    if failed:
        report["safety"] = [source_unreadable(name, why).to_dict() for name, why in failed]
        result.exit_code, result.status = 3, "stopped"
        raise_if_unsafe([source_unreadable(name, why) for name, why in failed])
    # a register keyed by personnummer: markers, links and reports see a keyed hash, never the number
    keyer = keyer_for(config, tables)
    tables = key_registers(tables, keyer)

    # 2. M5 as it is now
    if client is None:
        from passerlink.m5 import M5Client

        client = M5Client.from_config(config.m5, config_path=config.config_path, url=m5_url)
    marker_field = config.m5.marker_field if config.m5 is not None else "apireference"
    try:
        current, raw_users = read_m5_state(client, marker_field)
        report["m5_users"] = len(current.users)
        from passerlink.m5.checks import sync_preflight  # filters honoured, clocks agree: else stop (exit 3)

        sync_preflight(client, raw_users, config.m5)

        # 3. links, state, desired, matcher for new people, plan
        links_df, rejected = _links(config)
        links_df = key_link_ids(links_df, keyer)
        rejected = {(s, keyer.key(s, i), m) for s, i, m in rejected}
        links = {(str(s), str(i)): str(m) for s, i, m in
                 zip(links_df["source"], links_df["source_id"], links_df["m5_id"], strict=True)}
        desired = build_desired(
            tables, links_df, policy, source_order=[s.name for s in config.sources],
            user_groups={s.name: s.user_group for s in config.sources},
        )
        candidates: dict = {}
        if policy.situations.new == "match_then_create":
            candidates = _candidates(desired, current, policy, links, tables, raw_users, config, rejected)
        ctx = PlanContext(links=links, gone_since=state.gone_since(), deleted_by_sync=state.deleted_ids(),
                          candidates=candidates, blocked_by_sync=state.blocked_by_sync(), today=today)
        the_plan = plan(desired, current, policy, ctx)
        result.plan = the_plan
        report["counts"] = dict(the_plan.counts)
        report["manual_left_alone"] = the_plan.manual
        report["owned"] = the_plan.owned
        report["register_issues"] = [
            {"key": list(i.key), "column": i.column, "problem": i.problem} for i in the_plan.issues
        ]
        report["changes"] = [op_to_dict(op) for op in the_plan.ops]
        report["blankings"] = [b.to_dict() for b in the_plan.blankings()]

        # 4. safety before the first write
        rules = check_safety(the_plan, policy, state.previous_run_stats(), allow_mass_changes=allow)
        report["safety"] = [r.to_dict() for r in rules]
        if any(r.stops for r in rules):
            result.exit_code, result.status = 3, "stopped"
            raise_if_unsafe(rules)
        if dry_run:
            result.exit_code, result.status = 0, "dry_run"
            return

        # 5. apply
        if before_apply is not None:
            before_apply(the_plan)
        writes_before = client.stats.get("writes", 0) if hasattr(client, "stats") else 0
        applied = apply_plan(the_plan, client, state, run_id=run_id, policy=policy, current=current,
                             desired=desired, context=ctx)
        result.apply = applied
        report["m5_writes"] = (client.stats.get("writes", 0) - writes_before) if hasattr(client, "stats") else 0
        outcome_of = {id(o.planned): o for o in applied.outcomes}
        changes = []
        for op in the_plan.ops:
            o = outcome_of.get(id(op))
            if o is None:
                status = "planned" if op.writes else "done"
                changes.append(op_to_dict(op, status=status if op.writes else "reported"))
                continue
            final = o.op or op
            changes.append(op_to_dict(final, status=o.status, error=o.error, notes=o.notes, m5_id=o.m5_id))
            if o.status == "failed":
                report["errors"].append({"label": op.label, "kind": op.kind, "m5_id": o.m5_id or op.m5_id,
                                         "message": o.error})
        report["changes"] = changes
        report["ops_by_status"] = applied.by_status()

        # 6. our own state: review queue, gone since, cleared on return
        state.queue((q.key[0], q.key[1], str(q.m5_id), q.probability, q.label) for q in the_plan.of_kind("queue"))
        failed_ids = {o.planned.m5_id for o in applied.outcomes if o.status != "done"}
        state.mark_gone({m: lbl for m, lbl in the_plan.gone.items() if m not in failed_ids}, today.isoformat())
        state.clear_gone(m for m in the_plan.present if m not in failed_ids)
        if applied.stopped:
            report["stop_reason"] = applied.stopped
            result.exit_code, result.status = 1, "failed"
        elif applied.failed:
            report["stop_reason"] = f"{len(applied.failed)} operations failed; see the errors"
            result.exit_code, result.status = 1, "failed"
        else:
            result.exit_code, result.status = 0, "done"
    finally:
        if own_client and client is not None:
            client.close()


def _candidates(desired: Any, current: Any, policy: Any, links: Mapping[tuple[str, str], str],
                tables: Mapping[str, PeopleTable], raw_users: list[dict[str, Any]], config: Any,
                rejected: set[tuple[str, str, str]]) -> dict:
    """Likely matches among unlinked M5 users for people that are neither linked nor marked."""
    from passerlink.sources import read_m5
    from passerlink.sync.newpeople import likely_matches

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
    owned = linked_ids | {uid for uid, u in current.users.items()
                          if policy.parse_marker(u.get(current.marker_field)) is not None}
    free = [u for u in raw_users if str(u.get("id")) not in owned]
    if not free:
        return {}
    columns = config.m5.columns if config.m5 is not None else {}
    m5_people = read_m5(_CachedUsers(free), columns).people
    frames = []
    for name, t in tables.items():
        df = t.people
        keep = [(name, str(s)) in new_keys for s in df["source_id"]]
        frames.append(df[keep])
    new_people = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return likely_matches(new_people, m5_people, rejected=rejected, bands=policy.queue_bands,
                          min_probability=policy.queue_min_probability,
                          use_model=policy.new_person_matcher == "model")
