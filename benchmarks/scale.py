"""Matching at scale: ~100,000 register people against ~100,000 M5 users, seconds and peak memory.

The people come from the sample-world generator (``generate_world`` with 50,000 staff and 50,000
pupils: HR and pupils stacked as one left table against M5, as ``match_registers`` does on
go-live day). Reading goes through the same canonicalisation as the readers. No questions are
asked: this measures candidates, features, the starting model, the classifier and the one-to-one
assignment.

    .venv/bin/python benchmarks/scale.py [--staff 50000] [--pupils 50000] [--seed 1]

Peak memory is the process's maximum resident set size (``resource``/``psutil`` when present).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    try:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss / 1024 if sys.platform != "darwin" else rss / 1024 / 1024
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 1024 / 1024



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--staff", type=int, default=50_000)
    parser.add_argument("--pupils", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from passerlink.matching import evaluate, match_registers
    from passerlink.sampleworld import generate_world
    from passerlink.sources import canonicalize

    t0 = time.perf_counter()
    world = generate_world(seed=args.seed, staff=args.staff, pupils=args.pupils)
    hr = canonicalize(world.hr, source="hr", id_column="Anställningsnummer").people
    pupils = canonicalize(world.students, source="students", id_column="Elev-ID").people
    m5 = world.m5_people()
    t1 = time.perf_counter()
    print(f"data: {len(hr) + len(pupils)} register people x {len(m5)} M5 users "
          f"(generated and canonicalised in {t1 - t0:.1f} s, not counted)")

    steps: list[tuple[float, str]] = []
    joint = match_registers({"hr": hr, "students": pupils}, m5,
                            progress=lambda f, msg: steps.append((time.perf_counter(), msg)))
    links = joint.links()
    t2 = time.perf_counter()
    s = joint.session
    result = evaluate(links, world.truth.astype(str))
    print(f"candidates: {s.n_candidates}  ({s.n_candidates / (len(hr) + len(pupils)):.1f} per register person)")
    print("phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in s.timings.items()))
    print(f"links: {len(links)}  precision {result['precision']:.4f}  recall {result['recall']:.4f}  "
          f"f1 {result['f1']:.4f} (no questions)")
    print(f"seconds: {t2 - t1:.1f}  (target: 180)")
    print(f"peak memory: {peak_rss_mb():.0f} MB  (target: 4096)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
