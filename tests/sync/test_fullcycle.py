"""The full cycle over real HTTP: go-live links -> import -> first sync -> register edits -> sync.

M5 must end equal to the desired state, a repeated run must write nothing, and the manual
records must never be written (the simulator's changedby stamps and rastamps prove it).
"""

from __future__ import annotations

import pandas as pd
from _syncworld import assert_m5_is_desired, assert_no_duplicates, make_site, today, with_registers

from passerlink.matching import LinkDecision, LinkStore


def test_full_cycle_on_the_sample_world(tmp_path, m5sim, m5_env):
    site = make_site(tmp_path, m5sim)
    seeded = site.users()
    manual = site.manual_ids()
    assert len(manual) > 5

    # go-live: the signed-off links are imported and the M5 users adopted
    assert site.import_truth() == 0
    adopted = site.users()
    truth = site.world.truth
    keys_of: dict[int, set[str]] = {}
    for s, i, m in zip(truth["source"], truth["source_id"], truth["m5_id"], strict=True):
        keys_of.setdefault(int(m), set()).add(f"passerlink:{s}:{i}")
    for m, markers in keys_of.items():
        assert adopted[m]["apireference"] in markers and adopted[m]["changedby"] == "demo"
    for uid in manual:
        assert adopted[uid] == seeded[uid]

    # the first night: a dry run writes nothing, then the real run (a go-live sized plan)
    m5sim.clear_calls()
    dry = site.sync(dry_run=True, allow_mass_changes=True)
    assert dry.exit_code == 0 and dry.status == "dry_run" and m5sim.writes() == []
    first = site.sync(allow_mass_changes=True)
    assert first.exit_code == 0, first.report.get("stop_reason")
    assert first.report["m5_writes"] == len(m5sim.writes()) > 0
    queued = {op.key for op in first.plan.of_kind("queue")}
    by_hand = {str(uid) for uid, u in seeded.items() if u["status"] == 0 and uid not in manual}
    assert first.report["counts"].get("inactive_in_m5", 0) == len(by_hand & set(map(str, truth["m5_id"])))
    assert assert_m5_is_desired(site, queued, by_hand) > 100
    after = site.users()
    assert_no_duplicates(after)
    for uid in manual:
        assert after[uid] == seeded[uid], f"manual record {uid} was written"
    touched = {int(c["path"].split("/user/")[1].split("/")[0]) for c in m5sim.writes() if "/user/" in c["path"]}
    assert not touched & manual

    # a second run writes nothing
    m5sim.clear_calls()
    again = site.sync()
    assert again.exit_code == 0 and m5sim.writes() == [] and again.report["m5_writes"] == 0
    assert again.report["counts"]["manual_left_alone"] == len(manual)

    # the registers change: people leave, arrive, move, marry, get an end date
    hr = site.world.hr.copy()
    st = site.world.students.copy()
    left = hr.iloc[:2]
    hr = hr.iloc[2:].reset_index(drop=True)
    hr.loc[0, "Efternamn"] = "Nygift-Andersson"
    hr.loc[1, "Enhet"] = "Nya enheten"
    hr.loc[2, "Slutdatum"] = "2027-06-30"
    newcomer = {c: "" for c in hr.columns} | {
        "Anställningsnummer": "99901", "Förnamn": "Testa", "Efternamn": "Nyperson", "Enhet": "Nya enheten",
        "Befattning": "Lärare", "Anställningsform": "FAST", "Anställningsdatum": "2030-01-01"}
    hr = pd.concat([hr, pd.DataFrame([newcomer])], ignore_index=True)
    left_pupil = st.iloc[0]
    st = st.iloc[1:].reset_index(drop=True)
    hidden = {c: "" for c in st.columns} | {
        "Elev-ID": "00000000-0000-4000-8000-000000000001", "Förnamn": "Skyddad", "Efternamn": "Elev",
        "E-post": "hemlig@edu.hultsfred.se", "Skola": "Virserums skola", "Skyddad": "Skyddad folkbokföring"}
    st = pd.concat([st, pd.DataFrame([hidden])], ignore_index=True)
    site.write_registers(with_registers(site.world, hr=hr, students=st))

    m5sim.clear_calls()
    second = site.sync()
    assert second.exit_code == 0, second.report.get("stop_reason")
    counts = second.report["counts"]
    assert counts["gone"] >= 3 and counts["unknown_department"] == 1
    # an unlinked M5 user that may be the newcomer queues them, never a create, until the operator
    # says no to every such user (each answer: the next plausible one, then a create)
    store = LinkStore(site.config().link_store.path)
    newcomers = {("hr", "99901"), ("students", hidden["Elev-ID"])}
    created: list[dict] = []
    for _ in range(len(manual) + 1):
        created += [c for c in second.report["changes"] if c["kind"] == "create" and c["status"] == "done"]
        q = [op for op in second.plan.of_kind("queue") if op.key in newcomers]
        if not q:
            break
        store.record([LinkDecision(op.key[0], op.key[1], str(op.m5_id), "rejected", who="operator") for op in q])
        second = site.sync()
        assert second.exit_code == 0, second.report.get("stop_reason")
    queued = {op.key for op in second.plan.of_kind("queue")}
    assert not newcomers & queued
    assert {tuple(c["key"]) for c in created} >= newcomers
    assert any(c["situation"] == "future_start" for c in created)
    users = site.users()
    assert_no_duplicates(users)
    by_marker = {u["apireference"]: u for u in users.values()}
    for key in [("hr", str(x)) for x in left["Anställningsnummer"]] + [("students", left_pupil["Elev-ID"])]:
        u = by_marker.get(f"passerlink:{key[0]}:{key[1]}")
        if u is None:  # not in M5 before (never linked, never created): nothing to deactivate
            continue
        assert u["status"] == 0 and u["enddate"] <= today()
        assert all(c["isblocked"] for c in u["cards"])
    new = by_marker["passerlink:hr:99901"]
    assert new["startdate"] == "2030-01-01" and new["department"]["departmentname"] == "Nya enheten"
    prot = by_marker["passerlink:students:00000000-0000-4000-8000-000000000001"]
    assert prot["email"] == "" and prot["fkdepartment"] is None and prot["usergroup"]["groupname"] == "Elev"
    assert assert_m5_is_desired(site, queued, by_hand) > 100
    for uid in manual:
        assert users[uid] == seeded[uid], f"manual record {uid} was written"

    m5sim.clear_calls()
    third = site.sync()
    assert third.exit_code == 0 and m5sim.writes() == []
