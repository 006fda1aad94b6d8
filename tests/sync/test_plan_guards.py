"""Two safety rules of issue 13: the first-night guard and blanking as its own change class."""

from __future__ import annotations

from _syncworld import make_site, with_registers
from test_plan import ANNA, IN_SYNC, ctx, desired, links_df, state, user

from passerlink.sync import SyncPolicy, check_safety, plan, summary_text


def _stops(p, policy=None, allow=False):
    return [r.rule for r in check_safety(p, policy or SyncPolicy(), None, allow_mass_changes=allow) if r.stops]


def _manual(n: int):
    return [user(100 + i, firstname=f"M{i}", lastname="Manual") for i in range(n)]


BO = dict(source_id="2", given_names="Bo", family_name="Ek")


def test_first_night_creates_stop_while_the_link_store_is_empty_and_m5_has_people():
    p = plan(desired(ANNA, BO), state(*_manual(3)), SyncPolicy(), ctx())
    assert len(p.of_kind("create")) == 2
    assert _stops(p) == ["first_night"]
    (rule,) = [r for r in check_safety(p, SyncPolicy()) if r.rule == "first_night"]
    assert "finish go-live first" in rule.message and rule.overridable
    assert _stops(p, allow=True) == []  # approvable like any other plan
    # an empty M5 has nobody to duplicate
    assert _stops(plan(desired(ANNA, BO), state(), SyncPolicy(), ctx())) == []


def test_first_night_guard_holds_below_the_floor_and_lets_a_real_go_live_through():
    links = links_df(("hr", "1", "5"))
    cur = state(user(5, **IN_SYNC), *_manual(3))
    cy = dict(source_id="3", given_names="Cy", family_name="Ek")
    few = plan(desired(ANNA, BO, cy, links=links), cur, SyncPolicy(), ctx(links={("hr", "1"): "5"}))
    assert few.linked == 1 and few.owned == 1 and _stops(few) == ["first_night"]
    low_floor = SyncPolicy(thresholds={"first_night_min_owned": 1})
    assert _stops(few, low_floor) == []
    # no creates planned: nothing to guard
    only_anna = plan(desired(ANNA, links=links), cur, SyncPolicy(), ctx(links={("hr", "1"): "5"}))
    assert _stops(only_anna) == []


def test_blanking_a_name_stops_at_once_and_other_fields_beyond_five():
    anna = user(5, marker="passerlink:hr:1", **IN_SYNC)
    nameless = plan(desired({**ANNA, "given_names": ""}), state(anna), SyncPolicy(), ctx())
    (b,) = nameless.blankings()
    assert (b.field, b.before, b.name) == ("firstname", "Anna", True)
    assert _stops(nameless) == ["blank_names"]
    assert _stops(nameless, allow=True) == []

    rows = [dict(source_id=str(i), given_names=f"P{i}", family_name="X", email="", org_unit="Ekonomi")
            for i in range(1, 8)]
    owned = [user(i, marker=f"passerlink:hr:{i}", firstname=f"P{i}", lastname="X", email=f"p{i}@x.se",
                  employmentnumber="", department="Ekonomi", usergroup="Personal") for i in range(1, 8)]
    seven = plan(desired(*rows), state(*owned), SyncPolicy(), ctx())
    assert [b.field for b in seven.blankings()] == ["email"] * 7
    assert _stops(seven) == ["blank_fields"]
    five = plan(desired(*rows[:5], *[{**r, "email": f"p{r['source_id']}@x.se"} for r in rows[5:]]),
                state(*owned), SyncPolicy(), ctx())
    assert len(five.blankings()) == 5 and _stops(five) == []


def test_not_blanking_a_protected_person_nor_the_end_date_of_a_rehire():
    anna = user(5, marker="passerlink:hr:1", **IN_SYNC)
    pol = SyncPolicy()
    hidden = plan(desired(ANNA, extra=[{"Skyddad": "ja"}]), state(anna), pol, ctx())
    assert hidden.of_kind("update") and hidden.blankings() == []
    gone = user(5, marker="passerlink:hr:1", status="0", enddate="2026-10-01", **IN_SYNC)
    back = plan(desired(ANNA), state(gone), pol, ctx(gone_since={"5": "2026-10-01"}))
    assert back.of_kind("reactivate") and back.blankings() == []


def test_a_truncated_hr_export_stops_on_blanking_before_any_write(tmp_path, m5sim, m5_env):
    """Issue 13 item 1 as the engine sees it once a row has lost its tail: e-mail, department and
    start date emptied for a few people; the blanking rule stops the run (exit 3), nothing written."""
    site = make_site(tmp_path, m5sim, staff=30, pupils=20, sync_toml='[sync.situations]\nnew = "create"\n')
    assert site.import_truth() == 0
    assert site.sync(allow_mass_changes=True).exit_code == 0
    hr = site.world.hr.copy()
    cut = hr.index[:6]
    for col in ("E-post", "Enhet"):
        if col in hr.columns:
            hr.loc[cut, col] = ""
    site.write_registers(with_registers(site.world, hr=hr))
    m5sim.clear_calls()
    run = site.sync()
    assert run.exit_code == 3 and m5sim.writes() == []
    assert "blank_fields" in run.report["stop_reason"]
    assert [r["rule"] for r in run.report["safety"] if not r["ok"]] == ["blank_fields"]
    assert len(run.report["blankings"]) >= 6 and all(b["field"] in ("email", "department")
                                                     for b in run.report["blankings"])
    assert run.report["blanking_counts"] == {"names": 0, "other_fields": len(run.report["blankings"])}
    text = summary_text(run.report)  # what the dry run and the stopped run print: blankings apart
    assert f"blankings (fields emptied that have a value in M5): {len(run.report['blankings'])}, of them names 0" \
        in text


def test_a_sync_before_go_live_stops_with_exit_3_and_writes_nothing(tmp_path, m5sim, m5_env):
    site = make_site(tmp_path, m5sim, staff=20, pupils=20, sync_toml='[sync.situations]\nnew = "create"\n')
    m5sim.clear_calls()
    run = site.sync()
    assert run.exit_code == 3 and m5sim.writes() == []
    assert run.report["stop_reason"].startswith("stopped by safety rule first_night")
    assert "finish go-live first" in run.report["stop_reason"]


def test_the_first_night_guard_is_approvable_like_any_other_plan(tmp_path, m5sim, m5_env):
    """A site that wants to create before linking (say, a new school with nobody in M5 yet but
    contractors) approves exactly the plan its dry run showed."""
    site = make_site(tmp_path, m5sim, staff=20, pupils=20, sync_toml='[sync.situations]\nnew = "create"\n')
    dry = site.sync(dry_run=True)
    assert dry.exit_code == 0 and any(r["rule"] == "first_night" and not r["ok"] for r in dry.report["safety"])
    m5sim.clear_calls()
    run = site.sync(approve=dry.report["plan_id"])
    assert run.exit_code == 0, run.report.get("stop_reason")
    assert len(m5sim.writes()) > 0
    (rule,) = [r for r in run.report["safety"] if r["rule"] == "first_night"]
    assert not rule["ok"] and rule["overridden"]


def test_a_tiny_site_after_go_live_is_not_held_below_the_floor():
    """Ten people, all linked: a newcomer is created without approval although 10 < 20."""
    rows = [dict(source_id=str(i), given_names=f"P{i}", family_name="X") for i in range(1, 11)]
    owned = [user(i, firstname=f"P{i}", lastname="X", email="", employmentnumber="", department="",
                  usergroup="Personal") for i in range(1, 11)]
    links = {("hr", str(i)): str(i) for i in range(1, 11)}
    new = dict(source_id="11", given_names="Ny", family_name="Person")
    p = plan(desired(*rows, new, links=links_df(*[("hr", k[1], v) for k, v in links.items()])),
             state(*owned, *_manual(3)), SyncPolicy(), ctx(links=links))
    assert len(p.of_kind("create")) == 1 and p.owned == 10
    assert _stops(p) == []
    # but a link store that links one of them only is not a go-live
    one = plan(desired(*rows, new, links=links_df(("hr", "1", "1"))), state(*owned, *_manual(3)), SyncPolicy(),
               ctx(links={("hr", "1"): "1"}))
    assert _stops(one) == ["first_night"]
