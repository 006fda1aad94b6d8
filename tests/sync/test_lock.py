"""The run lock: held across processes, named in the message, gone when its holder dies."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from passerlink.errors import LockedError
from passerlink.sync import RunLock

HOLD = """
import sys, time
from passerlink.sync import RunLock
lock = RunLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_second_holder_in_the_same_process_is_refused(tmp_path):
    path = tmp_path / "run.lock"
    with RunLock(path), pytest.raises(LockedError, match="another passerlink sync is running"):
        RunLock(path).acquire()
    with RunLock(path):  # released: free again
        pass


def test_lock_of_a_killed_process_is_free_again(tmp_path):
    path = tmp_path / "run.lock"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"pid {proc.pid}"):
            RunLock(path).acquire()
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
    deadline = time.monotonic() + 5
    while True:
        try:
            RunLock(path).acquire().release()
            break
        except LockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_waiting_contender_does_not_erase_the_holders_name(tmp_path):
    """Every process that tries the lock file truncates it; the holder's name lives beside it."""
    path = tmp_path / "run.lock"
    with RunLock(path):
        for _ in range(3):
            with pytest.raises(LockedError, match=r"\(pid \d+ on .+ since "):
                RunLock(path).acquire()
    assert RunLock(path).holder()["pid"]  # still readable after the holder has gone
