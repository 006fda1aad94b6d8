"""The Swedish target: HR + pupils against M5 on generated municipalities, 150 questions at most.

For each seed, ``generate_world(seed)`` (1,500 staff, 2,000 pupils, ~3,600 M5 users with manual
records, namesakes, twins, stale departments, nicknames ...) is read through the readers'
canonicalisation, matched jointly with ``match_registers`` and a simulated operator answers the
questions the session picks (batches of 10, retrain after each) from the world's true links.

    .venv/bin/python benchmarks/swedish_registers.py [--seeds 0,1,2] [--budgets 0,150]

Prints precision, recall, F1, questions and seconds per seed and budget. Target: precision >= 0.998
and recall >= 0.97 with at most 150 questions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9,10,11")
    parser.add_argument("--budgets", default="0,150")
    args = parser.parse_args(argv)

    import pandas as pd

    from passerlink.matching import evaluate, match_registers
    from passerlink.matching.driver import ask_operator, oracle_from_pairs
    from passerlink.sampleworld import generate_world
    from passerlink.sources import canonicalize

    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        world = generate_world(seed=seed)
        hr = canonicalize(world.hr, source="hr", id_column="Anställningsnummer").people
        pupils = canonicalize(world.students, source="students", id_column="Elev-ID").people
        m5 = world.m5_people()
        truth = world.truth.astype(str)
        operator = oracle_from_pairs(zip(truth["source"] + ":" + truth["source_id"], truth["m5_id"], strict=True))
        for budget in (int(b) for b in args.budgets.split(",")):
            t0 = time.perf_counter()
            joint = match_registers({"hr": hr, "students": pupils}, m5, seed=seed)
            asked, _stopped = ask_operator(joint.session, operator, budget, batch=10)
            links = joint.links()
            seconds = time.perf_counter() - t0
            result = evaluate(links, truth)
            rows.append({"seed": seed, "people": len(hr) + len(pupils), "m5_users": len(m5), "budget": budget,
                         "questions": asked, **result, "conflicts": len(joint.conflicts()), "seconds": seconds})
            r = rows[-1]
            print(f"seed {seed:>3}  {r['people']} people x {r['m5_users']} M5 users  budget {budget:>3}  "
                  f"questions {asked:>3}  precision {r['precision']:.4f}  recall {r['recall']:.4f}  "
                  f"f1 {r['f1']:.4f}  fp {r['fp']:>2}  fn {r['fn']:>3}  conflicts {r['conflicts']:>2}  "
                  f"{seconds:.1f} s", flush=True)
    table = pd.DataFrame(rows)
    print()
    for budget, group in table.groupby("budget"):
        ok = ((group["precision"] >= 0.998) & (group["recall"] >= 0.97)).sum()
        print(f"budget {budget}: precision {group['precision'].min():.4f}-{group['precision'].max():.4f}, "
              f"recall {group['recall'].min():.4f}-{group['recall'].max():.4f}, "
              f"target met on {ok} of {len(group)} seeds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
