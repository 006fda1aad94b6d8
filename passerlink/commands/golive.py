"""Where go-live day stands, and what happens next.

    passerlink golive status --config F [--json]

    sources read -> proposals -> reviewed -> signed off -> first sync approved -> nightly

Prints each step (done, next, later), the counts behind it (links, proposals waiting for
sign-off, open questions, withdrawn proposals, sync runs, the review queue), what is left and the
command that takes the next step. The workbench shows the same state on every page: both read it
from the link store and the sync's state (``passerlink.sync.golive``), nothing else.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from passerlink.errors import InputError

NAME = "golive"
HELP = "where go-live day stands: done, left, next"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="golive_command", metavar="ACTION")
    status = sub.add_parser("status", help="print the go-live state of a config")
    status.add_argument("--config", type=Path, required=True, metavar="FILE")
    status.add_argument("--json", action="store_true", help="print the state as JSON (for scripts)")


def run(args: argparse.Namespace) -> int:
    if args.golive_command != "status":
        raise InputError("say what to do: passerlink golive status --config F")
    from passerlink.config import load_config
    from passerlink.sync.golive import golive_status, read_golive_facts, status_lines

    cfg = load_config(args.config)
    status = golive_status(read_golive_facts(cfg), config_name=str(args.config))
    if args.json:
        import dataclasses
        import json

        print(json.dumps({"step": status.step, "reached": list(status.reached), "next_step": status.next_step,
                          "action": status.action, "command": status.command, "left": dict(status.left),
                          "facts": dataclasses.asdict(status.facts)}, indent=2))
        return 0
    for line in status_lines(status):
        print(line)
    return 0
