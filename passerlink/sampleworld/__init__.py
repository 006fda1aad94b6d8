"""A deterministic Swedish municipality for demos, tests and benchmarks.

``generate_world(seed=...)`` draws the administrative staff of an HR register, the pupils of a
school register and the person database of RCard M5 as years of hand entry left it, with every
divergence of DESIGN.md's "Swedish reality" list planted at a known share and recorded, plus the
truth of which M5 user is which register person. The committed sample in ``data/samples/`` is
``generate_world(seed=0)`` written by ``data/samples/generate.py``. ``generate_pupil_world(seed)``
is a school register against the pupil part of M5 with the school office's reality (siblings,
twins in one class, graduates still in M5, names and a school only): the pupil benchmark's world.

The matcher must never import this package's name tables: evaluating on this data would then
grade the generator against itself.
"""

from passerlink.sampleworld._m5 import DIVERGENCE_COLUMNS, SHARES, TRUTH_COLUMNS
from passerlink.sampleworld._pupils import PUPIL_SHARES
from passerlink.sampleworld._registers import HR_COLUMNS, STUDENT_COLUMNS
from passerlink.sampleworld._site import WORLD_SOURCES, demo_site, site_config, truth_triples
from passerlink.sampleworld._ss12000 import SS12000_FILE, render_ss12000, ss12000_bytes
from passerlink.sampleworld._world import (
    DEFAULT_TODAY,
    FILE_NAMES,
    PUPIL_WORLD_ARGS,
    World,
    generate_pupil_world,
    generate_world,
)

__all__ = [
    "World",
    "demo_site",
    "site_config",
    "WORLD_SOURCES",
    "truth_triples",
    "generate_world",
    "generate_pupil_world",
    "PUPIL_WORLD_ARGS",
    "PUPIL_SHARES",
    "DEFAULT_TODAY",
    "FILE_NAMES",
    "HR_COLUMNS",
    "STUDENT_COLUMNS",
    "TRUTH_COLUMNS",
    "DIVERGENCE_COLUMNS",
    "SHARES",
    "SS12000_FILE",
    "render_ss12000",
    "ss12000_bytes",
]
