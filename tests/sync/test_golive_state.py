"""The go-live state machine (a pure function of the link store and the sync state) and plan approval."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from passerlink.cli import main
from passerlink.config import load_config
from passerlink.errors import InputError, SafetyStop
from passerlink.matching import LinkDecision, LinkStore
from passerlink.sync.approval import (
    approve_plan,
    latest_plan_id,
    plan_difference,
    plan_fingerprint,
    save_plan,
)
from passerlink.sync.engine import sync_paths
from passerlink.sync.golive import (
    STEPS,
    GoLiveFacts,
    Step,
    golive_status,
    read_golive_facts,
    status_lines,
)
from passerlink.sync.journal import SyncState

BASE = GoLiveFacts(sources=("hr", "students"))


@pytest.mark.parametrize(("facts", "step", "action"), [
    (GoLiveFacts(), None, "read_sources"),
    (dataclasses.replace(BASE, missing_sources=("hr",)), None, "read_sources"),
    (BASE, Step.SOURCES_READ, "propose"),
    (dataclasses.replace(BASE, ever_proposed=10, proposed=8, questions=2), Step.PROPOSALS, "answer_questions"),
    (dataclasses.replace(BASE, ever_proposed=10, proposed=8), Step.REVIEWED, "sign_off"),
    (dataclasses.replace(BASE, ever_proposed=10, links=8, signoffs=1), Step.SIGNED_OFF, "approve_first_sync"),
    # proposals stored again after the sign-off wait for a new one
    (dataclasses.replace(BASE, ever_proposed=12, proposed=2, links=8, signoffs=1), Step.REVIEWED, "sign_off"),
    (dataclasses.replace(BASE, ever_proposed=10, links=8, signoffs=1, dry_runs=2, done_runs=1),
     Step.FIRST_SYNC_APPROVED, "schedule_nightly"),
    (dataclasses.replace(BASE, ever_proposed=10, links=8, signoffs=1, done_runs=2), Step.NIGHTLY, ""),
    # a link table imported from a file, never proposed by the model, counts as proposals
    (dataclasses.replace(BASE, links=5, answers=5), Step.REVIEWED, "sign_off"),
    # a sync run before the sign-off does not skip the sign-off
    (dataclasses.replace(BASE, ever_proposed=3, proposed=3, done_runs=1), Step.REVIEWED, "sign_off"),
])
def test_each_state_says_where_we_are_and_what_comes_next(facts, step, action):
    status = golive_status(facts, config_name="site.toml")
    assert status.step is step and status.action == action
    assert status.reached == STEPS[:len(status.reached)]
    assert status.next_step is (STEPS[len(status.reached)] if len(status.reached) < len(STEPS) else None)
    assert ("site.toml" in status.command) == bool(action and action != "read_sources")
    assert status.done is (step is Step.NIGHTLY)


def test_after_a_dry_run_the_next_command_approves_its_plan():
    facts = dataclasses.replace(BASE, ever_proposed=10, links=8, signoffs=1, dry_runs=1, last_plan_id="0123456789ab",
                                last_run_status="dry_run")
    status = golive_status(facts, config_name="site.toml")
    assert status.command.startswith("passerlink sync --config site.toml --approve 0123456789ab")


def test_what_is_left_is_counted():
    facts = dataclasses.replace(BASE, ever_proposed=9, proposed=4, questions=3, queued=2)
    status = golive_status(facts)
    assert dict(status.left) == {"open_questions": 3, "proposals_to_sign": 4, "review_queue": 2}
    lines = status_lines(status)
    assert "[x] sources read" in lines and "[>] reviewed" in lines and "[ ] nightly" in lines
    assert any(line.startswith("left: 3 open questions") for line in lines)


CONFIG = """
[[sources]]
name = "hr"
kind = "csv"
path = "hr.csv"
id_column = "id"

[m5]
url = "http://127.0.0.1:9/m5adminapi/api"

[link_store]
path = "state/links.sqlite"

[sync]
state_db = "state/sync.sqlite"
report_dir = "state/reports"
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "hr.csv").write_text("id;Förnamn;Efternamn\n1;Anna;Berg\n", encoding="utf-8")
    path = tmp_path / "site.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_the_facts_are_read_from_the_store_and_the_sync_state(site, capsys):
    cfg = load_config(site)
    store = LinkStore(cfg.link_store.path)
    store.propose(pd.DataFrame({"source": ["hr", "hr"], "source_id": ["1", "2"], "m5_id": ["10", "20"],
                                "probability": [0.99, 0.5], "kind": ["proposed", "question"]}), model_version="v1")
    facts = read_golive_facts(cfg)
    assert (facts.proposed, facts.questions, facts.ever_proposed, facts.links) == (1, 1, 2, 0)
    assert golive_status(facts).step is Step.PROPOSALS
    store.record(LinkDecision("hr", "2", "20", "rejected", 0.5, "anna"))
    store.signoff("kerstin")
    facts = read_golive_facts(cfg)
    assert (facts.links, facts.answers, facts.signoffs, facts.last_signoff_by) == (1, 1, 1, "kerstin")
    with SyncState(sync_paths(cfg)[1]) as state:
        for run_id in ("r1", "r2"):
            state.start_run(run_id, dry_run=False)
            state.finish_run(run_id, "done")
    assert golive_status(read_golive_facts(cfg)).step is Step.NIGHTLY
    assert main(["golive", "status", "--config", str(site)]) == 0
    out = capsys.readouterr().out
    assert "[x] nightly" in out and "next: nothing" in out
    assert main(["golive", "status", "--config", str(site), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["step"] == "nightly" and data["next_step"] is None and data["facts"]["links"] == 1


def test_a_missing_register_file_keeps_go_live_at_the_start(site, capsys):
    (site.parent / "hr.csv").unlink()
    assert main(["golive", "status", "--config", str(site)]) == 0
    out = capsys.readouterr().out
    assert "[>] sources read" in out and "missing register files: hr" in out


# ---- approve a plan, not a flag -----------------------------------------------------------------
OPS = [
    {"kind": "create", "situation": "new", "label": "Anna Berg", "key": ["hr", "1"], "m5_id": None,
     "fields": {"firstname": "Anna"}, "status": "planned"},
    {"kind": "update", "situation": "changed", "label": "Bo Ek", "key": ["hr", "2"], "m5_id": "20",
     "changes": [{"field": "lastname", "before": "Eck", "after": "Ek"}], "status": "planned"},
    {"kind": "queue", "situation": "queued", "label": "Kim Lund", "key": ["hr", "3"], "m5_id": "30",
     "probability": 0.42, "status": "planned"},
]


def test_the_plan_id_is_what_is_done_to_whom_not_when_or_how_sure():
    pid = plan_fingerprint(OPS)
    assert len(pid) == 12 and pid.isalnum()
    assert plan_fingerprint(list(reversed(OPS))) == pid
    assert plan_fingerprint([{**o, "status": "done", "probability": 0.9} for o in OPS]) == pid
    changed = [OPS[0], {**OPS[1], "changes": [{"field": "lastname", "before": "Eck", "after": "Eke"}]}, OPS[2]]
    assert plan_fingerprint(changed) != pid
    assert plan_difference(OPS, changed) == ["+ update Bo Ek", "- update Bo Ek"]
    assert plan_difference(OPS, OPS[:2]) == ["- queue Kim Lund"]


def test_only_the_stored_plan_is_approved_and_the_approval_is_recorded(tmp_path):
    folder = tmp_path / "plans"
    dry = {"changes": OPS, "user": "anna", "started": "2026-12-01T10:00:00+01:00", "run_id": "r1", "counts": {}}
    pid = save_plan(folder, dry)
    assert latest_plan_id(folder) == pid
    fresh = {"changes": [dict(o) for o in OPS]}
    when = _dt.datetime(2026, 12, 1, 10, 5, tzinfo=_dt.UTC)
    approval = approve_plan(folder, pid, fresh, who="kerstin", now=when)
    assert approval == fresh["approval"] == {
        "plan_id": pid, "approved_by": "kerstin", "approved_at": "2026-12-01T10:05:00+00:00",
        "planned_by": "anna", "planned_at": "2026-12-01T10:00:00+01:00", "dry_run_id": "r1"}
    moved = {"changes": OPS[:2]}
    with pytest.raises(SafetyStop, match=r"the plan changed since the dry run: approved .* \(1 operations differ: - queue Kim Lund\)"):
        approve_plan(folder, pid, moved, who="kerstin")
    assert moved["plan_difference"] == ["- queue Kim Lund"]
    with pytest.raises(SafetyStop, match="no dry run stored this plan"):
        approve_plan(folder, "0123456789ab", fresh, who="kerstin")
    with pytest.raises(InputError, match="a plan id is the 12 letters and digits"):
        approve_plan(folder, "../../etc", fresh, who="kerstin")


def test_only_the_newest_plans_are_kept(tmp_path):
    from passerlink.sync.approval import KEEP_PLANS

    folder = tmp_path / "plans"
    ids = []
    for n in range(KEEP_PLANS + 3):
        ids.append(save_plan(folder, {"changes": [{**OPS[0], "key": ["hr", str(n)]}]}))
        os.utime(folder / f"{ids[-1]}.json", (1_000_000 + n, 1_000_000 + n))
    kept = {p.stem for p in folder.glob("*.json")}
    assert len(kept) == KEEP_PLANS and ids[-1] in kept and ids[0] not in kept
