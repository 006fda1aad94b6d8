"""The engine over HTTP: each safety rule stops before the first write; conflicts are re-planned;
the run lock keeps two runs apart; every run leaves a report."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from _syncworld import assert_m5_is_desired, assert_no_duplicates, make_site, with_registers

from passerlink.sync import RunLock, sync_paths
from passerlink.sync.report import last_report


@pytest.fixture
def site(tmp_path, m5sim, m5_env):
    """A small site after go-live: links imported, first sync done."""
    s = make_site(tmp_path, m5sim, staff=30, pupils=40)
    assert s.import_truth() == 0
    assert s.sync(allow_mass_changes=True).exit_code == 0
    m5sim.clear_calls()
    return s


def _hr_edit(site, fn):
    hr = fn(site.world.hr.copy())
    site.write_registers(with_registers(site.world, hr=hr.reset_index(drop=True)))


def _newcomers(hr, n):
    rows = [{c: "" for c in hr.columns} | {"Anställningsnummer": str(99000 + i), "Förnamn": f"Ny{i}",
                                            "Efternamn": "Person", "Enhet": hr["Enhet"].iloc[0]} for i in range(n)]
    return pd.concat([hr, pd.DataFrame(rows)])


CASES = {
    "creates_count": ("[sync.thresholds.creates]\nmax_count = 2\n", lambda hr: _newcomers(hr, 3)),
    "updates_count": ("[sync.thresholds.updates]\nmax_count = 2\n",
                      lambda hr: hr.assign(Efternamn=hr["Efternamn"] + "-X")),
    "updates_share": ("[sync.thresholds.updates]\nmax_share = 0.1\n",
                      lambda hr: hr.assign(Efternamn=hr["Efternamn"] + "-X")),
    "deactivations_count": ("[sync.thresholds.deactivations]\nmax_count = 2\nmax_share = 1.0\n"
                            "[sync.thresholds]\nsource_min_share_of_last = 0.5\n", lambda hr: hr.iloc[4:]),
    "deletes_count": ("grace_days = 0\n[sync.thresholds.deletes]\nmax_count = 1\n"
                      "[sync.thresholds.deactivations]\nmax_share = 1.0\n"
                      "[sync.thresholds]\nsource_min_share_of_last = 0.5\n", lambda hr: hr.iloc[4:]),
    "source_not_shrunk:hr": ("[sync.thresholds.deactivations]\nmax_count = 100\nmax_share = 1.0\n",
                             lambda hr: hr.iloc[: len(hr) // 2]),
}


@pytest.mark.parametrize("rule", list(CASES))
def test_each_safety_rule_stops_before_the_first_write(site, m5sim, rule):
    toml, edit = CASES[rule]
    site.write_config(toml)
    _hr_edit(site, edit)
    before = site.users()
    result = site.sync()
    assert result.exit_code == 3 and result.status == "stopped"
    assert m5sim.writes() == [] and site.users() == before
    stops = [r["rule"] for r in result.report["safety"] if not r["ok"] and not r["overridden"]]
    assert rule in stops
    assert "--allow-mass-changes" in result.report["stop_reason"] and rule in result.report["stop_reason"]
    saved = json.loads(result.paths["json"].read_text(encoding="utf-8"))
    assert saved["status"] == "stopped" and saved["m5_writes"] == 0
    # the operator reviewed it: the override goes through
    forced = site.sync(allow_mass_changes=True)
    assert forced.exit_code == 0, forced.report.get("stop_reason")
    assert m5sim.writes()


def test_unreadable_or_empty_source_stops_and_cannot_be_overridden(site, m5sim, tmp_path):
    missing = tmp_path / "nowhere.csv"
    result = site.sync(source_paths={"hr": missing}, allow_mass_changes=True)
    assert result.exit_code == 3 and m5sim.calls() == []  # M5 not even read
    assert "source_readable:hr" in result.report["stop_reason"] and str(missing) in result.report["stop_reason"]
    empty = tmp_path / "empty.csv"
    empty.write_text("Anställningsnummer;Förnamn;Efternamn\n", encoding="utf-8")
    result = site.sync(source_paths={"hr": empty}, allow_mass_changes=True)
    assert result.exit_code == 3 and m5sim.writes() == []


def test_a_manual_edit_during_the_run_is_replanned_not_lost(site, m5sim):
    _hr_edit(site, lambda hr: hr.assign(Efternamn=hr["Efternamn"] + "-Ny"))
    touched: dict[int, dict] = {}

    def meddle(the_plan):
        targets = [op for op in the_plan.of_kind("update")][:3]
        with m5sim.client() as c:
            for op in targets:
                u = c.get_user(int(op.m5_id))
                c.update_user(u["id"], {"phone1": "070-1234567", "lastname": "Handskriven"}, u["rastamp"])
                touched[u["id"]] = u

    result = site.sync(allow_mass_changes=True, before_apply=meddle)
    assert result.exit_code == 0, result.report.get("stop_reason")
    assert len(touched) == 3
    users = site.users()
    for uid in touched:
        assert users[uid]["phone1"] == "070-1234567"  # the manual edit of a field we do not manage stays
        assert users[uid]["lastname"].endswith("-Ny")  # the register wins on what it manages ...
    replanned = [c for c in result.report["changes"] if c.get("notes")]
    assert {int(c["m5_id"]) for c in replanned} == set(touched)
    for c in replanned:  # ... and the report shows the manual value it replaced
        assert {"field": "lastname", "before": "Handskriven", "after": users[int(c["m5_id"])]["lastname"]} \
            in c["changes"]
    assert_m5_is_desired(site, inactive_by_hand=site.inactive_by_hand())
    assert_no_duplicates(users)


def test_a_second_run_is_refused_while_one_holds_the_lock(site, m5sim):
    lock_file = sync_paths(site.config())[2]
    with RunLock(lock_file):
        with pytest.raises(Exception, match="another passerlink sync is running"):
            site.sync()
        dry = site.sync(dry_run=True)  # a dry run writes nothing and needs no lock
        assert dry.exit_code == 0
    assert m5sim.writes() == []
    assert site.sync().exit_code == 0


def test_every_run_leaves_a_report_and_reports_are_pruned(site):
    folder = sync_paths(site.config())[0]
    reports = sorted(folder.glob("sync-*.json"))
    assert len(reports) == 1  # the fixture's first sync
    site.sync(dry_run=True)
    assert len(sorted(folder.glob("sync-*.json"))) == 2
    data = json.loads(last_report(folder).read_text(encoding="utf-8"))
    assert data["dry_run"] and data["status"] == "dry_run" and data["counts"]["manual_left_alone"] > 0
    assert "duration_seconds" in data and data["safety"]


def _pnr(stem: str) -> str:
    from passerlink.features import luhn_ok

    return next(f"19{stem}{d}" for d in range(10) if luhn_ok(f"{stem}{d}"))


def test_new_person_found_in_m5_goes_to_the_queue_then_follows_the_operator(site, m5sim):
    from passerlink.matching import LinkDecision, LinkStore
    from passerlink.sync import SyncState

    site.write_config('new_person_matcher = "rule"\n')
    pnr_a, pnr_b = _pnr("500101123"), _pnr("600202234")
    with m5sim.client() as c:  # two manual records a contractor admin once typed in
        a = c.create_user({"firstname": "Greta", "lastname": "Gustafsson", "customfield1": pnr_a})
        b = c.create_user({"firstname": "Nils", "lastname": "Holgersson", "customfield1": pnr_b})
    _hr_edit(site, lambda hr: pd.concat([hr, pd.DataFrame([
        {c: "" for c in hr.columns} | {"Anställningsnummer": "77001", "Förnamn": "Greta", "Efternamn": "Gustafsson",
                                       "Personnummer": pnr_a},
        {c: "" for c in hr.columns} | {"Anställningsnummer": "77002", "Förnamn": "Nils", "Efternamn": "Holgersson",
                                       "Personnummer": pnr_b}])]))
    m5sim.clear_calls()
    with SyncState(sync_paths(site.config())[1]) as state:  # people the first night already queued stay queued
        earlier = set(zip(state.review_queue()["source_id"], state.review_queue()["m5_id"], strict=True))
    first = site.sync()
    assert first.exit_code == 0 and first.report["counts"]["queued"] == 2 + len(earlier)
    assert m5sim.writes() == []  # no duplicate created, the manual records untouched
    with SyncState(sync_paths(site.config())[1]) as state:
        queue = state.review_queue()
    assert set(zip(queue["source_id"], queue["m5_id"], strict=True)) - earlier == {
        ("77001", str(a["id"])), ("77002", str(b["id"]))}
    # the operator: A is someone else, B is the same person
    LinkStore(site.config().link_store.path).record([
        LinkDecision("hr", "77001", str(a["id"]), "rejected", who="kerstin"),
        LinkDecision("hr", "77002", str(b["id"]), "confirmed", who="kerstin")])
    second = site.sync()
    assert second.exit_code == 0, second.report.get("stop_reason")
    users = site.users()
    assert users[a["id"]]["apireference"] == "" and users[a["id"]]["rastamp"] == a["rastamp"]
    created = [u for u in users.values() if u["apireference"] == "passerlink:hr:77001"]
    assert len(created) == 1 and created[0]["id"] != a["id"]
    assert users[b["id"]]["apireference"] == "passerlink:hr:77002"  # adopted
    with SyncState(sync_paths(site.config())[1]) as state:
        queue = state.review_queue()
    assert set(zip(queue["source_id"], queue["m5_id"], strict=True)) == earlier


def _last_run(site):
    from passerlink.sync import SyncState

    with SyncState(sync_paths(site.config())[1]) as state:
        return state.runs().iloc[-1]


def test_a_hostile_name_in_m5_costs_neither_the_report_nor_the_runs_state(site, m5sim):
    """An M5 name with a terminal escape, NUL and a personnummer: the old XLSX writer crashed
    after the writes (no report, the run left 'running'); now all three files are written, masked."""
    with m5sim.client() as c:
        u = next(u for u in c.list_users() if str(u.get("apireference", "")).startswith("passerlink:hr:"))
        c.update_user(u["id"], {"lastname": "Ny\x1b[31mberg\x00 19800101-1234"}, u["rastamp"])
    result = site.sync()
    assert result.exit_code == 0, result.report.get("stop_reason")
    assert set(result.paths) == {"json", "html", "xlsx"} and all(p.exists() for p in result.paths.values())
    texts = [result.paths["json"].read_text(encoding="utf-8"), result.paths["html"].read_text(encoding="utf-8")]
    assert all("19800101-1234" not in t and "19800101-****" in t for t in texts)
    assert last_report(sync_paths(site.config())[0]) == result.paths["json"]
    run = _last_run(site)
    assert run["run_id"] == result.report["run_id"] and run["status"] == "done"


def test_a_crashed_step_still_leaves_a_report_and_closes_the_run_as_failed(site, m5sim):
    def crash(_plan):
        raise RuntimeError("disk on fire for 19800101-1234")

    _hr_edit(site, lambda hr: hr.assign(Efternamn=hr["Efternamn"] + "-Ny"))
    result = site.sync(allow_mass_changes=True, before_apply=crash)
    assert result.exit_code == 1 and result.status == "failed"
    assert "RuntimeError: disk on fire for 19800101-****" in result.report["stop_reason"]
    saved = json.loads(result.paths["json"].read_text(encoding="utf-8"))
    assert saved["status"] == "failed" and saved["exit_code"] == 1 and "1234" not in saved["stop_reason"]
    assert _last_run(site)["status"] == "failed"
    assert m5sim.writes() == []
    assert site.sync(allow_mass_changes=True).exit_code == 0  # the lock was released


def test_a_damaged_register_stops_the_sync_before_anything_is_planned(site, m5sim, tmp_path):
    """Issue 13, item 1: a copy cut off at 98.5 % deactivated 18 people at exit 0."""
    whole = (site.folder / "hr_export.csv").read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(whole[: int(len(whole) * 0.985)])
    result = site.sync(source_paths={"hr": cut}, allow_mass_changes=True)
    assert result.exit_code == 3 and result.status == "stopped"
    assert "source_readable:hr" in result.report["stop_reason"] and "cut.csv" in result.report["stop_reason"]
    assert m5sim.calls() == [] and result.report["changes"] == []


def test_verify_tls_off_is_a_warning_in_every_report_and_log(site, caplog):
    site.config_path.write_text(site.config_path.read_text(encoding="utf-8").replace(
        "[m5]\n", "[m5]\nverify_tls = false\n"), encoding="utf-8")
    assert site.config().m5.verify_tls is False
    with caplog.at_level("WARNING", logger="passerlink.sync.engine"):
        result = site.sync(dry_run=True)
    assert any("verify_tls = false" in w for w in result.report["warnings"])
    assert "verify_tls = false" in result.paths["html"].read_text(encoding="utf-8")
    assert any("verify_tls = false" in r.getMessage() for r in caplog.records)


def test_an_unwritable_report_folder_stops_the_run_before_any_write(site, m5sim):
    from passerlink.errors import InputError

    blocker = site.folder / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    site.config_path.write_text(site.config_path.read_text(encoding="utf-8").replace(
        'report_dir = "reports"', f'report_dir = "{blocker.as_posix()}/reports"'), encoding="utf-8")
    with pytest.raises(InputError, match="report folder .* cannot be written"):
        site.sync(allow_mass_changes=True)
    assert m5sim.calls() == []


def test_m5_refusing_an_overlong_name_names_the_field_and_length_not_the_value(site, m5sim):
    from passerlink.sync.report import summary_text

    long_name = "Lång" + "x" * 9_996
    _hr_edit(site, lambda hr: hr.assign(Efternamn=[long_name] + list(hr["Efternamn"].iloc[1:])))
    result = site.sync()
    assert result.exit_code == 1 and result.status == "failed"
    text = summary_text(result.report) + json.dumps(result.report["errors"], ensure_ascii=False)
    assert "x" * 200 not in text
    assert "lastname has 10000 characters" in text


def test_a_huge_number_of_new_people_stops_before_planning_but_a_dry_run_plans(site, m5sim):
    """Issue 13, item 7: a million-row register spent minutes planning (and matching) before its
    stop. Above twenty times the creates limit of new people the run stops before the plan is
    built; a dry run still builds and shows the whole plan."""
    site.write_config("[sync.thresholds.creates]\nmax_count = 2\n")  # planned up to 100 new people
    _hr_edit(site, lambda hr: _newcomers(hr, 120))
    result = site.sync()
    assert result.exit_code == 3 and m5sim.writes() == []
    assert "new_people:hr" in result.report["stop_reason"] and "120 people neither linked" in \
        result.report["stop_reason"]
    assert result.report["changes"] == [] and result.report["counts"] == {}
    dry = site.sync(dry_run=True)
    assert dry.exit_code == 0 and dry.report["counts"].get("new", 0) + dry.report["counts"].get("queued", 0) >= 120
