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


def test_fresh_clears_everything_the_demo_wrote(sample_copy: Path, tmp_path: Path) -> None:
    from passerlink.commands.demo import forget_state
    from passerlink.config import load_config
    from passerlink.matching import LinkDecision, LinkStore
    from passerlink.sync.approval import plans_folder, save_plan
    from passerlink.sync.engine import sync_paths
    from passerlink.sync.journal import SyncState

    cfg = load_config(sample_copy / "demo.toml")
    reports, state_db, _lock = sync_paths(cfg)
    demo = tmp_path / "var" / "demo"
    # everything lands under var/demo, nothing beside the sample files
    assert cfg.link_store.path.parent == demo and reports.parent == demo and state_db.parent == demo
    LinkStore(cfg.link_store.path).record(LinkDecision("hr", "1", "10", "confirmed", None, "anna"))
    with SyncState(state_db) as state:
        state.start_run("r1", dry_run=True)
    save_plan(plans_folder(state_db), {"changes": []})
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "sync-20261201-1-r1.json").write_text("{}", encoding="utf-8")
    removed = forget_state(cfg)
    assert demo in removed and not demo.exists()
    assert sorted(p.name for p in sample_copy.iterdir()) == ["demo.toml", "hr_export.csv", "m5_seed.json",
                                                             "students.csv"]


def test_report_last_without_config_finds_the_demos_reports_or_says_where_it_looked(
        sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import json

    from passerlink.cli import main
    from passerlink.commands import demo

    monkeypatch.setattr(demo, "DEFAULT_CONFIG", sample_copy / "demo.toml")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--last"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "var" / "demo" / "reports") in err and "demo.toml" in err
    folder = tmp_path / "var" / "demo" / "reports"
    folder.mkdir(parents=True)
    report = {"run_id": "abcdef12", "started": "2026-12-01T10:00:00+01:00", "status": "dry_run", "dry_run": True,
              "sources": {"hr": 1500}, "counts": {}, "changes": [], "errors": [], "safety": [], "m5_writes": 0,
              "duration_seconds": 1.0, "exit_code": 0}
    (folder / "sync-20261201-100000000-abcdef12.json").write_text(json.dumps(report), encoding="utf-8")
    assert main(["report", "--last"]) == 0
    out = capsys.readouterr().out
    assert "the demo's reports" in out and "abcdef12" in out


def test_a_command_module_that_is_missing_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from passerlink import cli

    monkeypatch.setattr(cli, "COMMANDS", [*cli.COMMANDS, "not_there"])
    with pytest.raises(ModuleNotFoundError, match="not_there"):
        cli.build_parser()
