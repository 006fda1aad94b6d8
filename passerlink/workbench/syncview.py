"""The Sync page's side of ``passerlink.sync``: a dry run that yields a plan id, approving and
running exactly that plan, and a report turned into the tables and metrics the page shows.

The two calls to the sync are here, so the page holds no sync logic; everything else is pure over
the report dictionary the sync writes (``sync-*.json``), so saved reports and fresh runs look alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from passerlink.workbench.i18n import situation_label

if TYPE_CHECKING:  # pragma: no cover
    from passerlink.config import Config

__all__ = ["dry_run", "approve_and_run", "plan_id_of", "kind_counts", "situation_rows", "rule_rows", "change_rows",
           "difference_rows", "review_queue"]

Translate = Callable[..., str]
#: A sync report as the sync writes it (``sync-*.json``): JSON, so its values are of any JSON type.
Report = Mapping[str, Any]


def _json_path(result: object) -> str:
    paths = getattr(result, "paths", {}) or {}
    path = paths.get("json")
    return str(path) if path else ""


def dry_run(config: Config) -> tuple[str, str]:
    """Run the sync without writing (``sync.golive.plan_first_sync``: the plan is stored under
    its id); returns (plan id, path of the report it saved)."""
    from passerlink.sync.golive import plan_first_sync

    result = plan_first_sync(config)
    return plan_id_of(result.report), _json_path(result)


def approve_and_run(config: Config, plan_id: str) -> tuple[str, int]:
    """Run exactly the approved plan past the mass-change rules (``sync --approve``,
    ``sync.golive.run_approved_plan``); returns (path of the run's report, exit code). A fresh
    plan that differs stops the run (exit 3) and the report says how."""
    from passerlink.sync.golive import run_approved_plan

    result = run_approved_plan(config, plan_id)
    return _json_path(result), int(result.exit_code)


def plan_id_of(report: Report) -> str:
    """The plan id a dry run stored (``plan_id``; the sync names it so in the report)."""
    return str(report.get("plan_id") or "")


def _changes(report: Report) -> list[Mapping[str, object]]:
    changes = report.get("changes") or []
    return [c for c in changes if isinstance(c, Mapping)] if isinstance(changes, list) else []


def kind_counts(report: Report) -> dict[str, int]:
    """Operations by kind (create, update, deactivate, queue, ...) and ``writes`` to M5."""
    counts = Counter(str(c.get("kind", "")) for c in _changes(report))
    out = {k: int(v) for k, v in counts.items()}
    out["writes"] = int(report.get("m5_writes") or 0)
    return out


def situation_rows(report: Report, lang: str = "sv") -> pd.DataFrame:
    """``situation, count``: the report's situations in the operator's language."""
    counts = report.get("counts") or {}
    rows = [(situation_label(str(k), lang), int(v)) for k, v in sorted(dict(counts).items())]
    return pd.DataFrame(rows, columns=["situation", "count"])


def rule_rows(report: Report, t: Translate) -> pd.DataFrame:
    """``rule, result, value, limit, stops``: every safety rule, named in the operator's language;
    ``stops`` is true for a rule that failed and was not overridden by an approved plan."""
    rows = []
    for r in report.get("safety") or []:
        if not isinstance(r, Mapping):
            continue
        name = str(r.get("rule", ""))
        base, _, source = name.partition(":")
        ok = bool(r.get("ok"))
        result = t("rule_ok") if ok else t("rule_overridden") if r.get("overridden") else t("rule_stop")
        rows.append({"rule": t("rule_named", rule=rule_label(base, t), source=source) if source else rule_label(base, t),
                     "result": result, "value": r.get("value"), "limit": r.get("limit"),
                     "stops": not ok and not r.get("overridden")})
    return pd.DataFrame(rows, columns=["rule", "result", "value", "limit", "stops"])


#: The safety rules an operator may meet, by the name the sync gives them.
RULES = ("creates_count", "creates_share", "updates_count", "updates_share", "deactivations_count",
         "deactivations_share", "deletes_count", "deletes_share", "first_night", "source_not_empty",
         "source_not_shrunk", "source_readable", "blank_names", "blank_fields", "new_people")


def rule_label(name: str, t: Translate) -> str:
    return t(f"rule_{name}") if name in RULES else t("rule_other", rule=name)


def change_rows(report: Report, t: Translate, lang: str = "sv") -> pd.DataFrame:
    """``kind, situation, label, m5_id, status``: one row per planned or applied operation."""
    rows = [{"kind": t(f"op_{c.get('kind')}") if c.get("kind") in OPS else str(c.get("kind", "")),
             "situation": situation_label(str(c.get("situation", "")), lang),
             "label": str(c.get("label", "")), "m5_id": str(c.get("m5_id") or ""),
             "status": t(f"op_status_{c.get('status')}") if c.get("status") in OP_STATUSES else str(c.get("status", ""))}
            for c in _changes(report)]
    return pd.DataFrame(rows, columns=["kind", "situation", "label", "m5_id", "status"])


def difference_rows(report: Report, t: Translate) -> pd.DataFrame:
    """``change, kind, label``: how a fresh plan differs from the approved one (the sync's
    ``plan_difference`` lines, "+ kind label" / "- kind label"), in the operator's words."""
    rows = []
    for line in report.get("plan_difference") or []:
        sign, _, rest = str(line).partition(" ")
        kind, _, label = rest.partition(" ")
        rows.append({"change": t("plan_added") if sign == "+" else t("plan_removed"),
                     "kind": t(f"op_{kind}") if kind in OPS else kind, "label": label})
    return pd.DataFrame(rows, columns=["change", "kind", "label"])


def review_queue(config: Config) -> pd.DataFrame:
    """The sync's review queue (``SyncState.review_queue``: new register people an unlinked M5
    user may be), as link-table rows ``register, source_id, m5_id, probability``; empty before
    the first run."""
    from passerlink.sync import SyncState, sync_paths

    state_path = sync_paths(config)[1]
    columns = ["register", "source_id", "m5_id", "probability"]
    if not state_path.exists():
        return pd.DataFrame(columns=columns)
    with SyncState(state_path) as state:
        q = state.review_queue()
    return q.rename(columns={"source": "register"})[columns].astype({"source_id": str, "m5_id": str})


OPS = ("create", "update", "reactivate", "deactivate", "delete", "queue", "report", "create_department",
       "create_usergroup")
OP_STATUSES = ("planned", "done", "failed", "skipped", "unconfirmed")
