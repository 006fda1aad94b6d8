"""The run lock: two sync runs never overlap, on Windows and on Linux.

An operating-system lock on a small file (``filelock``: ``flock`` on POSIX, ``msvcrt.locking`` on
Windows) rather than "the file exists": the OS drops the lock when the process dies, however it
dies (SIGKILL, power cut of a VM, Task Scheduler ending the task), so there is never a stale lock
to clean up by hand. Who holds it (pid, host, start time) is written beside it, in
``<lock>.holder``, for the message a second run prints: the lock file itself is truncated by
every process that tries to take it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
from pathlib import Path

from filelock import FileLock, Timeout

from passerlink.errors import LockedError

__all__ = ["RunLock"]


class RunLock:
    """``with RunLock(path): ...`` – raises ``LockedError`` naming the holder if the lock is taken."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock: FileLock | None = None

    @property
    def holder_path(self) -> Path:
        """Where the holder's pid, host and start time are written."""
        return self.path.with_name(self.path.name + ".holder")

    def holder(self) -> dict[str, object]:
        """What the holder file says about the last holder (empty if unreadable)."""
        try:
            data = json.loads(self.holder_path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.path, timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            h = self.holder()
            who = f" (pid {h.get('pid')} on {h.get('host')} since {h.get('since')})" if h else ""
            raise LockedError(f"another passerlink sync is running{who}; lock file {self.path}") from None
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "since": _dt.datetime.now().astimezone().isoformat(timespec="seconds")}
        with contextlib.suppress(OSError):  # only a second run's message would miss the holder
            self.holder_path.write_text(json.dumps(info), encoding="utf-8")
        self._lock = lock
        return self

    def release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
