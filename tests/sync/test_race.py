"""``links import`` and ``sync`` started together never make duplicates (issue 13 item 5).

Both take the sync's run lock, so one waits for the other (the second one stops with "another
passerlink sync is running"); a sync that gets the lock before the links are in finds an empty
link store and M5 full of people, and the first-night guard stops it before its first write.
Processes, the lock file and the simulator are real; the order is forced by waiting for the first
process to hold the lock.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from _syncworld import assert_no_duplicates, make_site

from passerlink.sync import RunLock, sync_paths


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "passerlink", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _holds_lock(lock_path, proc: subprocess.Popen) -> None:
    """Wait until ``proc`` has taken the run lock (its pid in the lock's holder file)."""
    deadline = time.monotonic() + 60
    while RunLock(lock_path).holder().get("pid") != proc.pid:
        assert proc.poll() is None, f"{proc.args} ended before taking the lock: {proc.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.005)


def _duplicates(site) -> list[str]:
    """Register people with a true M5 user who got another M5 user (carrying their marker)."""
    truth = {f"passerlink:{s}:{i}": int(m) for s, i, m in
             zip(site.world.truth["source"], site.world.truth["source_id"], site.world.truth["m5_id"], strict=True)}
    return [u["apireference"] for uid, u in site.users().items()
            if u.get("apireference") in truth and truth[u["apireference"]] != uid]


@pytest.mark.parametrize("first", ["sync", "import"])
def test_import_and_sync_started_together_make_no_duplicates(tmp_path, m5sim, m5_env, first):
    site = make_site(tmp_path, m5sim, staff=20, pupils=20, sync_toml='[sync.situations]\nnew = "create"\n')
    lock_path = sync_paths(site.config())[2]
    m5sim.set_faults({"latency": 0.15})  # each run takes a while: the other one starts meanwhile
    sync_args = ("sync", "--config", str(site.config_path))
    import_args = ("links", "import", str(site.folder / "truth_links.csv"), "--config", str(site.config_path),
                   "--adopt-manual", "--yes")
    a = _start(*(sync_args if first == "sync" else import_args))
    _holds_lock(lock_path, a)
    b = _start(*(import_args if first == "sync" else sync_args))
    out_a, err_a = a.communicate(timeout=120)
    out_b, err_b = b.communicate(timeout=120)
    m5sim.set_faults({})
    sync_run, import_run = ((a, err_a), (b, err_b)) if first == "sync" else ((b, err_b), (a, err_a))
    assert "Traceback" not in err_a + err_b
    assert _duplicates(site) == []
    if first == "sync":
        # the sync planned with an empty link store: stopped by the first-night guard, nothing created
        assert sync_run[0].returncode == 3, sync_run[1]
        assert "first_night" in sync_run[1] and "finish go-live first" in sync_run[1]
    else:
        # the sync waited its turn: refused while the import held the lock, or planned after it
        assert import_run[0].returncode == 0, import_run[1]
        assert sync_run[0].returncode in (0, 1), sync_run[1]
        if sync_run[0].returncode == 1:
            assert "another passerlink sync is running" in sync_run[1]

    # whichever lost the race is run again: the links go in, the sync converges, still no duplicate
    assert site.import_truth("--adopt-manual") == 0
    assert site.sync(allow_mass_changes=True).exit_code == 0
    users = site.users()
    assert_no_duplicates(users)
    assert _duplicates(site) == []
