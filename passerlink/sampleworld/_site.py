"""The demo's configuration as a site of its own, for benchmarks and tests of the go-live day.

They must run the same configuration the demo runs (``data/samples/demo.toml``) against their
own simulator, and must not touch the demo's ``var/demo``: so the registers are copied next to
the configuration and every state file (link store, sync state, stored plans, reports) moves
into the site's folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from passerlink.sampleworld._world import FILE_NAMES

__all__ = ["demo_site", "truth_triples", "site_config", "WORLD_SOURCES"]

_DEMO_STATE = '"../../var/demo/'


def demo_site(samples: Path, folder: Path, m5_url: str) -> Path:
    """``samples/demo.toml`` over a copy of the sample registers in ``folder``, pointed at the M5
    at ``m5_url``, with every state file under ``folder/state``; returns the configuration's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for register in ("hr", "students"):
        (folder / FILE_NAMES[register]).write_bytes((samples / FILE_NAMES[register]).read_bytes())
    text = (samples / "demo.toml").read_text(encoding="utf-8")
    if _DEMO_STATE not in text:
        raise ValueError(f"{samples / 'demo.toml'} keeps no state under var/demo: demo_site must follow it")
    text = re.sub(r'(?m)^url = ".*"$', f'url = "{m5_url}"', text).replace(_DEMO_STATE, '"state/')
    config = folder / "demo.toml"
    config.write_text(text, encoding="utf-8")
    return config


def truth_triples(samples: Path) -> set[tuple[str, str, str]]:
    """The committed truth as ``(source, source_id, m5_id)``: the simulated operator's answers."""
    t = pd.read_csv(samples / FILE_NAMES["truth"], dtype=str, keep_default_na=False)
    return set(zip(t["source"], t["source_id"], t["m5_id"], strict=True))


#: Each generated register as a configured source: (id column, M5 user group); its file is
#: ``FILE_NAMES[name]``.
WORLD_SOURCES: dict[str, tuple[str, str]] = {"hr": ("Anställningsnummer", "Personal"),
                                             "students": ("Elev-ID", "Elev")}


def site_config(m5_url: str, *, registers: tuple[str, ...] = ("hr", "students"), m5: str = "",
                sync: str = "") -> str:
    """A site configuration (TOML text) over a generated world's register files written beside it
    (``World.write``/``World.files``), every state file in the same folder: what tests and
    benchmarks of the sync run against their own simulator. ``m5`` and ``sync`` are extra lines
    for those sections (a timeout, a threshold table)."""
    sources = "".join(
        f'[[sources]]\nname = "{name}"\nkind = "csv"\npath = "{FILE_NAMES[name]}"\n'
        f'id_column = "{WORLD_SOURCES[name][0]}"\nuser_group = "{WORLD_SOURCES[name][1]}"\n\n'
        for name in registers)
    return (f'{sources}[m5]\nurl = "{m5_url}"\n{m5}\n\n[link_store]\npath = "links.sqlite"\n\n'
            f'[sync]\nreport_dir = "reports"\nstate_db = "state.sqlite"\n{sync}\n')
