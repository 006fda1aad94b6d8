"""The link table: import a confirmed one (and adopt the linked M5 users), or show it.

    passerlink links import FILE --config F [--m5-url URL]
    passerlink links show --config F
    passerlink links queue --config F

``import`` takes the workbench's Excel export (a sheet per register with the M5 id and the
decision) or a CSV with columns ``source,source_id,m5_id`` (optionally ``decision``), checks
the whole file first, stores the links (who = you) and writes the ownership marker into each
linked M5 user. ``queue`` lists the new register people the nightly sync found a likely M5
match for: decide them in the workbench.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from passerlink.errors import InputError

NAME = "links"
HELP = "import a confirmed link table and adopt the M5 users; show links and the review queue"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="links_command", metavar="ACTION")
    imp = sub.add_parser("import", help="store a confirmed link table and adopt the M5 users")
    imp.add_argument("file", type=Path, metavar="FILE", help="link table: .xlsx (workbench export) or .csv")
    imp.add_argument("--config", type=Path, required=True, metavar="FILE")
    imp.add_argument("--m5-url", metavar="URL", help="use this M5 Admin API base URL instead of [m5] url")
    show = sub.add_parser("show", help="print the current links")
    show.add_argument("--config", type=Path, required=True, metavar="FILE")
    queue = sub.add_parser("queue", help="print the sync's review queue (likely matches of new people)")
    queue.add_argument("--config", type=Path, required=True, metavar="FILE")


def _read_table(path: Path):
    import pandas as pd

    from passerlink.sync.adopt import read_link_csv

    if not path.exists():
        raise InputError(f"{path}: link table not found")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from passerlink.workbench.excel import read_workbook

        wb = read_workbook(path, name=str(path))
        if wb.empty:
            raise InputError(f"{path}: no sheet with the columns of a link table (register id, M5 id, decision)")
        return pd.DataFrame({"source": wb["register"], "source_id": wb["source_id"], "m5_id": wb["m5_id"],
                             "decision": wb["decision"], "row": wb["row"], "sheet": True})
    return read_link_csv(path)


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def run(args: argparse.Namespace) -> int:
    if args.links_command is None:
        raise InputError("say what to do: passerlink links import|show|queue")
    from passerlink.config import load_config
    from passerlink.errors import ConfigError
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

    from passerlink.m5 import M5Client
    from passerlink.sync.adopt import check_link_table, import_links
    from passerlink.sync.engine import sync_paths
    from passerlink.sync.lock import RunLock

    if cfg.m5 is None:
        raise ConfigError(f"{cfg.config_path}: adopting M5 users needs an [m5] section")
    sources = [s.name for s in cfg.sources]
    links = check_link_table(_read_table(args.file), name=str(args.file), sources=sources)
    with RunLock(sync_paths(cfg)[2]), M5Client.from_config(cfg.m5, config_path=cfg.config_path,
                                                            url=args.m5_url) as client:
        result = import_links(links, LinkStore(cfg.link_store.path), client, name=args.file.name, who=_who(),
                              marker_field=cfg.m5.marker_field, policy=cfg.sync, source_order=sources)
    print(f"{len(links)} links in {args.file.name}: {result.stored} stored, {result.already_linked} already "
          f"linked; {result.adopted} M5 users adopted, {result.already_adopted} already adopted")
    for note in result.notes:
        print(f"note: {note}")
    return 0
