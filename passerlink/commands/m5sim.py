"""Run the RCard M5 Admin API simulator: a real HTTP(S) server on its own SQLite file.

The API is served under /m5adminapi/api (OpenAPI document at /m5adminapi/api/openapi.json);
the test control path /_sim (faults, call log, reset) is not part of M5. Credentials default to
demo/demo/demo and come from M5SIM_USER, M5SIM_PASSWORD and M5SIM_APIKEY when set.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "m5sim"
HELP = "run the M5 Admin API simulator (tests and demo)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, required=True, help="SQLite file of the simulated M5 (created if missing)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--seed", type=Path, help="JSON world loaded when the database is empty")
    p.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", type=Path, help="private key of --tls-cert (PEM)")
    p.add_argument("--faults", default="",
                   help="fault settings, e.g. latency=0.05,error500=0.1,timeout=0.05,429=0.05,"
                        "retry_after=1,lost_reply=0.02,timeout_sleep=5,token_ttl=5,seed=7")
    p.add_argument("--profile", default="strict",
                   help="which variant of the real API to play: strict (default), page-cap-100, "
                        "ignores-unknown-params, include-required, no-count")
    p.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn log level (default warning)")


def run(args: argparse.Namespace) -> int:
    from passerlink.errors import InputError

    try:
        import uvicorn

        from passerlink.m5sim import create_app, parse_faults, profile_named
    except ModuleNotFoundError as exc:  # the simulator's packages are the extra "sim"
        raise InputError(
            f"the M5 simulator needs the package {exc.name!r}: install passerlink with its extra "
            "'sim' (pip install -e \".[sim]\"; scripts/dev.py does this)"
        ) from exc

    if (args.tls_cert is None) != (args.tls_key is None):
        raise InputError("--tls-cert and --tls-key go together: give both or neither")
    for opt, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key), ("--seed", args.seed)):
        if path is not None and not path.is_file():
            raise InputError(f"{opt} {path}: file not found")
    if args.db.parent and not args.db.parent.exists():
        raise InputError(f"--db {args.db}: folder {args.db.parent} does not exist")
    try:
        faults = parse_faults(args.faults)
    except ValueError as exc:
        raise InputError(f"--faults {args.faults!r}: {exc}") from None
    try:
        profile = profile_named(args.profile)
    except ValueError as exc:
        raise InputError(f"--profile: {exc}") from None
    try:
        app = create_app(args.db, seed=args.seed, faults=faults, profile=profile)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    scheme = "https" if args.tls_cert else "http"
    print(f"M5 simulator on {scheme}://{args.host}:{args.port}/m5adminapi/api (db {args.db}, profile {profile.name})",
          flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=str(args.tls_cert) if args.tls_cert else None,
        ssl_keyfile=str(args.tls_key) if args.tls_key else None,
        log_level=args.log_level,
        access_log=args.log_level in ("info", "debug"),
        timeout_graceful_shutdown=2,
    )
    return 0
