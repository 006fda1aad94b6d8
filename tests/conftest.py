"""Shared fixtures: the real M5 simulator as a child process on a free loopback port.

    m5sim            a clean simulator for one test (one process per session, reset per test)
    m5sim_tls        the same over HTTPS with ``tls_cert`` (``verify`` = the certificate's path)
    m5sim_factory    start(seed=..., faults=..., tls=...) -> a dedicated simulator process
    m5_env           PASSERLINK_M5_USER/PASSWORD/APIKEY set to the simulator's demo credentials
    tls_cert         a self-signed certificate for 127.0.0.1 (openssl CLI), as (cert, key)

A simulator object has ``url`` (API base incl. /m5adminapi/api), ``root``, ``db``, ``verify``,
``set_faults(dict)``, ``faults()``, ``calls()``, ``writes()``, ``clear_calls()``,
``expire_tokens()``, ``advance_clock(seconds)``, ``reset(seed)`` and ``client(**kw)`` (an ``M5Client`` with demo credentials).
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from passerlink.processes import free_port, start_process, stop_process

DEMO_CREDENTIALS = {"user": "demo", "password": "demo", "apikey": "demo"}


@dataclass
class RunningSimulator:
    """A simulator child process and the calls a test makes on its control path."""

    url: str
    root: str
    db: Path
    proc: subprocess.Popen
    log: Path
    verify: bool | str = True
    _control: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        verify = ssl.create_default_context(cafile=self.verify) if isinstance(self.verify, str) else self.verify
        self._control = httpx.Client(base_url=self.root, verify=verify, timeout=10.0)

    def set_faults(self, faults: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Replace the fault settings (``{}`` or None: no faults)."""
        resp = self._control.put("/_sim/faults", json=dict(faults or {}))
        assert resp.status_code == 200, resp.text
        return resp.json()

    def faults(self) -> dict[str, Any]:
        return self._control.get("/_sim/faults").json()

    def calls(self) -> list[dict[str, Any]]:
        return self._control.get("/_sim/calls").json()["calls"]

    def writes(self) -> list[dict[str, Any]]:
        """Calls that write (POST/PUT/PATCH/DELETE other than login/logout)."""
        return [c for c in self.calls() if c["write"]]

    def clear_calls(self) -> None:
        self._control.delete("/_sim/calls").raise_for_status()

    def expire_tokens(self) -> None:
        self._control.delete("/_sim/tokens").raise_for_status()

    def advance_clock(self, seconds: float) -> None:
        """Move the simulator's clock forward (tokens expire without a test sleeping)."""
        self._control.put("/_sim/clock", json={"advance": seconds}).raise_for_status()

    def reset(self, seed: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Empty the database (and load ``seed``); faults off, call log and tokens cleared."""
        resp = self._control.post("/_sim/reset", content=json.dumps(dict(seed)) if seed else b"")
        assert resp.status_code == 200, resp.text
        self.set_faults({})
        self.expire_tokens()
        self.clear_calls()
        return resp.json()

    def client(self, **kw: Any):  # -> M5Client
        from passerlink.m5 import M5Client

        opts: dict[str, Any] = {**DEMO_CREDENTIALS, "verify": self.verify, "timeout": 5.0,
                                "backoff_base": 0.01, "backoff_max": 0.05}
        opts.update(kw)
        return M5Client(self.url, **opts)

    def stop(self) -> None:
        self._control.close()
        stop_process(self.proc, timeout=10)


def _start(tmp: Path, *, seed: Path | Mapping[str, Any] | None = None, faults: str | Mapping[str, Any] | None = None,
           tls: tuple[Path, Path] | None = None, env: Mapping[str, str] | None = None,
           profile: str | None = None) -> RunningSimulator:
    tmp.mkdir(parents=True, exist_ok=True)
    db = tmp / "m5sim.sqlite"
    port = free_port()
    args = ["m5sim", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)]
    if seed is not None:
        if isinstance(seed, Mapping):
            seed_path = tmp / "seed.json"
            seed_path.write_text(json.dumps(seed), encoding="utf-8")
            seed = seed_path
        args += ["--seed", str(seed)]
    if faults:
        spec = faults if isinstance(faults, str) else ",".join(f"{k}={v}" for k, v in faults.items())
        args += ["--faults", spec]
    if tls is not None:
        args += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
    if profile is not None:
        args += ["--profile", profile]
    child_env = {**os.environ, **(env or {})}
    log = tmp / "m5sim.log"
    proc = start_process(args, log=log, env=child_env)
    scheme = "https" if tls else "http"
    root = f"{scheme}://127.0.0.1:{port}"
    verify: bool | str = str(tls[0]) if tls else True
    sim = RunningSimulator(url=f"{root}/m5adminapi/api", root=root, db=db, proc=proc, log=log, verify=verify)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            sim.stop()
            raise RuntimeError(f"the simulator exited with {proc.returncode}: {log.read_text(errors='replace')}")
        try:
            sim._control.get("/m5adminapi/api/version", timeout=2.0)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                sim.stop()
                raise RuntimeError(f"the simulator did not answer at {root}: {log.read_text(errors='replace')}") from None
            time.sleep(0.1)
    sim.clear_calls()
    return sim


@pytest.fixture(scope="session")
def _m5sim_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    sim = _start(tmp_path_factory.mktemp("m5sim"))
    yield sim
    sim.stop()


@pytest.fixture
def m5sim(_m5sim_session: RunningSimulator) -> RunningSimulator:
    """A clean, empty simulator without faults (shared process, reset for each test)."""
    if _m5sim_session.proc.poll() is not None:
        pytest.fail(f"the shared simulator died: {_m5sim_session.log.read_text(errors='replace')}")
    _m5sim_session.reset()
    return _m5sim_session


@pytest.fixture(scope="session")
def _m5sim_tls_session(tmp_path_factory: pytest.TempPathFactory, tls_cert: tuple[Path, Path]
                       ) -> Iterator[RunningSimulator]:
    sim = _start(tmp_path_factory.mktemp("m5sim_tls"), tls=tls_cert)
    yield sim
    sim.stop()


@pytest.fixture
def m5sim_tls(_m5sim_tls_session: RunningSimulator) -> RunningSimulator:
    """Like ``m5sim`` but over HTTPS with ``tls_cert``; its ``verify`` is the certificate's path."""
    if _m5sim_tls_session.proc.poll() is not None:
        pytest.fail(f"the shared TLS simulator died: {_m5sim_tls_session.log.read_text(errors='replace')}")
    _m5sim_tls_session.reset()
    return _m5sim_tls_session


@pytest.fixture
def m5sim_factory(tmp_path: Path) -> Iterator[Callable[..., RunningSimulator]]:
    """``start(seed=path_or_dict, faults="a=1,b=2" or dict, tls=(cert, key), env={...}, profile="no-count")``:
    a dedicated simulator process (playing that variant of the real API), stopped after the test."""
    started: list[RunningSimulator] = []

    def start(**kw: Any) -> RunningSimulator:
        sim = _start(tmp_path / f"m5sim{len(started)}", **kw)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def m5_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The M5 secrets a config names by default, set to the simulator's demo credentials."""
    env = {"PASSERLINK_M5_USER": "demo", "PASSERLINK_M5_PASSWORD": "demo", "PASSERLINK_M5_APIKEY": "demo"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate (its own CA) for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not available to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="session")
def loopback_http() -> Iterator[Callable[[type[BaseHTTPRequestHandler]], str]]:
    """Start a small stand-in HTTP server on 127.0.0.1 for a handler class; returns its base URL.

    For the peers that are not ours to simulate fully (an SS 12000 API, a server answering
    garbage); every server started is shut down at the end of the session.
    """
    running: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(handler: type[BaseHTTPRequestHandler]) -> str:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        running.append((httpd, thread))
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd, thread in running:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
