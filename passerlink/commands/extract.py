"""Read a register file – or every source in a config, plus M5 – into canonical person tables.

    passerlink extract FILE --out OUT.csv [--id-column COL] [--map COL=FIELD ...] [--source NAME]
    passerlink extract --config passerlink.toml --out DIR [--m5-url URL]

The output is UTF-8 CSV with exactly the canonical columns (source, source_id, given_names,
call_name, family_name, birth_date, personnummer, email, org_unit, employee_number): dates ISO,
personnummer 12 digits or empty. A summary per source says how many rows were read, how much of
each field is missing, which column gave the id, and lists the row issues (personnummer masked).

A repeated id is refused (exit 2, naming the id and both rows): a register whose id is not
unique cannot be linked safely. Row problems (invalid personnummer, impossible dates, ragged
rows, formulas in cells) are warnings: the row is kept, the bad value left out. Nothing is
written unless every source was read; files are replaced atomically.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from passerlink.errors import InputError
from passerlink.people import CANONICAL_COLUMNS, PERSON_FIELDS

if TYPE_CHECKING:
    from passerlink.people import PeopleTable

NAME = "extract"
HELP = "read register files (and M5) into canonical person CSV files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("file", nargs="?", type=Path, metavar="FILE",
                        help="a register file (CSV/TSV/TXT or XLSX)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="read every source of this config (and M5 if it has [m5])")
    parser.add_argument("--out", type=Path, required=True, metavar="PATH",
                        help="output CSV for FILE, or output folder with --config")
    parser.add_argument("--id-column", metavar="COL", help="the column that identifies a person")
    parser.add_argument("--map", action="append", default=[], metavar="COL=FIELD",
                        help=f"read column COL as FIELD (one of {', '.join(PERSON_FIELDS)}); repeatable")
    parser.add_argument("--source", metavar="NAME",
                        help="source name written into the table (default: from the file name)")
    parser.add_argument("--encoding", help="force the file's encoding (default: sniffed)")
    parser.add_argument("--separator", help="force the separator: ';', ',', tab or '|' (default: sniffed)")
    parser.add_argument("--sheet", help="XLSX sheet to read (default: the first)")
    parser.add_argument("--m5-url", metavar="URL", help="with --config: read M5 from this URL instead")
    parser.add_argument("--max-issues", type=int, default=20, metavar="N",
                        help="row issues listed per source (default 20)")


def _parse_map(items: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        col, sep, fld = item.rpartition("=")
        col, fld = col.strip(), fld.strip()
        if not sep or not col:
            raise InputError(f"--map {item!r} is not COL=FIELD")
        if fld not in PERSON_FIELDS:
            raise InputError(f"--map {item!r}: {fld!r} is not one of {', '.join(PERSON_FIELDS)}")
        mapping[col] = fld
    return mapping


def _source_name(args: argparse.Namespace) -> str:
    if args.source:
        return args.source
    slug = re.sub(r"[^a-z0-9_-]+", "_", args.file.stem.lower()).strip("_-")
    return slug if re.match(r"^[a-z]", slug) else "file"


def _temp_csv(table: PeopleTable, target: Path) -> Path:
    """Write ``table`` next to ``target`` under a temporary name (same folder: replace is atomic)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            table.people.to_csv(fh, index=False, columns=CANONICAL_COLUMNS, lineterminator="\n")
    except OSError as exc:
        raise InputError(f"{target}: cannot write ({exc.strerror or exc})") from None
    return Path(tmp)


def _write_all(outputs: list[tuple[PeopleTable, Path]]) -> None:
    """Write every table or none: all temporary files first, then one rename each."""
    temps: list[tuple[Path, Path]] = []
    try:
        for table, target in outputs:
            temps.append((_temp_csv(table, target), target))
        for tmp, target in temps:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise InputError(f"{target}: cannot write ({exc.strerror or exc})") from None
    finally:
        for tmp, _target in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def _summary(table: PeopleTable, target: Path, max_issues: int) -> str:
    from passerlink.sources import describe

    lines = describe(table, max_issues=max_issues)
    lines.insert(1, f"  written to: {target}")
    return "\n".join(lines)


def _extract_file(args: argparse.Namespace) -> list[tuple[PeopleTable, Path]]:
    from passerlink.sources import read_file

    if args.m5_url:
        raise InputError("--m5-url only works with --config (M5 credentials come from its [m5])")
    source = _source_name(args)
    table = read_file(
        args.file,
        source=source,
        id_column=args.id_column,
        mapping=_parse_map(args.map),
        encoding=args.encoding,
        separator=args.separator,
        sheet=args.sheet,
    )
    target = args.out / f"{source}.csv" if args.out.is_dir() else args.out
    if target.resolve() == args.file.resolve():
        raise InputError(f"{target}: the output would overwrite the input file")
    return [(table, target)]


def _extract_config(args: argparse.Namespace) -> list[tuple[PeopleTable, Path]]:
    from passerlink.config import load_config
    from passerlink.errors import ConfigError, M5Error, SourceError
    from passerlink.sources import read_m5, read_source

    for flag, value in (("--id-column", args.id_column), ("--map", args.map),
                        ("--source", args.source), ("--encoding", args.encoding),
                        ("--separator", args.separator), ("--sheet", args.sheet)):
        if value:
            raise InputError(f"{flag} cannot be used with --config: set it on the source in the config")
    cfg = load_config(args.config)
    if args.out.exists() and not args.out.is_dir():
        raise InputError(f"{args.out}: with --config, --out must be a folder")
    if args.m5_url and cfg.m5 is None:
        raise ConfigError(f"{cfg.config_path}: --m5-url needs an [m5] section (for credentials)")
    if cfg.m5 is not None and any(s.name == "m5" for s in cfg.sources):
        raise ConfigError(f"{cfg.config_path}: a source named 'm5' would collide with M5's own m5.csv")
    outputs = [
        (read_source(spec, config_path=cfg.config_path), args.out / f"{spec.name}.csv")
        for spec in cfg.sources
    ]
    if cfg.m5 is not None:
        from passerlink.m5 import M5Client

        url = args.m5_url or cfg.m5.url
        try:
            with M5Client.from_config(cfg.m5, config_path=cfg.config_path, url=args.m5_url) as client:
                table = read_m5(client, cfg.m5.columns, origin=f"M5 at {url}")
        except M5Error as exc:
            # here M5 is one more source named on the command line or in the config: its
            # failure is bad input (exit 2); the client's message already names the URL
            raise SourceError(str(exc)) from exc
        outputs.append((table, args.out / "m5.csv"))
    return outputs


def run(args: argparse.Namespace) -> int:
    if (args.file is None) == (args.config is None):
        raise InputError("give either a FILE or --config (not both)")
    outputs = _extract_config(args) if args.config else _extract_file(args)
    _write_all(outputs)
    for table, target in outputs:
        print(_summary(table, target, args.max_issues), file=sys.stdout)
    return 0
