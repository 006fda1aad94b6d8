"""The nightly sync: desired state -> plan (pure) -> safety -> apply -> journal -> report.

Reads registers through ``passerlink.sources``, M5 through ``passerlink.m5`` and links through
``passerlink.matching``; only ``apply`` writes to M5.
"""

from __future__ import annotations

from passerlink.policy import SyncPolicy
from passerlink.sync.adopt import check_link_table, import_links, read_link_csv
from passerlink.sync.apply import apply_plan
from passerlink.sync.current import CurrentState, CurrentUser, current_from_m5
from passerlink.sync.desired import DesiredState, DesiredUser, build_desired
from passerlink.sync.engine import SyncResult, run_sync, sync_paths
from passerlink.sync.journal import SyncState
from passerlink.sync.lock import RunLock
from passerlink.sync.newpeople import likely_matches
from passerlink.sync.planner import (
    Change,
    Create,
    Deactivate,
    Delete,
    Plan,
    PlanContext,
    Queue,
    Reactivate,
    Report,
    Update,
    plan,
)
from passerlink.sync.report import last_report, load_report, summary_text, write_reports
from passerlink.sync.safety import RuleResult, check_safety

__all__ = [
    "Change",
    "Create",
    "CurrentState",
    "CurrentUser",
    "Deactivate",
    "Delete",
    "DesiredState",
    "DesiredUser",
    "Plan",
    "PlanContext",
    "Queue",
    "Reactivate",
    "Report",
    "RuleResult",
    "RunLock",
    "SyncPolicy",
    "SyncResult",
    "SyncState",
    "Update",
    "apply_plan",
    "build_desired",
    "check_link_table",
    "check_safety",
    "current_from_m5",
    "import_links",
    "last_report",
    "likely_matches",
    "load_report",
    "plan",
    "read_link_csv",
    "run_sync",
    "summary_text",
    "sync_paths",
    "write_reports",
]
