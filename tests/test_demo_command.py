"""The README's demo command, end to end on a copy of the sample world: simulator, extraction of
all three sources, and the workbench answering on loopback."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from passerlink.processes import free_port, port_in_use

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "samples"
    folder.mkdir(parents=True)
    for name in ("demo.toml", "hr_export.csv", "students.csv", "m5_seed.json"):
        shutil.copy(SAMPLES / name, folder / name)
    return folder


def _rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


def test_demo_starts_simulator_extracts_and_serves_the_workbench(sample_copy: Path, tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.run(
        [sys.executable, "-m", "passerlink", "demo", "--config", str(sample_copy / "demo.toml"),
         "--seed", str(sample_copy / "m5_seed.json"), "--m5-port", str(free_port()),
         "--port", str(port), "--check"],
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not port_in_use(port)  # the demo's end stopped streamlit too, not only its launcher
    assert "Traceback" not in proc.stderr
    assert "[demo] ready" in proc.stdout
    extract = tmp_path / "var" / "demo" / "extract"  # beside the link store of demo.toml
    assert _rows(extract / "hr.csv") == 1500
    assert _rows(extract / "students.csv") == 2000
    assert _rows(extract / "m5.csv") > 3000
    # personnummer never printed in clear by the demo (masked forms end in ****)
    assert not re.search(r"\b(\d{2})?\d{6}[-+]?\d{4}\b", proc.stdout)
    assert "-****" in proc.stdout


def test_demo_refuses_a_busy_port(sample_copy: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "passerlink", "demo", "--config", str(sample_copy / "demo.toml"),
             "--m5-port", str(port), "--no-workbench"],
            capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode == 2
    assert f"port {port} is already in use" in proc.stderr
    assert "Traceback" not in proc.stderr
