"""The link table: import a confirmed one (and adopt the linked M5 users), or show it.

    passerlink links import FILE --config F [--m5-url URL] [--adopt-manual] [--dry-run] [--yes]
    passerlink links show --config F
    passerlink links queue --config F
    passerlink links propose --config F [--m5-url URL]
    passerlink links export --config F --out FILE.xlsx [--m5-url URL] [--lang sv|en]
    passerlink links signoff --config F [--yes]

``import`` takes the workbench's Excel export, unchanged or edited (a sheet per register with the
M5 id and the decision; a row without an M5 id is "no link"), or a CSV with columns
``source,source_id,m5_id`` (optionally ``decision``). Under the sync's run lock it checks the
whole file against the registers and M5 as they are now (ids exist, nobody linked twice, no M5
user linked to two people, no manual M5 user unless ``--adopt-manual``), prints a preview with
names, then stores every decision in one transaction (who = you) and writes the ownership marker
into each linked M5 user. ``queue`` lists the new register people the nightly sync found a likely M5
match for: decide them in the workbench.

``propose`` runs the joint matching (every register against M5 in one session, taught the
operator answers already stored) and stores its auto-links as ``proposed`` and its open questions
as ``question`` decisions, with probability and model version; it prints candidates, auto-links
and open questions per register. ``export`` writes the workbook the workbench exports (the link
store's decisions with names, and the people without a link). ``signoff`` turns the reviewed set
into links in one recorded step (who, when, how many of each kind); questions nobody answered
stay without a link, and the sync queues such a person rather than create them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from passerlink.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from passerlink.config import Config

NAME = "links"
HELP = "import a confirmed link table and adopt the M5 users; show links and the review queue"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="links_command", metavar="ACTION")
    imp = sub.add_parser(
        "import", help="store a confirmed link table and adopt the M5 users",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Store a signed-off link table and write the ownership marker into each linked M5 user.\n\n"
                    "FILE is the workbench's Excel export (unchanged or edited: a row without an M5 id is\n"
                    "'no link') or a CSV with the columns source,source_id,m5_id (optionally decision).\n"
                    "Under the sync's run lock, every row is checked against the registers and M5 as they\n"
                    "are now: the register id exists, the M5 user exists, nobody is linked twice, no M5 user\n"
                    "ends up with two people (counting stored links and markers), and no manual M5 user is\n"
                    "linked unless --adopt-manual. A preview with names (personnummer masked) is printed,\n"
                    "then every decision is stored in one transaction; links-import-*.json in [sync]\n"
                    "report_dir records it. Exit 0 stored, 1 failed (M5, lock), 2 the file is refused.",
    )
    imp.add_argument("file", type=Path, metavar="FILE", help="link table: .xlsx (workbench export) or .csv")
    imp.add_argument("--config", type=Path, required=True, metavar="FILE")
    imp.add_argument("--m5-url", metavar="URL", help="use this M5 Admin API base URL instead of [m5] url")
    imp.add_argument("--adopt-manual", action="store_true",
                     help="also link M5 users that are manual records (no marker, never proposed by the matcher)")
    imp.add_argument("--dry-run", action="store_true", help="check the file and print the preview; store nothing")
    imp.add_argument("--yes", action="store_true", help="do not ask before storing (asked only on a terminal)")
    show = sub.add_parser("show", help="print the current links")
    show.add_argument("--config", type=Path, required=True, metavar="FILE")
    queue = sub.add_parser("queue", help="print the sync's review queue (likely matches of new people)")
    queue.add_argument("--config", type=Path, required=True, metavar="FILE")
    prop = sub.add_parser("propose", help="run the joint matching and store its proposals and open questions")
    prop.add_argument("--config", type=Path, required=True, metavar="FILE")
    prop.add_argument("--m5-url", metavar="URL", help="use this M5 Admin API base URL instead of [m5] url")
    exp = sub.add_parser("export", help="write the workbench's link workbook (.xlsx) from the link store")
    exp.add_argument("--config", type=Path, required=True, metavar="FILE")
    exp.add_argument("--out", type=Path, required=True, metavar="FILE.xlsx")
    exp.add_argument("--m5-url", metavar="URL", help="use this M5 Admin API base URL instead of [m5] url")
    exp.add_argument("--lang", choices=("sv", "en"), default="sv", help="workbook language (default sv)")
    sign = sub.add_parser("signoff", help="turn the reviewed proposals into links (one recorded step)")
    sign.add_argument("--config", type=Path, required=True, metavar="FILE")
    sign.add_argument("--yes", action="store_true", help="do not ask before signing off (asked only on a terminal)")


def _read_table(path: Path) -> pd.DataFrame:
    """The file's rows as ``source, source_id, m5_id, decision, row, sheet`` (xlsx or CSV)."""
    import pandas as pd

    from passerlink.sync.adopt import TABLE_COLUMNS, read_link_csv

    if not path.exists():
        raise InputError(f"{path}: link table not found")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from passerlink.workbench.excel import read_workbook

        wb = read_workbook(path, name=str(path))
        if wb.empty:
            raise InputError(f"{path}: no sheet with the columns of a link table (register id, M5 id, decision)")
        return pd.DataFrame({"source": wb["register"], "source_id": wb["source_id"], "m5_id": wb["m5_id"],
                             "decision": wb["decision"], "row": wb["row"], "sheet": wb["register"]},
                            columns=TABLE_COLUMNS)
    return read_link_csv(path)


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def run(args: argparse.Namespace) -> int:
    if args.links_command is None:
        raise InputError("say what to do: passerlink links import|show|queue|propose|export|signoff")
    from passerlink.config import load_config
    from passerlink.matching import LinkStore

    cfg = load_config(args.config)
    if args.links_command == "show":
        links = LinkStore(cfg.link_store.path).links()
        print(links.to_string(index=False) if len(links) else "no links yet")
        return 0
    if args.links_command == "queue":
        from passerlink.sync.engine import sync_paths
        from passerlink.sync.journal import SyncState

        with SyncState(sync_paths(cfg)[1]) as state:
            q = state.review_queue()
        print(q.to_string(index=False) if len(q) else "the review queue is empty")
        return 0
    if args.links_command in _GOLIVE_ACTIONS:
        return _GOLIVE_ACTIONS[args.links_command](args, cfg)

    return _import(args, cfg)


def _import(args: argparse.Namespace, cfg: Config) -> int:
    """Check the file against the registers and M5 as they are now, preview, one transaction."""
    from passerlink.errors import ConfigError
    from passerlink.m5 import M5Client
    from passerlink.matching import LinkStore
    from passerlink.sources import read_source
    from passerlink.sync import adopt
    from passerlink.sync.engine import sync_paths
    from passerlink.sync.keys import key_registers, keyer_for
    from passerlink.sync.lock import RunLock

    if cfg.m5 is None:
        raise ConfigError(f"{cfg.config_path}: adopting M5 users needs an [m5] section")
    sources = [s.name for s in cfg.sources]
    table = _read_table(args.file)
    # the same lock as the sync: a sync never plans while links are half imported
    with RunLock(sync_paths(cfg)[2]), M5Client.from_config(cfg.m5, config_path=cfg.config_path,
                                                            url=args.m5_url) as client:
        raw = {s.name: read_source(s, config_path=cfg.config_path) for s in cfg.sources}
        keyer = keyer_for(cfg, raw)
        registers = key_registers(raw, keyer)
        checked = adopt.check_link_table(table, name=str(args.file), sources=sources, keyer=keyer)
        store = LinkStore(cfg.link_store.path)
        users = {str(u["id"]): u for u in client.list_users()}
        plan = adopt.plan_import(checked, name=args.file.name, registers=registers, m5_users=users.values(),
                           store_current=store.current(), store_history=store.history(), policy=cfg.sync,
                           marker_field=cfg.m5.marker_field, adopt_manual=args.adopt_manual, keyer=keyer)
        for line in adopt.preview_lines(plan):
            print(line)
        if args.dry_run:
            print("dry run: nothing stored, no M5 user adopted")
            return 0
        if not args.yes and sys.stdin.isatty() and input("store these decisions? [y/N] ").strip().lower() not in (
                "y", "yes", "j", "ja"):
            print("nothing stored")
            return 1
        result = adopt.apply_import(plan, store, client, who=_who(), policy=cfg.sync, marker_field=cfg.m5.marker_field,
                              source_order=sources, users=users)
    report = _write_report(cfg, adopt.import_report(plan, result, who=_who(), at=_now()))
    print(f"{len(plan.all_links)} links in {args.file.name}: {result.stored} decisions stored, "
          f"{result.already_linked} already linked; {result.adopted} M5 users adopted, "
          f"{result.already_adopted} already adopted")
    for row in plan.adopted_manual[:_LISTED]:
        print(f"adopted manual M5 user {row.m5_name} for {row.source}:{adopt.shown_id(row.source_id)} {row.person}")
    if len(plan.adopted_manual) > _LISTED:
        print(f"... and {len(plan.adopted_manual) - _LISTED} more manual M5 users adopted (all in the report)")
    for note in result.notes:
        print(f"note: {note}")
    if report is not None:
        print(f"report: {report}")
    if result.failed:
        print(f"passerlink: error: {result.failed}", file=sys.stderr)
        return 1
    return 0


#: Adopted manual users listed on the terminal after the import (all of them are in the preview and the report).
_LISTED = 40


def _now() -> str:
    import datetime as _dt

    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _write_report(cfg: Config, data: dict[str, object]) -> Path | None:
    """``links-import-<time>.json`` in the sync's report folder; a folder that cannot be written
    is said on stderr (the links are stored already)."""
    import json
    import uuid

    from passerlink.sync.engine import sync_paths

    folder = sync_paths(cfg)[0]
    stamp = str(data["at"]).replace(":", "").replace("-", "")[:15]
    path = folder / f"links-import-{stamp}-{uuid.uuid4().hex[:6]}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    except OSError as exc:
        print(f"passerlink: warning: {folder}: cannot write the import report ({exc.strerror})", file=sys.stderr)
        return None
    return path


# ---- go-live: propose, export, sign off ---------------------------------------------------------
def _propose(args: argparse.Namespace, cfg: Config) -> int:
    """The joint matching's auto-links and open questions, stored as proposals."""
    from passerlink.errors import ConfigError
    from passerlink.m5 import M5Client
    from passerlink.matching import LinkStore
    from passerlink.matching.proposals import propose
    from passerlink.sources import read_m5, read_source
    from passerlink.sync.keys import key_registers, keyer_for

    if cfg.m5 is None:
        raise ConfigError(f"{cfg.config_path}: proposing links needs an [m5] section")
    raw = {s.name: read_source(s, config_path=cfg.config_path) for s in cfg.sources}
    registers = {name: t.people for name, t in key_registers(raw, keyer_for(cfg, raw)).items()}
    with M5Client.from_config(cfg.m5, config_path=cfg.config_path, url=args.m5_url) as client:
        m5 = read_m5(client, cfg.m5.columns).people
    result = propose(registers, m5, LinkStore(cfg.link_store.path), who=_who())
    print(f"joint matching of {', '.join(registers)} against {len(m5)} M5 users (model {result.model_version})")
    for name, n in result.per_source.items():
        print(f"{name}: {n['people']} people, {n['candidates']} candidate pairs, {n['auto_links']} auto-links, "
              f"{n['open_questions']} open questions about {n['people_with_questions']} people")
    st = result.stored
    print(f"stored: {st['proposed']} proposed links and {st['question']} questions new or changed, "
          f"{st['unchanged']} unchanged, {st['kept']} already decided by an operator, {st['withdrawn']} withdrawn")
    print(f"next: answer the questions in the workbench, or export them: "
          f"passerlink links export --config {args.config} --out links.xlsx")
    return 0


def _export(args: argparse.Namespace, cfg: Config) -> int:
    """The workbench's own workbook (its writer, its table): the store's decisions and the people without a link."""
    from passerlink.workbench.workspace import Workspace

    if args.out.suffix.lower() != ".xlsx":
        raise InputError(f"--out {args.out}: the workbook is an .xlsx file")
    ws = Workspace(args.config, m5_url=args.m5_url)
    try:
        problems = ws.ready()[2]
        data = ws.export(lang=args.lang, exported_by=_who())
    finally:
        ws.close()
    for problem in problems:  # the workbook is still written: the decisions are the link store's
        print(f"passerlink: warning: {problem}; the workbook lacks what could not be read", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(args.out)
    print(f"wrote {args.out} ({len(data)} bytes); edit the decision column, then: "
          f"passerlink links import {args.out} --config {args.config}")
    return 0


def _signoff(args: argparse.Namespace, cfg: Config) -> int:
    """Turn the reviewed set into links in one recorded step."""
    from passerlink.matching import LinkStore
    from passerlink.sync.golive import read_golive_facts

    facts = read_golive_facts(cfg)
    print(f"to sign off: {facts.proposed} proposed links, {facts.links} links already standing, "
          f"{facts.questions} open questions (they stay without a link)")
    if not args.yes and sys.stdin.isatty() and input("sign off? [y/N] ").strip().lower() not in (
            "y", "yes", "j", "ja"):
        print("nothing signed off")
        return 1
    done = LinkStore(cfg.link_store.path).signoff(_who())
    c = done.counts
    print(f"signed off #{done.id} by {done.who} at {done.at}: {c['auto']} auto-links, {c['confirmed']} confirmed, "
          f"{c['manual']} manual, {c['rejected']} rejected, {c['unsure']} unsure, {c['open_questions']} open "
          f"questions left without a link, {c['withdrawn']} withdrawn proposals; {done.links} links")
    print(f"next: passerlink sync --config {args.config} --dry-run")
    return 0


_GOLIVE_ACTIONS = {"propose": _propose, "export": _export, "signoff": _signoff}
