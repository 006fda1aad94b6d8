"""Starting and stopping passerlink's own background services (the M5 simulator, the workbench).

The demo command and the test fixtures start the same real servers the same way: as child
processes of this Python, on a loopback port, waited for over HTTP.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from passerlink.errors import PasserlinkError

__all__ = ["free_port", "port_in_use", "start_simulator", "start_process", "wait_http", "stop_process"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def start_process(args: Sequence[str], *, log: Path | None = None, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``python -m passerlink ARGS`` (output to ``log`` if given)."""
    if log is None:
        return subprocess.Popen(
            [sys.executable, "-m", "passerlink", *args], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env
        )
    with open(log, "ab") as out:  # the child keeps its own handle
        return subprocess.Popen(
            [sys.executable, "-m", "passerlink", *args], stdout=out, stderr=subprocess.STDOUT, env=env
        )


def start_simulator(
    db: Path,
    port: int,
    *,
    seed: Path | None = None,
    host: str = "127.0.0.1",
    faults: str | None = None,
    log: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start the M5 simulator and wait until it answers; returns the process and the API base URL."""
    args = ["m5sim", "--db", str(db), "--host", host, "--port", str(port)]
    if seed is not None:
        args += ["--seed", str(seed)]
    if faults:
        args += ["--faults", faults]
    proc = start_process(args, log=log, env=env)
    url = f"http://{host}:{port}/m5adminapi/api"
    try:
        wait_http(f"{url}/version", proc=proc, what="the M5 simulator")
    except BaseException:
        stop_process(proc)
        raise
    return proc, url


def wait_http(url: str, *, timeout: float = 60.0, proc: subprocess.Popen | None = None, what: str = "the server") -> None:
    """Poll ``url`` until it answers below 500; fail early if ``proc`` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise PasserlinkError(f"{what} exited with code {proc.returncode} before answering at {url}")
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise PasserlinkError(f"{what} did not answer at {url} within {timeout:.0f} s")


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Terminate politely, then kill."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
