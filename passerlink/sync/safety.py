"""Safety rules checked between plan and apply (Entra's accidental-deletion prevention, stricter).

A rule that fails stops the run before its first write; the report names the rule, the value,
the limit and the way to override (``--allow-mass-changes`` after reviewing the dry run). An
unreadable source is a rule too, and cannot be overridden: there is nothing to sync from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from passerlink.errors import SafetyStop
from passerlink.policy import SyncPolicy, Threshold

if TYPE_CHECKING:
    from passerlink.sync.planner import Plan

__all__ = ["RuleResult", "check_safety", "source_unreadable", "stopping_rules", "raise_if_unsafe", "OVERRIDE_HINT",
           "first_night", "blanking"]

OVERRIDE_HINT = ("make a dry run (passerlink sync --dry-run), check its plan and approve exactly that plan "
                 "with --approve PLAN_ID (scripts: --allow-mass-changes)")


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one safety rule."""

    rule: str
    ok: bool
    value: float
    limit: float | None
    message: str
    overridable: bool = True
    overridden: bool = False

    @property
    def stops(self) -> bool:
        return not self.ok and not self.overridden

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def source_unreadable(source: str, problem: str) -> RuleResult:
    """The rule result for a source that could not be read (never overridable)."""
    return RuleResult(
        rule=f"source_readable:{source}", ok=False, value=0, limit=None,
        message=f"source {source!r} could not be read: {problem}", overridable=False,
    )


def _threshold(rule: str, what: str, count: int, base: int, t: Threshold, min_base: int,
               allow: bool) -> list[RuleResult]:
    out: list[RuleResult] = []
    if t.max_count is not None:
        ok = count <= t.max_count
        out.append(RuleResult(
            rule=f"{rule}_count", ok=ok, value=count, limit=t.max_count,
            message=(f"{count} {what} planned, limit {t.max_count}" if ok else
                     f"{count} {what} planned, more than the limit of {t.max_count}"),
            overridden=not ok and allow,
        ))
    if t.max_share is not None and base >= min_base and base > 0:
        share = count / base
        ok = share <= t.max_share
        out.append(RuleResult(
            rule=f"{rule}_share", ok=ok, value=round(share, 4), limit=t.max_share,
            message=(f"{count} {what} of {base} owned M5 users ({share:.1%}), limit {t.max_share:.0%}" if ok else
                     f"{count} {what} of {base} owned M5 users ({share:.1%}), more than the limit of "
                     f"{t.max_share:.0%}"),
            overridden=not ok and allow,
        ))
    return out


def check_safety(
    plan: Plan,
    policy: SyncPolicy,
    previous_run_stats: Mapping[str, object] | None = None,
    *,
    allow_mass_changes: bool = False,
) -> list[RuleResult]:
    """Every rule's result, in a fixed order; ``stopping_rules`` picks the ones that stop."""
    th = policy.thresholds
    allow = allow_mass_changes
    results: list[RuleResult] = []
    prev_counts = {}
    if previous_run_stats:
        raw = previous_run_stats.get("source_counts") or {}
        if isinstance(raw, Mapping):
            prev_counts = {str(k): int(v) for k, v in raw.items()}
    for source, n in sorted(plan.source_counts.items()):
        if th.stop_on_empty_source:
            ok = n > 0
            results.append(RuleResult(
                rule=f"source_not_empty:{source}", ok=ok, value=n, limit=1,
                message=f"source {source!r} has {n} people" if ok else f"source {source!r} is empty",
                overridden=not ok and allow,
            ))
        prev = prev_counts.get(source)
        if prev:
            least = prev * th.source_min_share_of_last
            ok = n >= least
            results.append(RuleResult(
                rule=f"source_not_shrunk:{source}", ok=ok, value=n, limit=round(least, 1),
                message=(f"source {source!r} has {n} people, last run {prev}" if ok else
                         f"source {source!r} has {n} people, fewer than {th.source_min_share_of_last:.0%} of the "
                         f"{prev} of the last run"),
                overridden=not ok and allow,
            ))
    base = plan.owned
    n_create = len(plan.of_kind("create"))
    results += first_night(plan, policy, allow)
    n_update = len(plan.of_kind("update", "reactivate"))
    n_deact = len(plan.of_kind("deactivate"))
    n_delete = len(plan.of_kind("delete"))
    mb = th.min_base_for_share
    results += _threshold("creates", "creates", n_create, base, th.creates, mb, allow)
    results += _threshold("updates", "updates", n_update, base, th.updates, mb, allow)
    results += _threshold("deactivations", "deactivations", n_deact, base, th.deactivations, mb, allow)
    results += _threshold("deletes", "deletes", n_delete, base, th.deletes, mb, allow)
    results += blanking(plan, policy, allow)
    return results


def first_night(plan: Plan, policy: SyncPolicy, allow: bool = False) -> list[RuleResult]:
    """The first-night guard: creates while the engine owns (almost) nobody in a non-empty M5.

    Before go-live is finished every register person looks new, and every create could be a
    second card holder for someone already in M5. The rule applies while the link store is empty
    or the engine owns fewer users than ``first_night_min_owned`` (or, on a site with fewer
    people than twice that, fewer than half its register rows); an M5 without manual users
    (empty, or holding only users with our marker: a first night into an empty M5, interrupted)
    has nobody to duplicate.
    """
    people = sum(plan.source_counts.values())
    floor = min(policy.thresholds.first_night_min_owned, (people + 1) // 2)
    creates = len(plan.of_kind("create"))
    if plan.manual == 0 or (plan.linked > 0 and plan.owned >= floor):
        return []
    ok = creates == 0
    why = "the link store is empty" if plan.linked == 0 else f"only {plan.owned} M5 users are owned (floor {floor})"
    return [RuleResult(
        rule="first_night", ok=ok, value=creates, limit=0,
        message=(f"{why}; no creates planned" if ok else
                 f"{creates} creates planned while {why} and M5 has {plan.m5_users} users: finish go-live first "
                 "(match in the workbench and passerlink links import), or approve this plan"),
        overridden=not ok and allow,
    )]


def blanking(plan: Plan, policy: SyncPolicy, allow: bool = False) -> list[RuleResult]:
    """Blanking as its own change class: emptying a name, and emptying any other field."""
    found = plan.blankings()
    names = [b for b in found if b.name]
    others = [b for b in found if not b.name]
    th = policy.thresholds
    out = []
    for rule, what, items, t in (("blank_names", "names emptied", names, th.blank_names),
                                 ("blank_fields", "other fields emptied", others, th.blank_fields)):
        if t.max_count is None:
            continue
        n = len(items)
        ok = n <= t.max_count
        fields = ", ".join(sorted({b.field for b in items}))
        out.append(RuleResult(
            rule=rule, ok=ok, value=n, limit=t.max_count,
            message=(f"{n} {what}, limit {t.max_count}" if ok else
                     f"{n} {what} ({fields}) where M5 has a value, more than the limit of {t.max_count}: a "
                     "damaged export looks like this"),
            overridden=not ok and allow,
        ))
    return out


def stopping_rules(results: list[RuleResult]) -> list[RuleResult]:
    return [r for r in results if r.stops]


def raise_if_unsafe(results: list[RuleResult]) -> None:
    """``SafetyStop`` naming the first stopping rule and how to override it."""
    stops = stopping_rules(results)
    if not stops:
        return
    first = stops[0]
    more = f" (and {len(stops) - 1} more rule{'s' if len(stops) > 2 else ''})" if len(stops) > 1 else ""
    hint = OVERRIDE_HINT if first.overridable else "fix the source and rerun"
    raise SafetyStop(f"stopped by safety rule {first.rule}: {first.message}{more}; nothing was written; {hint}")
