"""The ``passerlink`` command: a thin router over one module per subcommand.

Each module in ``passerlink.commands`` exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``; heavy imports happen inside ``run`` so that ``--help`` stays fast. Any
``PasserlinkError`` becomes one line on stderr and its exit code – never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from passerlink import __version__
from passerlink.errors import PasserlinkError
from passerlink.redact import mask_logs

__all__ = ["main", "COMMANDS"]

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = ["extract", "match", "links", "golive", "sync", "m5", "report", "workbench", "demo", "m5sim"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own exit code 2 is what we want
        self.print_usage(sys.stderr)
        self.exit(2, f"passerlink: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="passerlink", description="Link municipal registers to RCard M5 and keep them in sync.")
    parser.add_argument("--version", action="version", version=f"passerlink {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:  # a command module that is missing is a broken install: the import error says so
        mod = importlib.import_module(f"passerlink.commands.{name}")
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.__doc__)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    mask_logs()  # no command logs a personnummer unmasked
    try:
        return int(args._run(args) or 0)
    except PasserlinkError as exc:
        print(f"passerlink: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("passerlink: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `passerlink report --last | head`: the reader left, nothing is wrong
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
