"""The test command also runs the linters a reviewer would: ruff (incl. the complexity rules
C901, PLR0912, PLR0915 of pyproject.toml) and mypy over ``passerlink/``. A long function or an
untyped joint fails the suite like a broken test, so it is mended when it is written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_including_complexity_rules() -> None:
    done = _run("ruff", "check", "--output-format", "concise", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_over_the_package() -> None:
    done = _run("mypy")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr
