"""Run the whole thing on the embedded sample world: the M5 simulator seeded with the sample
municipality, extraction of all three sources, and the operator workbench on 127.0.0.1.

Ctrl-C stops everything. The demo's state (simulator database, link store, extracts, the sync's
state, stored plans and reports) lives in one folder (``var/demo`` beside the repository by
default, gitignored); ``--fresh`` starts it all over.

The simulator's M5 credentials are ``demo`` / ``demo`` with API key ``demo`` (the demo sets
PASSERLINK_M5_USER, PASSERLINK_M5_PASSWORD and PASSERLINK_M5_APIKEY to them when they are unset).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from passerlink.config import Config

NAME = "demo"
HELP = "run the simulator, extraction and workbench on the sample world"

_REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = _REPO / "data" / "samples" / "demo.toml"
DEFAULT_SEED = _REPO / "data" / "samples" / "m5_seed.json"


#: The simulator's M5 credentials (environment variable -> value), set when unset.
DEMO_CREDENTIALS = {"PASSERLINK_M5_USER": "demo", "PASSERLINK_M5_PASSWORD": "demo", "PASSERLINK_M5_APIKEY": "demo"}


def forget_state(cfg: Config) -> list[Path]:
    """Remove everything a demo run of ``cfg`` wrote: the state folder (the link store's), and the
    sync's state database, its lock, its stored plans and its reports wherever [sync] puts them.
    Returns what was removed. A report folder is emptied of sync reports only, never removed with
    other files in it."""
    from passerlink.sync.approval import plans_folder
    from passerlink.sync.engine import sync_paths

    reports, state_db, lock = sync_paths(cfg)
    removed: list[Path] = []
    folder = cfg.link_store.path.parent
    if folder.exists():
        shutil.rmtree(folder)
        removed.append(folder)
    for path in (state_db, state_db.with_name(state_db.name + "-wal"), state_db.with_name(state_db.name + "-shm"),
                 lock):
        if path.exists():
            path.unlink()
            removed.append(path)
    plans = plans_folder(state_db)
    if plans.exists():
        shutil.rmtree(plans)
        removed.append(plans)
    if reports.is_dir():
        for report in sorted(reports.glob("sync-*")):
            report.unlink()
            removed.append(report)
    return removed


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config file (default: the sample world)")
    p.add_argument("--seed", type=Path, default=DEFAULT_SEED, help="M5 seed for the simulator")
    p.add_argument("--m5-port", type=int, default=8765, help="simulator port (default 8765, as in demo.toml)")
    p.add_argument("--port", type=int, default=8501, help="workbench port (default 8501)")
    p.add_argument("--fresh", action="store_true", help="forget the demo's earlier state first")
    p.add_argument("--no-workbench", action="store_true", help="stop after extraction")
    p.add_argument("--check", action="store_true", help="start everything, check that it answers, then stop")


def run(args: argparse.Namespace) -> int:
    from passerlink.config import load_config
    from passerlink.errors import InputError
    from passerlink.processes import (
        port_in_use,
        start_process,
        start_simulator,
        stop_process,
        wait_http,
    )

    cfg = load_config(args.config)
    state = cfg.link_store.path.parent
    if args.fresh:
        for gone in forget_state(cfg):
            print(f"[demo] --fresh: removed {gone}", flush=True)
    state.mkdir(parents=True, exist_ok=True)
    # The simulator's demo credentials; a real site sets its own in the environment.
    for var, value in DEMO_CREDENTIALS.items():
        os.environ.setdefault(var, value)
    if port_in_use(args.m5_port):
        raise InputError(f"port {args.m5_port} is already in use: stop what listens there or pass --m5-port")

    print(f"[demo] starting the M5 simulator on 127.0.0.1:{args.m5_port} (state in {state}; "
          "M5 user demo, password demo, API key demo)", flush=True)
    sim, url = start_simulator(state / "m5sim.sqlite", args.m5_port, seed=args.seed, log=state / "m5sim.log")
    procs = [sim]
    try:
        out = state / "extract"
        print(f"[demo] extracting every source of {args.config.name} into {out}", flush=True)
        rc = subprocess.call(
            [sys.executable, "-m", "passerlink", "extract", "--config", str(args.config),
             "--out", str(out), "--m5-url", url]
        )
        if rc != 0:
            return rc
        if args.no_workbench:
            return 0
        print(f"[demo] workbench: http://127.0.0.1:{args.port}  (Ctrl-C stops the demo)", flush=True)
        wb = start_process(
            ["workbench", "--config", str(args.config), "--port", str(args.port), "--m5-url", url],
            log=state / "workbench.log",
        )
        procs.append(wb)
        wait_http(f"http://127.0.0.1:{args.port}/_stcore/health", proc=wb, what="the workbench")
        print(f"[demo] ready: open http://127.0.0.1:{args.port}", flush=True)
        if args.check:
            return 0
        wb.wait()
        return 0
    except KeyboardInterrupt:
        print("[demo] stopping", flush=True)
        return 0
    finally:
        for p in reversed(procs):
            stop_process(p)
