"""Show the summary of the last sync run's report.

    passerlink report --last [--config F] [--dir FOLDER]

The report folder is [sync] report_dir of the config (default ``reports`` beside it; without
--config or --dir, ``reports`` in the current folder, else the demo's, var/demo/reports); the full report is the HTML (Swedish) and
XLSX file next to the JSON named at the end.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from passerlink.errors import InputError

NAME = "report"
HELP = "print the summary of the last sync report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--last", action="store_true", help="the last run's report (the default)")
    parser.add_argument("--config", type=Path, metavar="FILE", help="the config whose [sync] report_dir to read")
    parser.add_argument("--dir", type=Path, metavar="FOLDER", help="read reports from this folder instead")
    parser.add_argument("--json", action="store_true", help="print the whole JSON report")


def run(args: argparse.Namespace) -> int:
    import json

    from passerlink.sync.report import last_report, load_report, summary_text

    if args.dir is not None:
        folder = args.dir
    elif args.config is not None:
        from passerlink.config import load_config
        from passerlink.sync.engine import sync_paths

        folder = sync_paths(load_config(args.config))[0]
    else:
        folder = _without_config()
    path = last_report(folder)
    if path is None:
        raise InputError(f"{folder}: no sync report yet (run passerlink sync first)")
    report = load_report(path)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(summary_text(report))
    return 0


def _without_config() -> Path:
    """``reports`` in the current folder ([sync] report_dir's default beside a config here) if it
    holds a report, else the demo's report folder; if neither does, say where it looked."""
    from passerlink.commands.demo import DEFAULT_CONFIG
    from passerlink.config import load_config
    from passerlink.sync.engine import sync_paths
    from passerlink.sync.report import last_report

    here = Path("reports")
    if last_report(here) is not None:
        return here
    demo = sync_paths(load_config(DEFAULT_CONFIG))[0]
    if last_report(demo) is not None:
        print(f"(no --config: the demo's reports, {DEFAULT_CONFIG})")
        return demo
    raise InputError(f"no sync report in {here.resolve()} nor in the demo's {demo} (config {DEFAULT_CONFIG}); "
                     "for a site, pass --config F")
