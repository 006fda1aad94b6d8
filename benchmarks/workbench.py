"""Workbench benchmark: server time of one answer at 5,000 x 5,000, and answers to a go-live.

1. Answer latency. A register of about 5,000 people against about 5,000 M5 users (a generated
   world served by the real simulator, read through the real readers and client). Each answer is
   timed over exactly what the Review page's handler and the next render do: link-store INSERT,
   label to the session (``mark_pairs``), next uncertain pair, and the render data (both records,
   differing fields, the model's explanation). A background retrain runs every few answers and
   must not show up in these times. Target: <= 300 ms.
2. Go-live. The sample world (data/samples, about 3,600 M5 users) with a simulated operator who
   answers every question truthfully, through the same engine calls as the page. Printed: the
   number of answers after which the link table first reaches the matching targets (precision
   >= 0.998, recall >= 0.97), and where it ends. Target: <= 200 answers.

    python benchmarks/workbench.py [--size 5000] [--timed 60] [--max-answers 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PRECISION_TARGET = 0.998
RECALL_TARGET = 0.97
ANSWER_BUDGET_MS = 300.0
ANSWERS_TARGET = 200


def _load(world_dir: Path, seed_json: Path, tmp: Path, sources: dict[str, str]):
    """Registers through the readers, M5 through the simulator and the client."""
    from passerlink.config import M5Config
    from passerlink.m5 import M5Client
    from passerlink.processes import free_port, start_simulator, stop_process
    from passerlink.sources import read_file, read_m5

    registers = {
        name: read_file(world_dir / file, source=name, id_column=idc).people
        for name, (file, idc) in sources.items()
    }
    for var in ("PASSERLINK_M5_USER", "PASSERLINK_M5_PASSWORD", "PASSERLINK_M5_APIKEY"):
        os.environ.setdefault(var, "demo")
    proc, url = start_simulator(tmp / "m5sim.sqlite", free_port(), seed=seed_json, log=tmp / "m5sim.log")
    try:
        m5cfg = M5Config(url=url)
        with M5Client.from_config(m5cfg) as client:
            m5 = read_m5(client, m5cfg.columns).people
    finally:
        stop_process(proc)
    return registers, m5


def _truth_labels(truth) -> set[tuple[str, str, str]]:
    return {(str(r.source), str(r.source_id), str(r.m5_id)) for r in truth.itertuples(index=False)}


def _quality(engine, truth: set) -> tuple[float, float]:
    from passerlink.workbench.linktable import TABLE_LINKS

    table = engine.link_table()  # the links a sign-off would store now: answers and the model's proposals
    links = {(r.register, r.source_id, r.m5_id) for r in table.itertuples(index=False) if r.decision in TABLE_LINKS}
    hit = len(links & truth)
    precision = hit / len(links) if links else 1.0
    recall = hit / len(truth) if truth else 1.0
    return precision, recall


def _answer_truthfully(engine, q, truth: set, who: str = "bench") -> None:
    engine.answer(q, q.key in truth, who)


def latency(size: int, timed: int, seed: int) -> None:
    from passerlink.matching import LinkStore
    from passerlink.sampleworld import generate_world
    from passerlink.workbench.engine import ReviewEngine

    print(f"== 1. answer latency, {size} x {size} ==", flush=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t0 = time.perf_counter()
        world = generate_world(seed=seed, staff=size, pupils=0, former_staff=size // 50)
        world.write(tmp / "world")
        registers, m5 = _load(tmp / "world", tmp / "world" / "m5_seed.json", tmp,
                              {"hr": ("hr_export.csv", "Anställningsnummer")})
        print(f"world: {len(registers['hr'])} register people x {len(m5)} M5 users "
              f"(generated and read in {time.perf_counter() - t0:.1f} s)", flush=True)
        truth = _truth_labels(world.truth)
        store = LinkStore(tmp / "links.sqlite")
        t0 = time.perf_counter()
        engine = ReviewEngine(registers, m5, store, seed=seed, retrain_every=5).prepare()
        print(f"prepare (candidates, features, first model): {time.perf_counter() - t0:.1f} s; "
              f"candidates: {engine.session.n_candidates:,}", flush=True)
        times, during_training, unexplained, retrain_s = [], 0, 0, []
        q = engine.current()
        engine.view(q)
        for _ in range(timed):
            if q is None:
                break
            training = engine.training
            t = time.perf_counter()
            _answer_truthfully(engine, q, truth)
            q = engine.current()
            if q is not None:
                unexplained += engine.view(q).explanation is None
            times.append((time.perf_counter() - t) * 1000)
            during_training += training
            if engine.last_retrain_seconds and (not retrain_s or retrain_s[-1] != engine.last_retrain_seconds):
                retrain_s.append(engine.last_retrain_seconds)
            time.sleep(0.05)  # an operator is not a loop: let the worker run as it would
        engine.wait_idle(120)
        t = time.perf_counter()
        engine.link_table()
        table_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        engine.link_table()
        cached = (time.perf_counter() - t) * 1000
        engine.close()
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    print(f"answers timed: {len(times)} ({during_training} while the model was retraining in the background; "
          f"retrains: {engine.counters.retrains}, each {statistics.median(retrain_s) if retrain_s else 0:.2f} s "
          f"in the background; {unexplained} next questions shown before their reasons were ready)")
    print(f"answer -> next question ready (store write + mark_pairs + next pair + render data): "
          f"median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms "
          f"[target <= {ANSWER_BUDGET_MS:.0f} ms: {'OK' if p95 <= ANSWER_BUDGET_MS else 'MISSED'}]")
    print(f"link table for a rerun: first {table_ms:.1f} ms, then cached {cached:.2f} ms (no features, no training)")


def golive(max_answers: int, seed: int) -> None:
    import pandas as pd

    from passerlink.matching import LinkStore
    from passerlink.sampleworld import generate_world
    from passerlink.workbench.engine import ReviewEngine

    print("\n== 2. go-live on the sample world, simulated operator ==", flush=True)
    samples = REPO / "data" / "samples"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if (samples / "truth_links.csv").exists() and (samples / "m5_seed.json").exists():
            world_dir = samples
            truth_frame = pd.read_csv(samples / "truth_links.csv", dtype=str, keep_default_na=False)
        else:
            world = generate_world(seed=0)
            world.write(tmp / "world")
            world_dir, truth_frame = tmp / "world", world.truth
        registers, m5 = _load(world_dir, world_dir / "m5_seed.json", tmp,
                              {"hr": ("hr_export.csv", "Anställningsnummer"), "students": ("students.csv", "Elev-ID")})
        print("world: " + ", ".join(f"{n} {len(p)}" for n, p in registers.items()) + f", M5 {len(m5)} users")
        truth = _truth_labels(truth_frame)
        store = LinkStore(tmp / "links.sqlite")
        t0 = time.perf_counter()
        engine = ReviewEngine(registers, m5, store, seed=seed, retrain_every=5).prepare()
        print(f"prepare: {time.perf_counter() - t0:.1f} s")
        p, r = _quality(engine, truth)
        print(f"before any answer: precision {p:.4f}, recall {r:.4f}")
        reached, answers = None, 0
        while answers < max_answers:
            q = engine.current()
            if q is None:
                engine.wait_idle(120)
                q = engine.current()
                if q is None:
                    break
            _answer_truthfully(engine, q, truth)
            answers += 1
            if answers % 10 == 0:
                engine.request_retrain()
                engine.wait_idle(120)
                p, r = _quality(engine, truth)
                print(f"  after {answers:3d} answers: precision {p:.4f}, recall {r:.4f}", flush=True)
                if reached is None and p >= PRECISION_TARGET and r >= RECALL_TARGET:
                    reached = answers
        engine.request_retrain()
        engine.wait_idle(120)
        p, r = _quality(engine, truth)
        if reached is None and p >= PRECISION_TARGET and r >= RECALL_TARGET:
            reached = answers
        data = None
        t0 = time.perf_counter()
        from passerlink.workbench.excel import export_workbook
        from passerlink.workbench.linktable import unlinked_people, with_people

        table = engine.link_table()
        full = pd.concat([table, unlinked_people(table, registers)], ignore_index=True)
        data = export_workbook(with_people(full, registers, m5), registers=list(registers), exported_by="bench",
                               model_version=engine.model_version)
        export_s = time.perf_counter() - t0
        engine.close()
    print(f"questions asked: {answers} (the model stopped asking: {answers < max_answers})")
    print(f"final: precision {p:.4f}, recall {r:.4f} (targets {PRECISION_TARGET} / {RECALL_TARGET})")
    verdict = "OK" if reached is not None and reached <= ANSWERS_TARGET else "MISSED"
    print(f"answers needed to reach the targets: {reached if reached is not None else 'not reached'} "
          f"[target <= {ANSWERS_TARGET}: {verdict}]")
    print(f"Excel export of the whole link table: {export_s:.1f} s, {len(data) / 1024:.0f} KiB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--timed", type=int, default=60, help="answers to time in part 1")
    ap.add_argument("--max-answers", type=int, default=300, help="stop the simulated operator here")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=["latency", "golive"], default=None)
    args = ap.parse_args()
    if args.only in (None, "latency"):
        latency(args.size, args.timed, args.seed)
    if args.only in (None, "golive"):
        golive(args.max_answers, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
