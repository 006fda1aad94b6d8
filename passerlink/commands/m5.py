"""Ask the site's RCard M5 whether it answers the way the sync assumes (read-only).

    passerlink m5 check --config F [--lang en] [--m5-url URL]

The first command of go-live day. It logs in, shows the API version and the TLS session, and
asks M5 questions whose answers it can check: the page size it serves and whether offset/limit
are honoured, whether count=true agrees with a full listing, whether filter= on /user and /card
returns only the one user asked for, whether a user's cards and access groups come with and
without include=, how many users already carry something in the marker field, and the clock
difference. It writes nothing.

A table in Swedish (English with --lang en). Exit 0 only when every assumption the sync relies on
holds; otherwise 1, with the [m5] settings to use when a probe found ones that work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "m5"
HELP = "check the site's M5 Admin API against the sync's assumptions (read-only; go-live day)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="m5_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="probe M5 read-only and print a table of the assumptions",
                           description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("--config", type=Path, required=True, metavar="FILE", help="the passerlink TOML config")
    check.add_argument("--lang", choices=["sv", "en"], default="sv", help="language of the table (default sv)")
    check.add_argument("--m5-url", metavar="URL", help="use this M5 Admin API base URL instead of [m5] url")


def run(args: argparse.Namespace) -> int:
    from passerlink.config import load_config
    from passerlink.errors import ConfigError, InputError
    from passerlink.m5 import M5Client
    from passerlink.m5.checks import render_table, run_checks

    config = load_config(args.config)
    if config.m5 is None:
        raise ConfigError(f"{config.config_path}: m5 check needs an [m5] section")
    if args.m5_url is not None and not args.m5_url.startswith(("http://", "https://")):
        raise InputError(f"--m5-url {args.m5_url!r} is not an http(s) URL")
    with M5Client.from_config(config.m5, config_path=config.config_path, url=args.m5_url) as client:
        report = run_checks(client, marker_field=config.m5.marker_field, verify_tls=config.m5.verify_tls,
                            max_skew=config.m5.max_clock_skew_seconds)
    print(render_table(report, args.lang), flush=True)
    return 0 if report.ok else 1
