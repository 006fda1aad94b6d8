"""Open the operator workbench: a Streamlit server bound to 127.0.0.1 unless told otherwise.

The workbench shows personal data and writes link decisions, so it listens on loopback only by
default. To listen wider, put it behind a login (Streamlit's ``st.login`` with an OIDC provider
configured in ``.streamlit/secrets.toml``) or a reverse proxy with authentication.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import subprocess
import sys
from pathlib import Path

NAME = "workbench"
HELP = "open the operator workbench (Streamlit) in the browser"

#: The Streamlit entry script.
APP = Path(__file__).resolve().parents[1] / "app.py"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the passerlink TOML configuration file")
    parser.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--m5-url", default=None, help="use this M5 Admin API base URL instead of the config's [m5] url")


def streamlit_command(config: Path, *, host: str = "127.0.0.1", port: int = 8501) -> list[str]:
    """The ``streamlit run`` command line: headless, no usage statistics, no tracebacks in the browser."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--browser.serverAddress", host,
        "--client.showErrorDetails", "type",  # exception messages may hold personal data
        "--client.toolbarMode", "minimal",
        "--global.developmentMode", "false",
        "--", "--config", str(config),
    ]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    from passerlink.config import load_config
    from passerlink.errors import InputError
    from passerlink.workbench.state import CONFIG_ENV
    from passerlink.workbench.workspace import M5_URL_ENV

    cfg = load_config(args.config)  # a bad config is one sentence here, not a red page later
    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port} is not a TCP port")
    if not is_loopback(args.host):
        print(
            f"passerlink: warning: the workbench listens on {args.host}, not only on this machine; "
            "it shows personal data, so put it behind a login (st.login / OIDC) or an authenticating proxy",
            file=sys.stderr,
        )
    config_path = cfg.config_path or Path(args.config).resolve()  # load_config always sets it
    env = dict(os.environ, **{CONFIG_ENV: str(config_path)})
    if args.m5_url:
        if not args.m5_url.startswith(("http://", "https://")):
            raise InputError(f"--m5-url {args.m5_url!r} is not an http(s) URL")
        env[M5_URL_ENV] = args.m5_url
    print(f"passerlink workbench: http://{args.host}:{args.port}  (Ctrl+C stops it)", file=sys.stderr)
    return _serve(streamlit_command(config_path, host=args.host, port=args.port), env)


def _serve(cmd: list[str], env: dict[str, str]) -> int:
    """Run streamlit until it ends, or until this command is stopped: then it is stopped too.

    Whoever started ``passerlink workbench`` (the demo, a service manager) only knows this
    process; a SIGTERM here must not leave streamlit serving personal data on its own.
    """
    import signal

    from passerlink.processes import stop_process

    def stopped(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    proc = subprocess.Popen(cmd, env=env)
    previous = signal.signal(signal.SIGTERM, stopped)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop_process(proc)
