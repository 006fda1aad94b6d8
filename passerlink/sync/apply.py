"""Apply a plan to M5: the only side effect of a sync run.

- Departments and user groups first (users refer to them), then user operations on a bounded
  thread pool (``[sync] concurrency``).
- Every write is journaled before and after (``SyncState.journal``). A create whose answer never
  came (timeout, 5xx, a kill in an earlier run) is resolved by looking for its marker in M5
  before creating again: no duplicates.
- A stale ``rastamp`` re-reads the user and re-plans it (``replan_user``); a manual edit made
  meanwhile is the ``before`` of the re-planned change, never silently lost.
- Cards blocked on deactivation are journaled before the block call and recorded with their
  rastamp once M5 confirmed it (a block a killed run never recorded is settled by the next run:
  recorded if the card is blocked, forgotten if not); on rehire exactly those are unblocked, each
  re-read first: a card deleted, moved to another user or changed in M5 since the engine blocked
  it is reported and left as it is.
- A circuit breaker stops after ``[sync] circuit_breaker`` failures in a row that say M5 is in
  trouble (unreachable, refusing our login, answering garbage); a single record M5 refuses
  (a 4xx about its data) is an error of that record only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from passerlink.errors import (
    M5ApiError,
    M5AuthError,
    M5ConflictError,
    M5Error,
    M5NotFoundError,
    M5ProtocolError,
    M5UnavailableError,
)
from passerlink.policy import SyncPolicy
from passerlink.sync.current import CurrentState, CurrentUser, m5_value, user_from_m5
from passerlink.sync.desired import DesiredState
from passerlink.sync.journal import SyncState
from passerlink.sync.planner import (
    Create,
    CreateDepartment,
    CreateUserGroup,
    Deactivate,
    Delete,
    Op,
    Plan,
    PlanContext,
    Reactivate,
    Update,
    replan_user,
)

__all__ = ["Outcome", "ApplyResult", "apply_plan", "M5Writer"]

log = logging.getLogger(__name__)


class M5Writer(Protocol):
    """What apply needs of ``M5Client``."""

    def list_users(self, filter: Mapping[str, str] | None = None) -> list[dict]: ...
    def get_user(self, user_id: int) -> dict: ...
    def create_user(self, fields: Mapping[str, Any]) -> dict: ...
    def update_user(self, user_id: int, fields: Mapping[str, Any], rastamp: str) -> dict: ...
    def delete_user(self, user_id: int) -> None: ...
    def list_cards(self, user_id: int | None = None) -> list[dict]: ...
    def block_cards(self, card_ids: Sequence[int]) -> None: ...
    def get_card(self, card_id: int) -> dict: ...
    def update_card(self, card_id: int, fields: Mapping[str, Any], rastamp: str) -> dict: ...
    def list_departments(self) -> list[dict]: ...
    def create_department(self, name: str, data: str = "") -> dict: ...
    def list_usergroups(self) -> list[dict]: ...
    def create_usergroup(self, name: str, data: str = "") -> dict: ...
    def add_user_accessgroup(self, user_id: int, accessgroup_id: int) -> None: ...
    def remove_user_accessgroup(self, user_id: int, accessgroup_id: int) -> None: ...


@dataclass
class Outcome:
    """What became of one planned operation."""

    planned: Op
    status: str  # done | failed | skipped
    op: Op | None = None  # the operation finally applied (after re-plans); None = nothing left to do
    error: str = ""
    m5_id: str | None = None
    notes: list[str] = field(default_factory=list)
    unblocked: list[str] = field(default_factory=list)  # cards this operation unblocked


@dataclass
class ApplyResult:
    outcomes: list[Outcome]
    stopped: str = ""  # why the circuit breaker stopped the run ("" = it did not)

    def by_status(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.status] = out.get(o.status, 0) + 1
        return out

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


_SYSTEMIC = (M5UnavailableError, M5AuthError, M5ProtocolError)


class _Breaker:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_a_row = 0
        self.tripped = ""
        self._lock = threading.Lock()

    def ok(self) -> None:
        with self._lock:
            self.in_a_row = 0

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            if not isinstance(exc, _SYSTEMIC):
                return
            self.in_a_row += 1
            if self.in_a_row >= self.limit and not self.tripped:
                self.tripped = (f"stopped after {self.in_a_row} failed M5 calls in a row (circuit breaker): "
                                f"{exc}")


class _Applier:
    def __init__(self, client: M5Writer, state: SyncState, run_id: str, policy: SyncPolicy,
                 current: CurrentState, desired: DesiredState, ctx: PlanContext) -> None:
        self.client = client
        self.state = state
        self.run_id = run_id
        self.policy = policy
        self.current = current
        self.desired = desired
        self.ctx = ctx
        self.breaker = _Breaker(policy.circuit_breaker)
        self.unfinished = state.unfinished_markers()
        self.today = ctx.today.isoformat()

    # ---- payloads ------------------------------------------------------------------------------
    def _named_id(self, table: dict[str, str], name: str) -> int | None:
        if not name:
            return None
        ident = table.get(name.casefold())
        return int(ident) if ident is not None else None

    def payload(self, values: Mapping[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f, v in values.items():
            if f == "department":
                out["fkdepartment"] = self._named_id(self.current.departments, v)
            elif f == "usergroup":
                out["fkusergroup"] = self._named_id(self.current.usergroups, v)
            else:
                out[f] = m5_value(f, v)
        return out

    def fresh(self, m5_id: str) -> CurrentUser | None:
        try:
            raw = self.client.get_user(int(m5_id))
        except M5NotFoundError:
            return None
        return self._user(raw)

    def _user(self, raw: Mapping[str, Any]) -> CurrentUser:
        depts = {i: n for n, i in self.current.departments.items()}
        groups = {i: n for n, i in self.current.usergroups.items()}
        return user_from_m5(raw, depts, groups)

    # ---- departments and groups (serial, first) ----------------------------------------------
    def named(self, op: CreateDepartment | CreateUserGroup) -> Outcome:
        dept = isinstance(op, CreateDepartment)
        table = self.current.departments if dept else self.current.usergroups
        self.state.journal(self.run_id, op.ident() + op.name, op.kind, "start")
        made: dict | None
        try:
            try:
                made = (self.client.create_department(op.name) if dept else self.client.create_usergroup(op.name))
            except (M5ApiError, M5UnavailableError):
                # it may exist already (made by a run whose answer was lost): look before failing
                listed = self.client.list_departments() if dept else self.client.list_usergroups()
                key = "departmentname" if dept else "groupname"
                made = next((d for d in listed if str(d.get(key, "")).casefold() == op.name.casefold()), None)
                if made is None:
                    raise
            table[op.name.casefold()] = str(made["id"])
        except M5Error as exc:
            self.state.journal(self.run_id, op.ident() + op.name, op.kind, "failed", detail={"error": str(exc)})
            self.breaker.fail(exc)
            return Outcome(op, "failed", op=op, error=str(exc))
        self.state.journal(self.run_id, op.ident() + op.name, op.kind, "done", m5_id=str(made["id"]))
        self.breaker.ok()
        return Outcome(op, "done", op=op, m5_id=str(made["id"]))

    # ---- one user operation -------------------------------------------------------------------
    def run(self, op: Op) -> Outcome:
        if self.breaker.tripped:
            return Outcome(op, "skipped", op=op, error="not applied: the run stopped (circuit breaker)")
        marker = op.marker if isinstance(op, Create) else ""
        self.state.journal(self.run_id, op.ident(), op.kind, "start", m5_id=op.m5_id or "", marker=marker)
        if isinstance(op, Deactivate) and op.m5_id:
            self.state.mark_gone({op.m5_id: op.label}, self.today)
        outcome = Outcome(op, "done", op=op, m5_id=op.m5_id)
        try:
            self._apply(op, outcome)
        except M5Error as exc:
            self.state.journal(self.run_id, op.ident(), op.kind, "failed", m5_id=outcome.m5_id or "", marker=marker,
                               detail={"error": str(exc)})
            self.breaker.fail(exc)
            outcome.status, outcome.error = "failed", str(exc)
            return outcome
        except Exception as exc:  # noqa: BLE001 - one bad record must not kill the other threads
            log.exception("applying %s failed", op.ident())
            self.state.journal(self.run_id, op.ident(), op.kind, "failed", m5_id=outcome.m5_id or "", marker=marker,
                               detail={"error": repr(exc)})
            outcome.status, outcome.error = "failed", f"unexpected error: {exc!r}"
            return outcome
        self.state.journal(self.run_id, op.ident(), op.kind, "done", m5_id=outcome.m5_id or "", marker=marker)
        if isinstance(outcome.op, Delete) and outcome.m5_id:
            self.state.mark_deleted(outcome.m5_id)
            self.state.forget_blocked(outcome.m5_id)
        if isinstance(outcome.op, Reactivate) and outcome.op.situation == "rehire" and outcome.m5_id:
            self.state.forget_blocked(outcome.m5_id)  # back at work: what is still blocked stays so
        self.breaker.ok()
        return outcome

    def _apply(self, op: Op, outcome: Outcome) -> None:
        for _ in range(self.policy.max_conflict_replans + 1):
            try:
                if isinstance(op, Create):
                    self._create(op, outcome)
                elif isinstance(op, Update):  # and Reactivate
                    self._update(op, outcome)
                elif isinstance(op, Deactivate):
                    self._deactivate(op, outcome)
                elif isinstance(op, Delete):
                    self._delete(op, outcome)
                else:
                    raise ValueError(f"cannot apply a {op.kind} operation")
                if isinstance(op, Reactivate) and op.unblock_cards:
                    op = dataclasses.replace(op, unblock_cards=tuple(outcome.unblocked))
                outcome.op = op
                return
            except M5ConflictError:
                fresh = self.fresh(str(op.m5_id))
                new = replan_user(op, fresh, self.desired, self.current, self.policy, self.ctx)
                outcome.notes.append("conflict: changed in M5 during the run; re-read and re-planned")
                if new is None:
                    outcome.op = None
                    return
                op = new
        raise M5ConflictError(
            f"M5 user {op.m5_id} kept changing during the run ({self.policy.max_conflict_replans} re-plans); "
            "left for the next run", status=409, endpoint=f"PATCH /user/{op.m5_id}",
        )

    def _find_marker(self, marker: str) -> dict | None:
        found = self.client.list_users(filter={self.current.marker_field: marker})
        found = [u for u in found if str(u.get(self.current.marker_field, "")) == marker]
        return min(found, key=lambda u: int(u["id"])) if found else None

    def _create(self, op: Create, outcome: Outcome) -> None:
        made: dict | None = None
        if op.marker in self.unfinished:
            made = self._find_marker(op.marker)
            if made is not None:
                outcome.notes.append("created by an earlier, interrupted run; not created again")
        attempts = 2
        while made is None:
            attempts -= 1
            try:
                made = self.client.create_user(self.payload(op.fields))
            except (M5UnavailableError, M5ProtocolError):
                # the create may have reached M5 although its answer did not reach us
                made = self._find_marker(op.marker)
                if made is None and attempts <= 0:
                    raise
                if made is not None:
                    outcome.notes.append("answer lost; found by its marker, not created again")
        outcome.m5_id = str(made["id"])
        self.state.journal(self.run_id, op.ident(), op.kind, "created", m5_id=outcome.m5_id, marker=op.marker)
        user = self._user(made)
        # an earlier attempt may have created it with older values: bring it to the desired state
        pending = {f: v for f, v in op.fields.items() if user.get(f) != v
                   and not (f in ("department", "usergroup") and user.get(f).casefold() == v.casefold())}
        if pending:
            self.client.update_user(int(outcome.m5_id), self.payload(pending), user.rastamp)
        self._groups(outcome.m5_id, op.accessgroups - user.accessgroups, frozenset())

    def _update(self, op: Update, outcome: Outcome) -> None:
        if isinstance(op, Reactivate):
            # cards first: should the user's PATCH fail, the next run still sees a rehire
            for cid in op.unblock_cards:
                self._unblock(str(op.m5_id), cid, outcome)
        if op.changes:
            self.client.update_user(int(str(op.m5_id)), self.payload({c.field: c.after for c in op.changes}),
                                    op.rastamp)
        self._groups(str(op.m5_id), op.add_groups, op.remove_groups)

    def _groups(self, m5_id: str, add: frozenset[str], remove: frozenset[str]) -> None:
        for g in sorted(add):
            ag = self.current.accessgroups.get(g.casefold())
            if ag is not None:
                self.client.add_user_accessgroup(int(m5_id), int(ag))
        for g in sorted(remove):
            ag = self.current.accessgroups.get(g.casefold())
            if ag is None:
                continue
            with contextlib.suppress(M5NotFoundError):  # not a member (any more): what we wanted
                self.client.remove_user_accessgroup(int(m5_id), int(ag))

    def _unblock(self, m5_id: str, cid: str, outcome: Outcome) -> None:
        """Unblock one card the engine blocked, unless it went away or was changed since."""
        if cid in outcome.unblocked:
            return  # done before a re-plan
        expected = self.ctx.blocked_by_sync.get(m5_id, {}).get(cid, "")
        try:
            card = self.client.get_card(int(cid))
            holder = str(card.get("fkusernumber", ""))
            if holder != m5_id:
                outcome.notes.append(f"card {cid} now belongs to M5 user {holder or '(none)'}; left as it is")
            elif not card.get("isblocked"):
                pass  # open already (by hand, or by us before a re-plan)
            elif expected and str(card.get("rastamp", "")) != expected:
                by = card.get("changedby") or "someone"
                outcome.notes.append(f"card {cid} was changed in M5 by {by} after the engine blocked it; left blocked")
            else:
                self.client.update_card(int(cid), {"isblocked": False}, str(card.get("rastamp", "")))
                outcome.unblocked.append(cid)
        except M5NotFoundError:
            outcome.notes.append(f"card {cid} was deleted in M5; nothing to unblock")
        self.state.forget_blocked(m5_id, [cid])

    def _deactivate(self, op: Deactivate, outcome: Outcome) -> None:
        if op.changes:
            self.client.update_user(int(str(op.m5_id)), self.payload({c.field: c.after for c in op.changes}),
                                    op.rastamp)
        if op.block_cards:
            m5_id = str(op.m5_id)
            wanted = {str(c) for c in op.block_cards}
            # write-ahead: a run killed after the block but before the record still knows the cards
            self.state.intend_block(m5_id, wanted, self.run_id)
            try:
                self.client.block_cards([int(c) for c in sorted(wanted, key=_num)])
            except M5NotFoundError:
                # a card went away meanwhile: block what the user holds now
                cards = self.client.list_cards(int(m5_id))
                wanted = {str(c["id"]) for c in cards if not c.get("isblocked")}
                self.state.intend_block(m5_id, wanted, self.run_id)
                self.client.block_cards([int(c) for c in sorted(wanted, key=_num)])
            # remember what we blocked (and its rastamp now): only these are unblocked on rehire
            held = self.client.list_cards(int(m5_id))
            blocked = {str(c["id"]): str(c.get("rastamp", "")) for c in held
                       if str(c["id"]) in wanted and c.get("isblocked")}
            self.state.record_blocked(m5_id, blocked, self.run_id)
            # an intent M5 answered for but that is not blocked now: not ours to unblock later
            self.state.forget_blocked(m5_id, ({str(c) for c in op.block_cards} | wanted) - set(blocked))

    def settle_block_intents(self) -> None:
        """Blocks an earlier run wrote ahead but never recorded (killed in between): a card that is
        blocked now is recorded with its rastamp (so a later manual change of it shows, as for any
        card the engine blocked), one that is open was never blocked and is forgotten. A user
        whose cards cannot be listed now is settled by a later run."""
        for m5_id, cards in self.state.blocked_by_sync().items():
            pending = [cid for cid, stamp in cards.items() if not stamp]
            if not pending:
                continue
            try:
                held = {str(c["id"]): c for c in self.client.list_cards(int(m5_id))}
            except M5Error as exc:
                log.warning("could not settle the card blocks of M5 user %s: %s", m5_id, exc)
                continue
            blocked = {cid: str(held[cid].get("rastamp", "")) for cid in pending
                       if cid in held and held[cid].get("isblocked")}
            self.state.record_blocked(m5_id, blocked, self.run_id)
            self.state.forget_blocked(m5_id, [cid for cid in pending if cid not in blocked])

    def _delete(self, op: Delete, outcome: Outcome) -> None:
        try:
            self.client.delete_user(int(str(op.m5_id)))
        except M5NotFoundError:
            outcome.notes.append("already deleted in M5")


def apply_plan(
    plan: Plan,
    client: M5Writer,
    state: SyncState,
    *,
    run_id: str,
    policy: SyncPolicy,
    current: CurrentState,
    desired: DesiredState,
    context: PlanContext | None = None,
) -> ApplyResult:
    """Apply every writing operation of ``plan``; never raises for a failed operation."""
    ctx = context or PlanContext(today=_dt.date.today())
    a = _Applier(client, state, run_id, policy, current, desired, ctx)
    a.settle_block_intents()
    outcomes: list[Outcome] = []
    user_ops: list[Op] = []
    for op in plan.ops:
        if not op.writes:
            continue
        if isinstance(op, CreateDepartment | CreateUserGroup):
            outcomes.append(a.named(op) if not a.breaker.tripped else
                            Outcome(op, "skipped", op=op, error="not applied: the run stopped (circuit breaker)"))
        else:
            user_ops.append(op)
    failed_names = {(o.planned.kind, getattr(o.planned, "name", "").casefold()) for o in outcomes
                    if o.status != "done"}
    runnable: list[Op] = []
    for op in user_ops:
        needs = _needs_named(op)
        if any(n in failed_names for n in needs):
            outcomes.append(Outcome(op, "skipped", op=op,
                                    error="not applied: its department or user group could not be created"))
        else:
            runnable.append(op)
    if policy.concurrency == 1:
        outcomes += [a.run(op) for op in runnable]
    else:
        with ThreadPoolExecutor(max_workers=policy.concurrency, thread_name_prefix="passerlink-apply") as pool:
            outcomes += list(pool.map(a.run, runnable))
    return ApplyResult(outcomes=outcomes, stopped=a.breaker.tripped)


def _num(card_id: str) -> tuple[int, str]:
    return (int(card_id), "") if card_id.isdigit() else (1 << 62, card_id)


def _needs_named(op: Op) -> set[tuple[str, str]]:
    values: dict[str, str] = {}
    if isinstance(op, Create):
        values = dict(op.fields)
    elif isinstance(op, Update):
        values = {c.field: c.after for c in op.changes}
    out = set()
    if values.get("department"):
        out.add(("create_department", values["department"].casefold()))
    if values.get("usergroup"):
        out.add(("create_usergroup", values["usergroup"].casefold()))
    return out
