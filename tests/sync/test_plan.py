"""The pure plan: every situation, ownership, and a property test with an in-memory M5."""

from __future__ import annotations

import datetime as _dt
import itertools

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passerlink.people import CANONICAL_COLUMNS, PeopleTable
from passerlink.sync import (
    Create,
    CurrentState,
    CurrentUser,
    Deactivate,
    Delete,
    PlanContext,
    Queue,
    Reactivate,
    Report,
    SyncPolicy,
    Update,
    build_desired,
    check_safety,
    plan,
)
from passerlink.sync.planner import CreateDepartment

TODAY = _dt.date(2026, 11, 1)
MARKER = "apireference"


def table(source: str, rows: list[dict], extra: list[dict] | None = None) -> PeopleTable:
    people = pd.DataFrame([{c: str(r.get(c, "")) for c in CANONICAL_COLUMNS} | {"source": source} for r in rows],
                          columns=CANONICAL_COLUMNS)
    return PeopleTable(source, people, pd.DataFrame(extra if extra is not None else [{} for _ in rows]))


def user(uid: int, *, marker: str = "", status: str = "1", cards=(), groups=(), **fields: str) -> CurrentUser:
    f = {"id": str(uid), "rastamp": f"/r{uid}", MARKER: marker, "status": status, **fields}
    return CurrentUser(id=str(uid), rastamp=f"/r{uid}", fields=f, accessgroups=frozenset(groups),
                       cards=tuple(cards))


def state(*users: CurrentUser, departments=("Ekonomi", "Skolan"), groups=("Personal", "Elev"),
          accessgroups=()) -> CurrentState:
    return CurrentState(
        users={u.id: u for u in users}, marker_field=MARKER,
        departments={d.casefold(): str(i) for i, d in enumerate(departments, 1)},
        usergroups={g.casefold(): str(i) for i, g in enumerate(groups, 1)},
        accessgroups={g.casefold(): str(i) for i, g in enumerate(accessgroups, 1)},
    )


ANNA = dict(source_id="1", given_names="Anna", family_name="Berg", org_unit="Ekonomi", email="anna@x.se")
IN_SYNC = dict(firstname="Anna", lastname="Berg", email="anna@x.se", employmentnumber="", department="Ekonomi",
               usergroup="Personal")


def desired(*rows, links=None, policy=None, extra=None):
    return build_desired({"hr": table("hr", list(rows), extra)}, links, policy or SyncPolicy())


def links_df(*rows):
    return pd.DataFrame(rows, columns=["source", "source_id", "m5_id"])


def ctx(**kw) -> PlanContext:
    return PlanContext(today=TODAY, **kw)


def test_linked_and_unchanged_plans_nothing():
    p = plan(desired(ANNA), state(user(5, marker="passerlink:hr:1", **IN_SYNC)), SyncPolicy(), ctx())
    assert p.ops == [] and p.counts["unchanged"] == 1 and p.owned == 1


def test_linked_and_changed_is_an_update_with_before_and_after_and_adopts():
    cur = state(user(5, **{**IN_SYNC, "lastname": "Bergh"}))
    p = plan(desired(ANNA), cur, SyncPolicy(), ctx(links={("hr", "1"): "5"}))
    (op,) = p.ops
    assert isinstance(op, Update) and op.m5_id == "5" and op.rastamp == "/r5"
    assert {(c.field, c.before, c.after) for c in op.changes} == {
        ("lastname", "Bergh", "Berg"), (MARKER, "", "passerlink:hr:1")}


def test_manual_records_are_never_touched():
    manual = user(9, firstname="Vera", lastname="Vikarie", marker="HR-9")
    p = plan(desired(), state(manual), SyncPolicy(), ctx())
    assert p.ops == [] and p.manual == 1 and p.counts["manual_left_alone"] == 1


def test_new_person_is_created_with_marker_or_queued_when_a_likely_match_exists():
    cur = state(user(9, firstname="Anna", lastname="Berg"))
    p = plan(desired(ANNA), cur, SyncPolicy(), ctx())
    (op,) = p.ops
    assert isinstance(op, Create) and op.marker == "passerlink:hr:1"
    assert op.fields[MARKER] == "passerlink:hr:1" and op.fields["status"] == "1"
    p = plan(desired(ANNA), cur, SyncPolicy(), ctx(candidates={("hr", "1"): ("9", 0.97)}))
    (op,) = p.ops
    assert isinstance(op, Queue) and op.m5_id == "9" and op.probability == 0.97
    p = plan(desired(ANNA), cur, SyncPolicy(situations={"new": "report"}), ctx())
    assert isinstance(p.ops[0], Report)


def test_future_start_and_known_end():
    extra = [{"Anställningsdatum": "2027-01-01", "Slutdatum": ""}]
    (op,) = plan(desired(ANNA, extra=extra), state(), SyncPolicy(), ctx()).ops
    assert op.situation == "future_start" and op.fields["startdate"] == "2027-01-01"
    extra = [{"Anställningsdatum": "2020-01-01", "Slutdatum": "2027-06-30"}]
    cur = state(user(5, marker="passerlink:hr:1", startdate="2020-01-01", enddate="", **IN_SYNC))
    (op,) = plan(desired(ANNA, extra=extra), cur, SyncPolicy(), ctx()).ops
    assert op.situation == "known_end" and [(c.field, c.after) for c in op.changes] == [("enddate", "2027-06-30")]


def test_gone_deactivates_at_once_then_deletes_after_grace():
    gone = user(5, marker="passerlink:hr:1", cards=[("70", False), ("71", True)], **IN_SYNC)
    (op,) = plan(desired(), state(gone), SyncPolicy(), ctx()).ops
    assert isinstance(op, Deactivate) and op.block_cards == ("70",)
    assert {(c.field, c.after) for c in op.changes} == {("status", "0"), ("enddate", "2026-11-01")}
    inactive = user(5, marker="passerlink:hr:1", status="0", enddate="2026-10-01", **IN_SYNC)
    p = plan(desired(), state(inactive), SyncPolicy(), ctx(gone_since={"5": "2026-10-20"}))
    assert p.ops == [] and p.counts["gone_waiting"] == 1 and p.gone == {"5": "Anna Berg (M5 5)"}
    (op,) = plan(desired(), state(inactive), SyncPolicy(), ctx(gone_since={"5": "2026-10-01"})).ops
    assert isinstance(op, Delete) and op.gone_since == "2026-10-01"
    never = plan(desired(), state(inactive), SyncPolicy(grace_days="never"), ctx(gone_since={"5": "2000-01-01"}))
    assert never.ops == []


def test_rehire_reactivates_the_same_user():
    inactive = user(5, marker="passerlink:hr:1", status="0", enddate="2026-10-01", **IN_SYNC)
    (op,) = plan(desired(ANNA), state(inactive), SyncPolicy(), ctx(gone_since={"5": "2026-10-01"})).ops
    assert isinstance(op, Reactivate) and op.m5_id == "5"
    assert {(c.field, c.after) for c in op.changes} == {("status", "1"), ("enddate", "")}
    # deactivated by hand (not by us): left inactive and reported, or activated if so configured
    (op,) = plan(desired(ANNA), state(inactive), SyncPolicy(), ctx()).ops
    assert isinstance(op, Report) and op.situation == "inactive_in_m5"
    (op,) = plan(desired(ANNA), state(inactive), SyncPolicy(situations={"inactive_in_m5": "activate"}), ctx()).ops
    assert isinstance(op, Reactivate) and ("status", "1") in {(c.field, c.after) for c in op.changes}


def test_linked_user_deleted_in_m5_is_reported_or_recreated():
    p = plan(desired(ANNA), state(), SyncPolicy(), ctx(links={("hr", "1"): "5"}))
    assert isinstance(p.ops[0], Report) and p.ops[0].situation == "deleted_in_m5"
    p = plan(desired(ANNA), state(), SyncPolicy(situations={"deleted_in_m5": "recreate"}),
             ctx(links={("hr", "1"): "5"}))
    assert isinstance(p.ops[0], Create) and p.ops[0].situation == "deleted_in_m5"
    p = plan(desired(ANNA), state(), SyncPolicy(), ctx(links={("hr", "1"): "5"}, deleted_by_sync=frozenset({"5"})))
    assert isinstance(p.ops[0], Create) and p.ops[0].situation == "new"


def test_unknown_department_is_created_first_or_reported():
    row = {**ANNA, "org_unit": "Nya enheten"}
    p = plan(desired(row), state(), SyncPolicy(), ctx())
    assert [type(o) for o in p.ops] == [CreateDepartment, Create] and p.ops[0].name == "Nya enheten"
    p = plan(desired(row), state(), SyncPolicy(on_unknown_department="report"), ctx())
    assert [type(o) for o in p.ops] == [Report, Create] and "department" not in p.ops[1].fields


def test_access_groups_only_the_managed_ones_move():
    pol = SyncPolicy(access_rules=[{"accessgroup": "Kontor", "org_unit": "Ekonomi"},
                                   {"accessgroup": "Skola", "org_unit": "Skolan"}])
    cur = state(user(5, marker="passerlink:hr:1", groups=["Skola", "Garage"], **IN_SYNC),
                accessgroups=["Kontor", "Skola", "Garage"])
    (op,) = plan(desired(ANNA, policy=pol), cur, pol, ctx()).ops
    assert op.add_groups == {"Kontor"} and op.remove_groups == {"Skola"}  # Garage is not managed


def test_a_marker_on_a_claimed_user_does_not_block_a_create():
    # user 5 carries hr:2's marker but the link store gives it to hr:1
    cur = state(user(5, marker="passerlink:hr:2", **IN_SYNC))
    rows = [ANNA, dict(source_id="2", given_names="Bo", family_name="Ek")]
    p = plan(desired(*rows), cur, SyncPolicy(), ctx(links={("hr", "1"): "5"}))
    kinds = sorted((type(o).__name__, o.key) for o in p.ops)
    assert kinds == [("Create", ("hr", "2")), ("Update", ("hr", "1"))]


# ---- safety rules -------------------------------------------------------------------------------
def _owned(n: int) -> list[CurrentUser]:
    return [user(i, marker=f"passerlink:hr:{i}", firstname=f"P{i}", lastname="X", email="", employmentnumber="",
                 department="", usergroup="Personal") for i in range(1, n + 1)]


def _rows(ids) -> list[dict]:
    return [dict(source_id=str(i), given_names=f"P{i}", family_name="X") for i in ids]


def _stops(p, policy, prev=None, allow=False):
    return [r.rule for r in check_safety(p, policy, prev, allow_mass_changes=allow) if r.stops]


def test_safety_rules_each_stop_and_can_be_overridden():
    pol = SyncPolicy(thresholds={"deactivations": {"max_count": 3, "max_share": 0.05}, "min_base_for_share": 20})
    p = plan(desired(*_rows(range(1, 36))), state(*_owned(40)), pol, ctx())
    assert len(p.of_kind("deactivate")) == 5
    assert _stops(p, pol) == ["deactivations_count", "deactivations_share"]
    assert _stops(p, pol, allow=True) == []
    ok = plan(desired(*_rows(range(1, 39))), state(*_owned(40)), pol, ctx())
    assert _stops(ok, pol) == []
    pol = SyncPolicy(thresholds={"creates": {"max_count": 2, "max_share": None}})
    p = plan(desired(*_rows(range(1, 44))), state(*_owned(40)), pol, ctx())
    assert _stops(p, pol) == ["creates_count"]
    pol = SyncPolicy(thresholds={"updates": {"max_count": None, "max_share": 0.1}})
    p = plan(desired(*[{**r, "family_name": "Y"} for r in _rows(range(1, 41))]), state(*_owned(40)), pol, ctx())
    assert _stops(p, pol) == ["updates_share"]
    pol = SyncPolicy(grace_days=0, thresholds={"deletes": {"max_count": 0}})
    p = plan(desired(*_rows(range(1, 40))), state(*_owned(40)), pol, ctx())
    assert _stops(p, pol) == ["deletes_count"]


def test_source_rules_empty_and_shrunk():
    pol = SyncPolicy()
    p = plan(desired(*_rows(range(1, 41))), state(*_owned(40)), pol, ctx())
    assert _stops(p, pol, {"source_counts": {"hr": 60}}) == ["source_not_shrunk:hr"]
    assert _stops(p, pol, {"source_counts": {"hr": 45}}) == []
    empty = build_desired({"hr": table("hr", [])}, None, pol)
    p = plan(empty, state(), pol, ctx())
    assert _stops(p, pol) == ["source_not_empty:hr"]
    assert _stops(p, pol, allow=True) == []


# ---- property: the plan applied yields the desired state, manual users untouched ----------------------
def apply_in_memory(p, cur: CurrentState) -> CurrentState:
    """Apply a plan to an in-memory M5 the way the Admin API would."""
    users = {uid: (dict(u.fields), set(u.accessgroups), list(u.cards)) for uid, u in cur.users.items()}
    touched: set[str] = set()
    depts, ugroups = dict(cur.departments), dict(cur.usergroups)
    next_id = itertools.count(max([int(i) for i in users] + [0]) + 1)
    for op in p.ops:
        if op.kind == "create_department":
            depts[op.name.casefold()] = str(len(depts) + 1)
        elif op.kind == "create_usergroup":
            ugroups[op.name.casefold()] = str(len(ugroups) + 1)
        elif isinstance(op, Create):
            uid = str(next(next_id))
            users[uid] = ({**op.fields, "id": uid, "rastamp": "/new"}, set(op.accessgroups), [])
        elif isinstance(op, Update):  # and Reactivate
            touched.add(op.m5_id)
            f, g, _ = users[op.m5_id]
            f.update({c.field: c.after for c in op.changes})
            g |= op.add_groups
            g -= op.remove_groups
        elif isinstance(op, Deactivate):
            touched.add(op.m5_id)
            f, _, cards = users[op.m5_id]
            f.update({c.field: c.after for c in op.changes})
            users[op.m5_id] = (f, users[op.m5_id][1], [(cid, True if cid in op.block_cards else b) for cid, b in cards])
        elif isinstance(op, Delete):
            del users[op.m5_id]
    out = {uid: cur.users[uid] for uid in users if uid in cur.users and uid not in touched}
    for uid in set(users) - set(out):
        f, g, c = users[uid]
        f["rastamp"] += "'"
        out[uid] = CurrentUser(id=uid, rastamp=f["rastamp"], fields=f, accessgroups=frozenset(g), cards=tuple(c))
    return CurrentState(
        users=out,
        marker_field=cur.marker_field, departments=depts, usergroups=ugroups, accessgroups=cur.accessgroups)


NAMES = st.sampled_from(["Anna", "Bo", "Eva", "Åke", "Lars"])
UNITS = st.sampled_from(["Ekonomi", "Skolan", "Nya", ""])


@st.composite
def worlds(draw):
    n_people = draw(st.integers(0, 8))
    people = []
    for i in range(n_people):
        people.append(dict(source=draw(st.sampled_from(["hr", "students"])), source_id=str(i),
                           given_names=draw(NAMES), family_name=draw(NAMES), org_unit=draw(UNITS),
                           email=draw(st.sampled_from(["", "a@x.se"]))))
    keys = [(p["source"], p["source_id"]) for p in people] + [("hr", "99"), ("students", "98")]
    users = []
    for uid in range(1, draw(st.integers(0, 10)) + 1):
        kind = draw(st.sampled_from(["manual", "marker", "foreign"]))
        marker = {"manual": "", "foreign": "HR-1", "marker": None}[kind]
        if marker is None:
            k = draw(st.sampled_from(keys))
            marker = f"passerlink:{k[0]}:{k[1]}"
        users.append(user(uid, marker=marker, status=draw(st.sampled_from(["0", "1"])),
                          firstname=draw(NAMES), lastname=draw(NAMES), department=draw(UNITS),
                          usergroup=draw(st.sampled_from(["Personal", ""])), email="",
                          cards=[(str(100 + uid), draw(st.booleans()))]))
    ids = [u.id for u in users] + ["404"]
    links = {k: draw(st.sampled_from(ids)) for k in draw(st.lists(st.sampled_from(keys), unique=True))}
    gone_since = {u.id: "2026-10-01" for u in users if draw(st.booleans())}
    grace = draw(st.sampled_from([0, 30, "never"]))
    return people, users, links, gone_since, grace


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_property_applied_plan_reaches_desired_and_leaves_others_alone(world):
    people, users, links, gone_since, grace = world
    policy = SyncPolicy(grace_days=grace, situations={"deleted_in_m5": "recreate", "new": "create"})
    tables = {s: table(s, [p for p in people if p["source"] == s]) for s in ("hr", "students")}
    ldf = links_df(*[(k[0], k[1], m) for k, m in links.items()])
    d = build_desired(tables, ldf, policy, source_order=["hr", "students"])
    cur = state(*users)
    context = PlanContext(links=links, gone_since=gone_since, today=TODAY)
    p = plan(d, cur, policy, context)
    after = apply_in_memory(p, cur)

    owned = {u.id for u in users if policy.parse_marker(u.get(MARKER))} | {m for m in links.values()}
    for u in users:  # every other user byte-for-byte unchanged
        if u.id not in owned:
            assert after.users[u.id] == u and after.users[u.id].fields == u.fields
    for op in p.writes:
        assert op.m5_id is None or op.m5_id in owned
    # the desired state is reached: a second plan has nothing left to write
    again = plan(d, after, policy, context)
    assert again.writes == [], again.writes
    assert again.counts.get("unchanged", 0) + again.counts.get("inactive_in_m5", 0) == len(d.users)
    for du in d.users:
        holders = [u for u in after.users.values()
                   if policy.parse_marker(u.get(MARKER)) in du.keys or links.get(du.key) == u.id]
        assert holders, du
        assert any(all(h.get(f).casefold() == v.casefold() for f, v in du.fields.items()) for h in holders)
    # owned users whose person is gone are deactivated (or deleted after the grace period)
    for uid in p.gone:
        if uid in after.users:
            assert after.users[uid].get("status") == "0"
            assert all(blocked for _, blocked in after.users[uid].cards)


def test_rehire_unblocks_only_the_cards_the_engine_blocked():
    # 70 and 71 blocked by the engine when Anna left (71 opened by hand since); 72 blocked by hand
    cards = [("70", True), ("71", False), ("72", True)]
    inactive = user(5, marker="passerlink:hr:1", status="0", enddate="2026-10-01", cards=cards, **IN_SYNC)
    ours = {"5": {"70": "/c70", "71": "/c71", "99": "/c99"}, "6": {"80": "/c80"}}
    c = ctx(gone_since={"5": "2026-10-01"}, blocked_by_sync=ours)
    (op,) = plan(desired(ANNA), state(inactive), SyncPolicy(), c).ops
    assert isinstance(op, Reactivate) and op.unblock_cards == ("70", "99")  # 99: gone from the user, apply tells
    off = SyncPolicy(situations={"rehire_unblock_cards": False})
    (op,) = plan(desired(ANNA), state(inactive), off, c).ops
    assert isinstance(op, Reactivate) and op.unblock_cards == ()
    # nothing recorded (blocked before the engine's deactivation, or by hand): nothing unblocked
    (op,) = plan(desired(ANNA), state(inactive), SyncPolicy(), ctx(gone_since={"5": "2026-10-01"})).ops
    assert op.unblock_cards == ()
    # deactivated by hand and activated by configuration: not a rehire, no cards touched
    act = SyncPolicy(situations={"inactive_in_m5": "activate"})
    (op,) = plan(desired(ANNA), state(inactive), act, ctx(blocked_by_sync=ours)).ops
    assert op.situation == "inactive_in_m5" and op.unblock_cards == ()
