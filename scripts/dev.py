#!/usr/bin/env python3
"""The two set-up commands, portable to Windows: create the virtual environment if it is
missing (or if pyproject.toml changed since it was made), then run the demo or the tests.

    python3 scripts/dev.py demo  [passerlink demo options]
    python3 scripts/dev.py test  [pytest options]

On Windows use ``py scripts\\dev.py demo`` / ``py scripts\\dev.py test``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
EXTRAS = "dev"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    """Create .venv and install passerlink (editable) with its extras when needed."""
    py = venv_python()
    if not py.exists():
        print(f"[dev] creating virtual environment in {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + EXTRAS.encode()).hexdigest()
    stamp = VENV / ".passerlink-installed"
    if not stamp.exists() or stamp.read_text(encoding="ascii").strip() != want:
        print("[dev] installing passerlink and its dependencies (first run takes a few minutes)", flush=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[{EXTRAS}]"], check=True
        )
        stamp.write_text(want, encoding="ascii")
    return py


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    py = ensure_venv()
    if argv[0] == "demo":
        cmd = [str(py), "-m", "passerlink", "demo", *argv[1:]]
    else:
        cmd = [str(py), "-m", "pytest", *argv[1:]]
    try:
        return subprocess.call(cmd, cwd=ROOT)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
