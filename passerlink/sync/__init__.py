"""Source readers, the M5 Admin API client and the nightly sync engine.

Exports are resolved lazily (PEP 562): ``passerlink.config`` imports
``passerlink.sync.policy``, and several modules of this package import ``passerlink.config``;
an eager import here would make that a circular import. Add a public name by adding one line to
``_EXPORTS`` (name -> module); ``__all__`` follows from it.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # M5 Admin API client
    "M5Client": "passerlink.sync.m5client",
    # sync engine (policy, desired state, plan, apply, journal, lock, reports)
    "SyncPolicy": "passerlink.sync.policy",
    "DesiredState": "passerlink.sync.desired",
    "DesiredUser": "passerlink.sync.desired",
    "build_desired": "passerlink.sync.desired",
    "CurrentState": "passerlink.sync.current",
    "CurrentUser": "passerlink.sync.current",
    "current_from_m5": "passerlink.sync.current",
    "Plan": "passerlink.sync.planner",
    "PlanContext": "passerlink.sync.planner",
    "plan": "passerlink.sync.planner",
    "Change": "passerlink.sync.planner",
    "Create": "passerlink.sync.planner",
    "Update": "passerlink.sync.planner",
    "Reactivate": "passerlink.sync.planner",
    "Deactivate": "passerlink.sync.planner",
    "Delete": "passerlink.sync.planner",
    "Queue": "passerlink.sync.planner",
    "Report": "passerlink.sync.planner",
    "RuleResult": "passerlink.sync.safety",
    "check_safety": "passerlink.sync.safety",
    "apply_plan": "passerlink.sync.apply",
    "SyncState": "passerlink.sync.journal",
    "RunLock": "passerlink.sync.lock",
    "run_sync": "passerlink.sync.engine",
    "SyncResult": "passerlink.sync.engine",
    "sync_paths": "passerlink.sync.engine",
    "write_reports": "passerlink.sync.report",
    "last_report": "passerlink.sync.report",
    "load_report": "passerlink.sync.report",
    "summary_text": "passerlink.sync.report",
    "import_links": "passerlink.sync.adopt",
    "check_link_table": "passerlink.sync.adopt",
    "read_link_csv": "passerlink.sync.adopt",
    "likely_matches": "passerlink.sync.newpeople",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'passerlink.sync' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
