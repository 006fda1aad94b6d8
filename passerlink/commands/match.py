"""Link the people of two files one-to-one (a register against M5 users, or any two lists).

    passerlink match LEFT RIGHT --left-id COL --right-id COL [--map left:COL=FIELD ...]
                     [--map right:COL=FIELD ...] --out LINKS.csv [--oracle TRUTH.csv --budget N]
                     [--seed N]

LEFT and RIGHT are any file the readers accept (CSV/TSV/TXT or XLSX; headers are recognised as
in ``extract``, FEBRL's too). Columns that both files carry under the same name and that are not
canonical fields (an address, a foreign id) are compared as well.

Without --oracle no question is asked: LINKS.csv holds the links the model is sure of. With
--oracle, a simulated operator answers at most N questions the tool chooses, yes exactly when the
pair is in TRUTH.csv (columns left_id,right_id); the model retrains after every batch of answers
(batches grow from 10 questions by half each time, up to a fifth of the budget).
LINKS.csv is one-to-one with columns left_id,right_id,probability,status (auto or confirmed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path

from passerlink.errors import InputError
from passerlink.people import PERSON_FIELDS

NAME = "match"
HELP = "link two files' people one-to-one (optionally asking a simulated operator)"

LINK_COLUMNS = ["left_id", "right_id", "probability", "status"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("left", type=Path, metavar="LEFT", help="left file (e.g. a register)")
    parser.add_argument("right", type=Path, metavar="RIGHT", help="right file (e.g. M5 users)")
    parser.add_argument("--left-id", required=True, metavar="COL", help="the id column of LEFT")
    parser.add_argument("--right-id", required=True, metavar="COL", help="the id column of RIGHT")
    parser.add_argument("--map", action="append", default=[], metavar="SIDE:COL=FIELD",
                        help=f"read column COL of side left/right as FIELD ({', '.join(PERSON_FIELDS)}); repeatable")
    parser.add_argument("--out", type=Path, required=True, metavar="LINKS.csv", help="where to write the links")
    parser.add_argument("--oracle", type=Path, metavar="TRUTH.csv",
                        help="true links (left_id,right_id) that answer the questions")
    parser.add_argument("--budget", type=int, metavar="N", help="questions the oracle may be asked")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")


def parse_maps(items: list[str]) -> dict[str, dict[str, str]]:
    """``["left:Förnamn=given_names", ...]`` -> ``{"left": {"Förnamn": "given_names"}, "right": {}}``."""
    maps: dict[str, dict[str, str]] = {"left": {}, "right": {}}
    for item in items:
        side, sep, rest = item.partition(":")
        col, eq, fld = rest.rpartition("=")
        side, col, fld = side.strip(), col.strip(), fld.strip()
        if not sep or side not in maps or not eq or not col:
            raise InputError(f"--map {item!r} is not left:COL=FIELD or right:COL=FIELD")
        if fld not in PERSON_FIELDS:
            raise InputError(f"--map {item!r}: {fld!r} is not one of {', '.join(PERSON_FIELDS)}")
        maps[side][col] = fld
    return maps


def read_oracle(path: Path):
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path} not found") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path} cannot be read as CSV ({exc})") from None
    missing = [c for c in ("left_id", "right_id") if c not in frame.columns]
    if missing:
        raise InputError(f"{path} has no column {missing[0]!r} (it needs left_id,right_id)")
    return set(zip(frame["left_id"].str.strip(), frame["right_id"].str.strip(), strict=True))


def load_pair(args: argparse.Namespace):
    """Read both files and return (left frame, right frame, shared extra fields)."""
    from passerlink.sources import read_file

    maps = parse_maps(args.map)
    tables = []
    for side, path, id_col in (("left", args.left, args.left_id), ("right", args.right, args.right_id)):
        tables.append(read_file(path, source=side, id_column=id_col, mapping=maps[side]))
    left, right = tables
    shared = [c for c in left.extra.columns if c in set(right.extra.columns)
              and c not in (args.left_id, args.right_id)]
    frames = []
    for table in tables:
        frame = table.people.reset_index(drop=True)
        for c in shared:
            frame[c] = table.extra[c].reset_index(drop=True).fillna("").astype(str)
        frames.append(frame)
    return frames[0], frames[1], shared


def write_links(links, target: Path) -> None:
    """Write the link table atomically (a temporary file in the same folder, then a rename)."""
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            links.to_csv(fh, index=False, columns=LINK_COLUMNS, lineterminator="\n", float_format="%.6f")
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
        raise InputError(f"{target}: cannot write ({exc.strerror or exc})") from None


def run(args: argparse.Namespace) -> int:
    import time

    from passerlink.matching.driver import oracle_from_pairs, run_matching

    t0 = time.perf_counter()
    if (args.oracle is None) != (args.budget is None):
        raise InputError("--oracle and --budget go together: give both or neither")
    if args.budget is not None and args.budget < 0:
        raise InputError(f"--budget must be 0 or more, not {args.budget}")
    for path in (args.left, args.right):
        if args.out.resolve() == path.resolve():
            raise InputError(f"{args.out}: the output would overwrite the input file")
    truth = read_oracle(args.oracle) if args.oracle is not None else None
    left, right, shared = load_pair(args)
    result = run_matching(
        left,
        right,
        operator=oracle_from_pairs(truth) if truth is not None else None,
        budget=args.budget or 0,
        seed=args.seed,
        extra_fields=shared,
    )
    write_links(result.links, args.out)
    print(f"candidates: {result.n_candidates}")
    print(f"questions asked: {result.questions}" + (" (stopped: no more worth asking)" if result.stopped_early else ""))
    print(f"links: {len(result.links)}")
    print(f"seconds: {time.perf_counter() - t0:.2f}")
    return 0
