"""Approve a plan, not a flag: a dry run stores its plan under an id, a real run may run exactly it.

The first night after go-live is always a mass change (hundreds of creates and updates), so the
mass-change rules would stop it. Overriding them with a flag says "whatever the plan is"; an
operator who has read a dry run means "this plan". So every dry run stores its plan, named by a
fingerprint of its operations (``plan_fingerprint``: what is done to whom, never when or with what
probability), and ``passerlink sync --approve PLAN_ID`` runs past the mass-change rules only if the
fresh plan has exactly that fingerprint; otherwise it stops (exit 3) and says what changed.

Plans live beside the sync state, in ``<state_db stem>-plans/<id>.json``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from passerlink.errors import InputError, SafetyStop

__all__ = ["plan_fingerprint", "plans_folder", "save_plan", "load_plan", "latest_plan_id", "plan_difference",
           "approve_plan", "PLAN_ID_LENGTH"]

PLAN_ID_LENGTH = 12
#: Stored plans kept (the newest); older ones are removed when a dry run stores a new one.
KEEP_PLANS = 30

#: The parts of an operation that say what is done to whom (status, notes and probabilities do not).
_IDENTITY_KEYS = ("kind", "situation", "key", "m5_id", "label", "changes", "fields", "add_groups",
                  "remove_groups", "block_cards", "unblock_cards", "name", "gone_since")


def _identity(op: Mapping[str, Any]) -> dict[str, Any]:
    return {k: op[k] for k in _IDENTITY_KEYS if k in op}


def _canonical(op: Mapping[str, Any]) -> str:
    return json.dumps(_identity(op), sort_keys=True, ensure_ascii=False, default=str)


def plan_fingerprint(ops: Sequence[Mapping[str, Any]]) -> str:
    """The plan's id: a hash of its operations (as ``op_to_dict`` gives them), order-free."""
    digest = hashlib.sha256()
    for line in sorted(_canonical(op) for op in ops):
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()[:PLAN_ID_LENGTH]


def plans_folder(state_db: Path) -> Path:
    """Where the dry runs' plans are kept: beside the sync state database."""
    return state_db.with_name(state_db.stem + "-plans")


def save_plan(folder: Path, report: Mapping[str, Any]) -> str:
    """Store a dry run's plan (its ``changes``) under its fingerprint; returns the plan id."""
    ops = list(report.get("changes") or [])
    plan_id = plan_fingerprint(ops)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "plan_id": plan_id, "planned_by": report.get("user", ""), "planned_at": report.get("started", ""),
        "run_id": report.get("run_id", ""), "config": report.get("config", ""),
        "counts": dict(report.get("counts") or {}), "ops": [_identity(op) for op in ops],
    }
    target = folder / f"{plan_id}.json"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, target)
    for old in sorted(folder.glob("*.json"), key=lambda f: f.stat().st_mtime)[:-KEEP_PLANS]:
        old.unlink(missing_ok=True)  # a plan is approved within hours of its dry run, not months
    return plan_id


def load_plan(folder: Path, plan_id: str) -> dict[str, Any] | None:
    """A stored plan, or None if no dry run stored one under this id."""
    if not plan_id.isalnum() or len(plan_id) != PLAN_ID_LENGTH:
        raise InputError(f"--approve {plan_id!r}: a plan id is the {PLAN_ID_LENGTH} letters and digits a dry run "
                         "prints (passerlink sync --dry-run)")
    path = folder / f"{plan_id}.json"
    if not path.exists():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a stored sync plan ({exc})") from None
    return data


def latest_plan_id(folder: Path) -> str:
    """The id of the plan the latest dry run stored ("" before the first)."""
    if not folder.is_dir():
        return ""
    plans = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
    return plans[-1].stem if plans else ""


def _describe(op: Mapping[str, Any]) -> str:
    who = op.get("label") or (":".join(op["key"]) if op.get("key") else f"M5 user {op.get('m5_id')}")
    return f"{op.get('kind')} {who}"


def plan_difference(approved: Sequence[Mapping[str, Any]], fresh: Sequence[Mapping[str, Any]]) -> list[str]:
    """What the fresh plan does that the approved one did not (``+``) and the other way (``-``)."""
    old = {_canonical(op): op for op in approved}
    new = {_canonical(op): op for op in fresh}
    gone = [f"- {_describe(old[k])}" for k in sorted(set(old) - set(new))]
    added = [f"+ {_describe(new[k])}" for k in sorted(set(new) - set(old))]
    return added + gone


def approve_plan(folder: Path, plan_id: str, report: dict[str, Any], *, who: str,
                 now: _dt.datetime | None = None) -> dict[str, Any]:
    """Check that the fresh plan (``report["changes"]``) is the approved one; record the approval.

    Returns the approval written into ``report["approval"]``: who approved which plan when, and
    who made the dry run it came from. Raises ``SafetyStop`` (exit 3) with the difference when the
    plan changed since the dry run, or when no dry run stored that plan.
    """
    stored = load_plan(folder, plan_id)
    if stored is None:
        raise SafetyStop(f"--approve {plan_id}: no dry run stored this plan (in {folder}); "
                         "nothing was written; run passerlink sync --dry-run and approve the plan id it prints")
    fresh_id = plan_fingerprint(report.get("changes") or [])
    if fresh_id != plan_id:
        diff = plan_difference(stored.get("ops") or [], report.get("changes") or [])
        report["plan_difference"] = diff
        shown = "; ".join(diff[:10]) + (f"; … {len(diff) - 10} more" if len(diff) > 10 else "")
        raise SafetyStop(f"the plan changed since the dry run: approved {plan_id}, now {fresh_id} "
                         f"({len(diff)} operations differ: {shown}); nothing was written; "
                         f"check the new plan and approve it: passerlink sync --approve {fresh_id}")
    approval = {
        "plan_id": plan_id, "approved_by": who,
        "approved_at": (now or _dt.datetime.now().astimezone()).isoformat(timespec="seconds"),
        "planned_by": stored.get("planned_by", ""), "planned_at": stored.get("planned_at", ""),
        "dry_run_id": stored.get("run_id", ""),
    }
    report["approval"] = approval
    return approval
