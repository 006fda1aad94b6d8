"""The plan: a pure diff of desired and current state into value objects, octodns-style.

``plan(desired, current, policy, context)`` decides, for every owned M5 user and every register
person, which situation applies and what to do about it. It writes nothing and reads nothing
but its arguments, so it can be printed (dry run), checked against the safety rules and tested
with property tests. Only M5 users the engine owns (linked in the link store, or carrying our
marker) ever appear in a writing operation: every other user is a manual record.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from passerlink.policy import SyncPolicy
from passerlink.sync.current import CurrentState, CurrentUser
from passerlink.sync.desired import DesiredState, DesiredUser, PersonKey, RegisterIssue

__all__ = [
    "Change",
    "Op",
    "Create",
    "Update",
    "Deactivate",
    "Reactivate",
    "Delete",
    "Queue",
    "Report",
    "CreateDepartment",
    "CreateUserGroup",
    "Plan",
    "PlanContext",
    "Blanking",
    "NAME_FIELDS",
    "plan",
    "replan_user",
    "WRITE_KINDS",
]

#: Operations that write to M5.
WRITE_KINDS = frozenset(
    {"create", "update", "deactivate", "reactivate", "delete", "create_department", "create_usergroup"}
)


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True, kw_only=True)
class Op:
    """One thing to do (or report) about one M5 user or register person."""

    kind: str = ""
    situation: str
    label: str = ""
    key: PersonKey | None = None
    m5_id: str | None = None
    protected: bool = False

    @property
    def writes(self) -> bool:
        return self.kind in WRITE_KINDS

    def ident(self) -> str:
        """Stable identity of the operation within a run (the journal's key)."""
        who = f"{self.key[0]}:{self.key[1]}" if self.key else ""
        return f"{self.kind}|{who}|{self.m5_id or ''}"


@dataclass(frozen=True, kw_only=True)
class Create(Op):
    kind: str = "create"
    fields: Mapping[str, str]
    accessgroups: frozenset[str] = frozenset()
    marker: str


@dataclass(frozen=True, kw_only=True)
class Update(Op):
    kind: str = "update"
    rastamp: str = ""
    changes: tuple[Change, ...] = ()
    add_groups: frozenset[str] = frozenset()
    remove_groups: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class Reactivate(Update):
    kind: str = "reactivate"
    #: cards the engine blocked when the person left, to unblock again (none blocked by hand)
    unblock_cards: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Deactivate(Op):
    kind: str = "deactivate"
    rastamp: str = ""
    changes: tuple[Change, ...] = ()
    block_cards: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Delete(Op):
    kind: str = "delete"
    gone_since: str = ""


@dataclass(frozen=True, kw_only=True)
class Queue(Op):
    """A likely match for the operator instead of a duplicate; ``m5_id`` is the candidate."""

    kind: str = "queue"
    probability: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Report(Op):
    kind: str = "report"
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class CreateDepartment(Op):
    kind: str = "create_department"
    name: str = ""


@dataclass(frozen=True, kw_only=True)
class CreateUserGroup(Op):
    kind: str = "create_usergroup"
    name: str = ""


#: M5 fields that hold a person's name: emptying one is a blanking of a name.
NAME_FIELDS = frozenset({"firstname", "lastname"})


@dataclass(frozen=True)
class Blanking:
    """A planned change that empties a field with a value in M5."""

    label: str
    m5_id: str
    field: str
    before: str
    name: bool

    def to_dict(self) -> dict[str, object]:
        return {"label": self.label, "m5_id": self.m5_id, "field": self.field, "before": self.before,
                "name": self.name}


@dataclass(frozen=True)
class PlanContext:
    """What the plan needs besides desired and current state (all read by the engine)."""

    #: link store: (source, source_id) -> linked M5 user id
    links: Mapping[PersonKey, str] = field(default_factory=dict)
    #: M5 user id -> ISO date since which its person is gone from every register
    gone_since: Mapping[str, str] = field(default_factory=dict)
    #: M5 user ids the engine deleted itself (a link to them is not "deleted by hand")
    deleted_by_sync: frozenset[str] = frozenset()
    #: new person -> (unlinked M5 user id, probability) of the matcher's likely match
    candidates: Mapping[PersonKey, tuple[str, float]] = field(default_factory=dict)
    #: M5 user id -> {card id: its rastamp right after the block} of the cards the engine blocked
    blocked_by_sync: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    today: _dt.date = field(default_factory=_dt.date.today)
    #: the person a marker names, as the sync keys people (``Keyer.sync_key``: a marker written
    #: with a personnummer before its register was keyed still finds its person, and is rewritten)
    marker_key: Callable[[str, str], PersonKey] | None = None


@dataclass
class Plan:
    """Every operation of one run plus what the report needs to tell about the rest."""

    ops: list[Op]
    counts: dict[str, int]
    source_counts: dict[str, int]
    owned: int
    manual: int
    gone: dict[str, str] = field(default_factory=dict)  # owned M5 id -> label, person gone
    present: set[str] = field(default_factory=set)  # owned M5 ids whose person is present
    issues: list[RegisterIssue] = field(default_factory=list)
    #: M5 users the link store links (existing ones); ``owned`` also counts users with our marker
    linked: int = 0

    @property
    def writes(self) -> list[Op]:
        return [op for op in self.ops if op.writes]

    @property
    def m5_users(self) -> int:
        """Every M5 user the plan saw (owned and manual)."""
        return self.owned + self.manual

    def blankings(self) -> list[Blanking]:
        """Every change that empties a field that has a value in M5 (its own change class).

        Not counted: the end date a rehire clears, and the fields a person with protected identity
        must not show (the policy empties them on purpose).
        """
        out: list[Blanking] = []
        for op in self.ops:
            if not isinstance(op, Update) or op.protected:
                continue
            for c in op.changes:
                if not c.before.strip() or c.after.strip() or c.field == "status":
                    continue
                if isinstance(op, Reactivate) and c.field == "enddate":
                    continue
                out.append(Blanking(label=op.label, m5_id=op.m5_id or "", field=c.field, before=c.before,
                                    name=c.field in NAME_FIELDS))
        return out

    def of_kind(self, *kinds: str) -> list[Op]:
        return [op for op in self.ops if op.kind in kinds]


# ---------------------------------------------------------------------------------------------
class _Planner:
    """One plan computation; holds the lookups shared by every person."""

    def __init__(self, current: CurrentState, policy: SyncPolicy, ctx: PlanContext, managed_groups: frozenset[str]):
        self.current = current
        self.policy = policy
        self.ctx = ctx
        self.managed_groups = managed_groups
        self.managed_cf = {g.casefold() for g in managed_groups}
        self.today = ctx.today.isoformat()
        self.departments = set(current.departments)
        self.usergroups = set(current.usergroups)
        self.accessgroups = set(current.accessgroups)
        self.ops: list[Op] = []
        self.reported_names: set[tuple[str, str]] = set()
        self.counts: dict[str, int] = {}

    def count(self, situation: str) -> None:
        self.counts[situation] = self.counts.get(situation, 0) + 1

    # --- departments and user groups ---------------------------------------------------------
    def _named(self, du: DesiredUser, fields: dict[str, str]) -> None:
        """Create or report unknown departments/user groups; drop what cannot be set."""
        for fld, known, action, make in (
            ("department", self.departments, self.policy.on_unknown_department, CreateDepartment),
            ("usergroup", self.usergroups, self.policy.on_unknown_user_group, CreateUserGroup),
        ):
            name = fields.get(fld, "")
            if not name or name.casefold() in known:
                continue
            if action == "create":
                known.add(name.casefold())
                self.ops.append(make(situation=f"unknown_{fld}", label=name, name=name))
                self.count(f"unknown_{fld}")
            else:
                if (fld, name.casefold()) not in self.reported_names:
                    self.reported_names.add((fld, name.casefold()))
                    what = "department" if fld == "department" else "user group"
                    self.ops.append(Report(situation=f"unknown_{fld}", label=name,
                                           message=f"{what} {name!r} does not exist in M5; not set"))
                    self.count(f"unknown_{fld}")
                del fields[fld]

    def _groups(self, du: DesiredUser) -> frozenset[str]:
        wanted = frozenset(g for g in du.accessgroups if g.casefold() in self.accessgroups)
        for g in du.accessgroups - wanted:
            if ("accessgroup", g.casefold()) not in self.reported_names:
                self.reported_names.add(("accessgroup", g.casefold()))
                self.ops.append(Report(situation="unknown_accessgroup", label=g,
                                       message=f"access group {g!r} does not exist in M5; not granted"))
                self.count("unknown_accessgroup")
        return wanted

    # --- one present person ----------------------------------------------------------------------
    def desired_fields(self, du: DesiredUser, marker: str) -> dict[str, str]:
        fields = dict(du.fields)
        self._named(du, fields)
        fields[self.current.marker_field] = marker
        return fields

    def linked(self, du: DesiredUser, cu: CurrentUser) -> Op | None:
        """The operation for a present person whose owned M5 user exists (None: unchanged)."""
        mine = self.policy.parse_marker(cu.get(self.current.marker_field))
        marker = cu.get(self.current.marker_field) if mine in du.keys else self.policy.marker(*du.key)
        fields = self.desired_fields(du, marker)
        inactive = cu.get("status") == str(self.policy.inactive_status)
        rehire = inactive and cu.id in self.ctx.gone_since
        by_hand = inactive and not rehire
        if rehire and self.policy.situations.rehire == "report":
            self.count("rehire")
            return Report(situation="rehire", label=du.label, key=du.key, m5_id=cu.id, protected=du.protected,
                          message="back in the register, but the M5 user stays deactivated (rehire = report)")
        if by_hand:
            self.count("inactive_in_m5")
        if rehire or (by_hand and self.policy.situations.inactive_in_m5 == "activate"):
            fields["status"] = str(self.policy.active_status)
            fields.setdefault("enddate", "")
        changes = tuple(
            Change(f, cu.get(f), v)
            for f, v in fields.items()
            if not _same(f, cu.get(f), v)
        )
        wanted = self._groups(du)
        have_cf = {g.casefold() for g in cu.accessgroups}
        wanted_cf = {g.casefold() for g in wanted}
        add = frozenset(g for g in wanted if g.casefold() not in have_cf)
        remove = frozenset(
            g for g in cu.accessgroups if g.casefold() in self.managed_cf and g.casefold() not in wanted_cf
        )
        if rehire:
            self.count("rehire")
            return Reactivate(situation="rehire", label=du.label, key=du.key, m5_id=cu.id, protected=du.protected,
                              rastamp=cu.rastamp, changes=changes, add_groups=add, remove_groups=remove,
                              unblock_cards=self.unblock(cu))
        if by_hand and self.policy.situations.inactive_in_m5 == "activate":
            return Reactivate(situation="inactive_in_m5", label=du.label, key=du.key, m5_id=cu.id,
                              protected=du.protected, rastamp=cu.rastamp, changes=changes, add_groups=add,
                              remove_groups=remove)
        if by_hand and not changes and not add and not remove:
            return Report(situation="inactive_in_m5", label=du.label, key=du.key, m5_id=cu.id, protected=du.protected,
                          message="in the register, but deactivated in M5 by hand; left inactive "
                                  "(inactive_in_m5 = leave)")
        if not changes and not add and not remove:
            self.count("unchanged")
            return None
        situation = "changed"
        if any(c.field == "enddate" and c.after for c in changes):
            situation = "known_end"
        if self.policy.situations.changed == "report":
            self.count(situation)
            return Report(situation=situation, label=du.label, key=du.key, m5_id=cu.id, protected=du.protected,
                          message="differs from the register: " + ", ".join(c.field for c in changes))
        self.count(situation)
        return Update(situation=situation, label=du.label, key=du.key, m5_id=cu.id, protected=du.protected,
                      rastamp=cu.rastamp, changes=changes, add_groups=add, remove_groups=remove)

    def unblock(self, cu: CurrentUser) -> tuple[str, ...]:
        """The cards to unblock on rehire: those the engine blocked, unless they are open already
        (a card no longer held by the user is kept: apply reports what became of it)."""
        if not self.policy.situations.rehire_unblock_cards:
            return ()
        ours = self.ctx.blocked_by_sync.get(cu.id, {})
        open_now = {cid for cid, blocked in cu.cards if not blocked}
        return tuple(sorted((c for c in ours if c not in open_now), key=_num))

    def create(self, du: DesiredUser, situation: str) -> Op:
        fields = self.desired_fields(du, self.policy.marker(*du.key))
        fields["status"] = str(self.policy.active_status)
        if situation == "new" and fields.get("startdate", "") > self.today:
            situation = "future_start"
        self.count(situation)
        return Create(situation=situation, label=du.label, key=du.key, protected=du.protected,
                      fields=fields, accessgroups=self._groups(du), marker=fields[self.current.marker_field])

    # --- one owned user whose person is gone ------------------------------------------------------
    def gone(self, cu: CurrentUser, label: str) -> Op | None:
        inactive = cu.get("status") == str(self.policy.inactive_status)
        since = self.ctx.gone_since.get(cu.id, self.today)
        grace = self.policy.grace()
        due = grace is not None and (self.ctx.today - _dt.date.fromisoformat(since)).days >= grace
        if self.policy.situations.gone == "report":
            self.count("gone")
            return Report(situation="gone", label=label, m5_id=cu.id,
                          message="gone from every register; left as it is (gone = report)")
        if due:
            self.count("delete")
            return Delete(situation="delete", label=label, m5_id=cu.id, gone_since=since)
        if inactive:
            unblocked = tuple(cid for cid, blocked in cu.cards if not blocked)
            if unblocked:
                self.count("gone")
                return Deactivate(situation="gone", label=label, m5_id=cu.id, rastamp=cu.rastamp,
                                  block_cards=unblocked)
            self.count("gone_waiting")
            return None
        changes = [Change("status", cu.get("status"), str(self.policy.inactive_status))]
        end = cu.get("enddate")
        if not end or end[:10] > self.today:
            changes.append(Change("enddate", end, self.today))
        self.count("gone")
        return Deactivate(situation="gone", label=label, m5_id=cu.id, rastamp=cu.rastamp, changes=tuple(changes),
                          block_cards=tuple(cid for cid, blocked in cu.cards if not blocked))


def _same(field_name: str, before: str, after: str) -> bool:
    if before == after:
        return True
    if field_name in ("department", "usergroup"):
        return before.casefold() == after.casefold()
    if field_name in ("startdate", "enddate"):
        return before[:10] == after[:10] and (len(before) <= 10 or before[10:].strip("T0:. ") == "")
    return False


def _label_of(cu: CurrentUser) -> str:
    name = " ".join(x for x in (cu.get("firstname"), cu.get("lastname")) if x)
    return f"{name} (M5 {cu.id})"


def _ownership(users: Mapping[str, CurrentUser], marker_field: str, policy: SyncPolicy, ctx: PlanContext
               ) -> tuple[set[str], dict[PersonKey, list[str]]]:
    """Owned M5 ids (linked in the link store, or carrying our marker) and marker -> user ids."""
    by_marker: dict[PersonKey, list[str]] = {}
    owned: set[str] = set()
    for uid in sorted(users, key=_num):
        mk = policy.parse_marker(users[uid].get(marker_field))
        if mk is not None:
            owned.add(uid)
            by_marker.setdefault(ctx.marker_key(*mk) if ctx.marker_key else mk, []).append(uid)
    owned.update(mid for mid in ctx.links.values() if mid in users)
    return owned, by_marker


def _targets(desired: DesiredState, users: Mapping[str, CurrentUser], ctx: PlanContext,
             by_marker: Mapping[PersonKey, list[str]]) -> tuple[dict[PersonKey, str], dict[PersonKey, str]]:
    """Each person's M5 user (link first, winner key first, then marker; a user is claimed once),
    and the linked M5 user that no longer exists, for people whose link points nowhere."""
    claimed: set[str] = set()
    target: dict[PersonKey, str] = {}
    missing_link: dict[PersonKey, str] = {}
    for du in desired.users:
        for k in du.keys:
            mid = ctx.links.get(k)
            if mid is None:
                continue
            if mid in users and mid not in claimed:
                claimed.add(mid)
                target[du.key] = mid
                break
            if mid not in users:
                missing_link.setdefault(du.key, mid)
    for du in desired.users:
        if du.key in target:
            continue
        mid = next((m for k in du.keys for m in by_marker.get(k, ()) if m not in claimed), None)
        if mid is not None:
            claimed.add(mid)
            target[du.key] = mid
    return target, missing_link


def _unmatched(p: _Planner, du: DesiredUser, lost: str | None, owned: set[str]) -> Op:
    """The operation for a person without an M5 user: deleted in M5, new (report, queue, create)."""
    policy, ctx = p.policy, p.ctx
    if lost is not None and lost not in ctx.deleted_by_sync:
        if policy.situations.deleted_in_m5 == "recreate":
            return p.create(du, "deleted_in_m5")
        p.count("deleted_in_m5")
        return Report(situation="deleted_in_m5", label=du.label, key=du.key, m5_id=lost, protected=du.protected,
                      message=f"the linked M5 user {lost} was deleted in M5; not recreated (deleted_in_m5 = report)")
    if policy.situations.new == "report":
        p.count("new")
        return Report(situation="new", label=du.label, key=du.key, protected=du.protected,
                      message="new in the register; not created (new = report)")
    if policy.situations.new == "match_then_create":
        users = p.current.users
        cand = next((ctx.candidates[k] for k in du.keys
                     if k in ctx.candidates and ctx.candidates[k][0] in users and ctx.candidates[k][0] not in owned),
                    None)
        if cand is not None:
            p.count("queued")
            return Queue(situation="queued", label=du.label, key=du.key, m5_id=cand[0], protected=du.protected,
                         probability=float(cand[1]))
    return p.create(du, "new")


def plan(
    desired: DesiredState,
    current: CurrentState,
    policy: SyncPolicy,
    context: PlanContext | None = None,
) -> Plan:
    """Diff desired against current state; pure."""
    ctx = context or PlanContext()
    p = _Planner(current, policy, ctx, desired.managed_accessgroups)
    users = current.users
    owned, by_marker = _ownership(users, current.marker_field, policy, ctx)
    target, missing_link = _targets(desired, users, ctx, by_marker)

    present: set[str] = set()
    for du in desired.users:
        mid = target.get(du.key)
        if mid is None:
            p.ops.append(_unmatched(p, du, missing_link.get(du.key), owned))
            continue
        present.add(mid)
        op = p.linked(du, users[mid])
        if op is not None:
            p.ops.append(op)

    gone: dict[str, str] = {}
    for uid in sorted(owned - present, key=_num):
        cu = users[uid]
        gone[uid] = _label_of(cu)
        op = p.gone(cu, gone[uid])
        if op is not None:
            p.ops.append(op)

    order = {"create_department": 0, "create_usergroup": 1}
    p.ops.sort(key=lambda op: order.get(op.kind, 2))
    manual = len(users) - len(owned)
    counts = dict(p.counts)
    counts["manual_left_alone"] = manual
    return Plan(
        ops=p.ops,
        counts=counts,
        source_counts=dict(desired.source_counts),
        owned=len(owned),
        manual=manual,
        gone=gone,
        present=present,
        issues=list(desired.issues),
        linked=sum(1 for mid in set(ctx.links.values()) if mid in users),
    )


def _num(uid: str) -> tuple[int, str]:
    return (int(uid), "") if uid.isdigit() else (1 << 62, uid)


def replan_user(
    op: Op,
    fresh: CurrentUser | None,
    desired: DesiredState,
    current: CurrentState,
    policy: SyncPolicy,
    context: PlanContext | None = None,
) -> Op | None:
    """The operation for one user after a ``rastamp`` conflict, from its freshly read state.

    The re-read user may have lost our marker (someone took it over by hand: no longer ours),
    been deleted, or now equal the desired state; a manual edit of a managed field shows up as
    the ``before`` of a reported change, never silently.
    """
    ctx = context or PlanContext()
    if fresh is None:
        return None
    still_owned = (
        policy.parse_marker(fresh.get(current.marker_field)) is not None or fresh.id in set(ctx.links.values())
    )
    if not still_owned:
        return None
    p = _Planner(
        CurrentState(users={fresh.id: fresh}, marker_field=current.marker_field, departments=current.departments,
                     usergroups=current.usergroups, accessgroups=current.accessgroups),
        policy, ctx, desired.managed_accessgroups,
    )
    if op.key is not None:
        du = desired.by_key().get(op.key)
        if du is None:
            return None
        return p.linked(du, fresh)
    return p.gone(fresh, op.label)
