"""A sync killed with SIGKILL at any point and started again converges, without duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from _syncworld import assert_m5_is_desired, assert_no_duplicates, make_site, marker_counts

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _kill_after(site, m5sim, writes: int, *extra: str) -> int:
    """Start ``passerlink sync`` as a child, SIGKILL it once M5 has seen ``writes`` writes."""
    m5sim.clear_calls()
    m5sim.set_faults({"latency": 0.02})
    proc = subprocess.Popen(
        [sys.executable, "-m", "passerlink", "sync", "--config", str(site.config_path), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(m5sim.writes()) < writes:
            assert proc.poll() is None, f"the sync ended (exit {proc.returncode}) before {writes} writes"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    m5sim.set_faults({})
    time.sleep(0.1)
    return len(m5sim.writes())


def _converges(site, m5sim, **kw) -> set:
    """Run again until nothing is left to write; returns the people the sync queued for the
    operator (a possible M5 user of theirs exists: never created)."""
    rerun = site.sync(**kw)
    assert rerun.exit_code == 0, rerun.report.get("stop_reason")
    users = site.users()
    assert_no_duplicates(users)
    m5sim.clear_calls()
    again = site.sync()
    assert again.exit_code == 0 and m5sim.writes() == []
    return {op.key for op in again.plan.of_kind("queue")}


@pytest.mark.parametrize("kill_at", [2, 25, 60])
def test_killed_while_creating_then_rerun_creates_each_user_once(tmp_path, m5sim, m5_env, kill_at):
    site = make_site(tmp_path, m5sim, staff=30, pupils=40, sync_toml='[sync.situations]\nnew = "create"\n')
    m5sim.reset({"usergroups": ["Personal", "Elev"]})  # an empty M5: every register person is created
    seen = _kill_after(site, m5sim, kill_at, "--allow-mass-changes")
    assert seen >= kill_at
    after_kill = marker_counts(site.users())
    _converges(site, m5sim, allow_mass_changes=True)  # the same run, started again
    users = site.users()
    counts = marker_counts(users)
    people = len(site.world.hr) + len(site.world.students)
    assert sum(counts.values()) == len(counts) == people
    assert set(after_kill) <= set(counts)
    assert_m5_is_desired(site)


def test_killed_while_updating_after_go_live_converges(tmp_path, m5sim, m5_env):
    site = make_site(tmp_path, m5sim, staff=30, pupils=40)
    manual = site.manual_ids()
    seeded = site.users()
    assert site.import_truth() == 0
    _kill_after(site, m5sim, 20, "--allow-mass-changes")
    queued = _converges(site, m5sim, allow_mass_changes=True)
    users = site.users()
    assert_m5_is_desired(site, queued, inactive_by_hand=site.inactive_by_hand())
    for uid in manual:
        assert users[uid] == seeded[uid]
