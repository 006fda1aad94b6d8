"""``passerlink --help`` and argument parsing import none of the heavy libraries: a command pays
for pandas, scikit-learn or Streamlit only when it runs. (How fast that is is measured, not
asserted: ``time passerlink --help``.)
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "numpy", "sklearn", "scipy", "streamlit", "httpx", "openpyxl", "fastapi", "pydantic")


def test_building_the_command_line_imports_no_heavy_library() -> None:
    code = (
        "import sys; from passerlink.cli import build_parser; build_parser();"
        f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_help_lists_every_command() -> None:
    done = subprocess.run([sys.executable, "-m", "passerlink", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for name in ("extract", "match", "links", "sync", "report", "workbench", "demo", "m5sim"):
        assert name in done.stdout
