"""Rewrite the committed sample files: ``python data/samples/generate.py``.

The files are ``passerlink.sampleworld.generate_world(seed=0)`` for a Hultsfred-sized municipality;
running this again gives byte-identical files (a test checks that they are up to date).
"""

from __future__ import annotations

import sys
from pathlib import Path

from passerlink.sampleworld import SS12000_FILE, generate_world, render_ss12000, ss12000_bytes

#: the arguments the committed sample was generated with
SAMPLE_ARGS = {"seed": 0, "staff": 1500, "pupils": 2000, "manual_share": 0.10, "former_staff": 60}


def main() -> int:
    folder = Path(__file__).resolve().parent
    world = generate_world(**SAMPLE_ARGS)
    for path in world.write(folder):
        print(f"wrote {path.name} ({path.stat().st_size:,} bytes)")
    # the pupil register as an SS 12000 school platform serves it (demo-ss12000.toml)
    ss12000 = folder / SS12000_FILE
    ss12000.write_bytes(ss12000_bytes(render_ss12000(world.students, world.today, seed=world.seed)))
    print(f"wrote {ss12000.name} ({ss12000.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
