r"""Bring RCard M5 in line with the registers: plan, check, apply, report.

    passerlink sync --config F [--dry-run] [--approve PLAN_ID] [--allow-mass-changes] [--m5-url URL]
                    [--source NAME=PATH ...] [--every 24h [--at 02:00]]

A dry run prints and stores its plan under an id; ``--approve PLAN_ID`` then runs exactly that
plan past the mass-change rules (the first night after go-live always is a mass change). If the
fresh plan differs from the approved one, the run stops (exit 3) and shows the difference.

One-shot and safe to repeat (cron, a systemd timer or Windows Task Scheduler runs it every
night). Every run writes a report (HTML, XLSX, JSON) into [sync] report_dir, dry or not.

Exit codes: 0 done, 1 failed (M5 errors, circuit breaker, another run holds the lock),
2 bad input or config (an M5 that cannot be reached included), 3 stopped by a safety rule before
the first write. With --every, an unreachable M5 is tried again at the next run; any other exit 2
ends the loop.

Every night (the M5 secrets come from the environment variables named in [m5]):

  cron (Linux):      0 2 * * *  cd /srv/passerlink && .venv/bin/passerlink sync --config site.toml
  systemd timer:     passerlink-sync.service  [Service] Type=oneshot
                       EnvironmentFile=/etc/passerlink/m5.env
                       ExecStart=/srv/passerlink/.venv/bin/passerlink sync --config /srv/passerlink/site.toml
                     passerlink-sync.timer    [Timer] OnCalendar=*-*-* 02:00  Persistent=true
  Task Scheduler:    schtasks /Create /TN passerlink-sync /SC DAILY /ST 02:00 /RU SYSTEM
                       /TR "C:\passerlink\.venv\Scripts\passerlink.exe sync --config C:\passerlink\site.toml"
  or let it wait:    passerlink sync --config site.toml --every 24h --at 02:00

Two runs never overlap (the run lock); a run the OS kills is safe to start again.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import re
import sys
import time
from pathlib import Path

from passerlink.errors import InputError

NAME = "sync"
HELP = "sync the registers into RCard M5 (dry run, safety rules, report)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--config", type=Path, required=True, metavar="FILE", help="the passerlink TOML config")
    parser.add_argument("--dry-run", action="store_true", help="plan and report only; write nothing to M5")
    parser.add_argument("--approve", metavar="PLAN_ID",
                        help="run exactly the plan a dry run printed, past the mass-change rules")
    parser.add_argument("--allow-mass-changes", action="store_true",
                        help="override the change-size safety rules whatever the plan (for scripts)")
    parser.add_argument("--m5-url", metavar="URL", help="use this M5 Admin API base URL instead of [m5] url")
    parser.add_argument("--source", action="append", default=[], metavar="NAME=PATH",
                        help="read source NAME from PATH this time (repeatable)")
    parser.add_argument("--every", metavar="DURATION", help="keep running: sync every DURATION (e.g. 24h, 30m)")
    parser.add_argument("--at", metavar="HH:MM", help="with --every: first run at this local time")


def parse_sources(items: list[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise InputError(f"--source {item!r}: expected NAME=PATH")
        out[name.strip()] = Path(path.strip())
    return out


def parse_every(text: str) -> _dt.timedelta:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text or "")
    if not m:
        raise InputError(f"--every {text!r}: expected a duration like 24h, 30m, 1d or 90s")
    value = float(m.group(1))
    seconds = value * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if seconds < 60:
        raise InputError(f"--every {text!r}: the shortest interval is 1 minute")
    return _dt.timedelta(seconds=seconds)


def parse_at(text: str) -> _dt.time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text or "")
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise InputError(f"--at {text!r}: expected a local time HH:MM, e.g. 02:00")
    return _dt.time(int(m.group(1)), int(m.group(2)))


def first_run(now: _dt.datetime, at: _dt.time | None) -> _dt.datetime:
    if at is None:
        return now
    when = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return when if when >= now else when + _dt.timedelta(days=1)


def plan_lines(report: dict, config: Path) -> list[str]:
    """For a dry run whose plan needs approval, the command that gives it; a changed plan's difference
    (the plan id and who approved it are in the summary above)."""
    plan_id = report.get("plan_id")
    if not plan_id:
        return []
    out: list[str] = []
    needs = report.get("needs_approval") or []
    if report.get("dry_run") and needs:
        out.append(f"this plan goes past the mass-change rules ({', '.join(needs)}); to run exactly this plan: "
                   f"passerlink sync --config {config} --approve {plan_id}")
    for line in (report.get("plan_difference") or [])[:50]:
        out.append(f"  {line}")
    return out


def _once(args: argparse.Namespace, sources: dict[str, Path]) -> tuple[int, bool]:
    """One run: (exit code, whether waiting could help – M5 was unreachable)."""
    from passerlink.config import load_config
    from passerlink.sync.engine import run_sync, shorten
    from passerlink.sync.report import summary_text
    cfg = load_config(args.config)
    result = run_sync(cfg, dry_run=args.dry_run, allow_mass_changes=args.allow_mass_changes,
                      m5_url=args.m5_url, source_paths=sources, approve=args.approve)
    print(summary_text(result.report), flush=True)
    for line in plan_lines(result.report, args.config):
        print(line, flush=True)
    if result.exit_code != 0 and result.report.get("stop_reason"):
        print(f"passerlink: {shorten(str(result.report['stop_reason']), 600)}", file=sys.stderr)
    return result.exit_code, bool(result.report.get("m5_unreachable"))


def run(args: argparse.Namespace) -> int:
    sources = parse_sources(args.source)
    if args.at and not args.every:
        raise InputError("--at needs --every (for a one-shot run, let cron or the task scheduler pick the time)")
    if not args.every:
        return _once(args, sources)[0]
    interval = parse_every(args.every)
    at = parse_at(args.at) if args.at else None
    when = first_run(_dt.datetime.now(), at)
    while True:
        wait = (when - _dt.datetime.now()).total_seconds()
        if wait > 0:
            print(f"[sync] next run at {when:%Y-%m-%d %H:%M}", flush=True)
        while (left := (when - _dt.datetime.now()).total_seconds()) > 0:
            time.sleep(min(left, 30.0))
        code, may_recover = _once(args, sources)
        if code == 2 and not may_recover:
            return code  # a config or input mistake does not fix itself by waiting
        when += interval
        while when <= _dt.datetime.now():
            when += interval
