"""Go-live day on the sample world, with a simulated operator: the figures of the go-live issue.

    python benchmarks/golive.py [--budget 600] [--batch 10] [--browser]

The sample municipality (``data/samples``) against the M5 simulator seeded with its M5 users; the
operator is ``truth_links.csv`` answering through ``matching.ask_operator`` (answers take 0 s,
every answer is stored in the link store as the workbench would). Printed:

1. answers needed to reach link precision >= 0.999 and recall >= 0.98 (target <= 200);
2. the estimate's error: questions left as predicted after 20 answers vs actually asked after them
   (until the session says asking stops paying off);
3. machine time from demo start (simulator start) to an approved, converged first sync: propose,
   answers, sign-off, dry run, approved run, a second dry run with nothing to write;
4. duplicates created (register people whose true M5 user exists, created anyway; target 0), and
   the people the first night sent to the review queue instead;
5. manual M5 records written by the sync (target 0).

The browser's answer -> next question latency (median and p95 over 50 answers in Chromium) is
the workbench's part: ``--browser`` runs ``benchmarks/golive_browser.py``'s ``measure(args)``,
which returns its lines (the module must exist; the flag fails clearly when it does not).

Figures are printed, never asserted. The machine may be shared: say so with the figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from passerlink.config import load_config
from passerlink.m5 import M5Client
from passerlink.matching import Decision, LinkDecision, LinkStore, ask_operator, oracle_from_pairs
from passerlink.matching.proposals import model_version_of, proposals_of, propose
from passerlink.processes import free_port, start_simulator, stop_process
from passerlink.sampleworld import demo_site
from passerlink.sources import read_m5, read_source
from passerlink.sync import run_sync

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
PRECISION, RECALL = 0.999, 0.98


def quality(links: pd.DataFrame, truth: set[tuple[str, str]]) -> tuple[float, float]:
    """Precision and recall of ``left_id, right_id`` links against the true pairs."""
    found = set(zip(links["left_id"].astype(str), links["right_id"].astype(str), strict=True))
    hit = len(found & truth)
    return (hit / len(found) if found else 1.0), hit / len(truth)


def recording(operator: Callable[[Sequence[tuple[str, str]]], list[bool]], store: LinkStore,
              version: Callable[[], str]) -> Callable[[Sequence[tuple[str, str]]], list[bool]]:
    """The operator, with every answer stored in the link store the moment it is given."""
    def answer(pairs: Sequence[tuple[str, str]]) -> list[bool]:
        labels = operator(pairs)
        store.record([LinkDecision(*left.split(":", 1), right, Decision.CONFIRMED if yes else Decision.REJECTED,
                                   None, "operator", model_version=version())
                      for (left, right), yes in zip(pairs, labels, strict=True)])
        return labels
    return answer


def _users(url: str) -> dict[str, dict]:
    with M5Client(url, user="demo", password="demo", apikey="demo") as c:
        return {str(u["id"]): u for u in c.list_users()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=600, help="most questions the operator answers (default 600)")
    ap.add_argument("--batch", type=int, default=10, help="questions per batch between retrains (default 10)")
    ap.add_argument("--browser", action="store_true", help="also run benchmarks/golive_browser.py (Chromium)")
    args = ap.parse_args(argv)
    for var in ("PASSERLINK_M5_USER", "PASSERLINK_M5_PASSWORD", "PASSERLINK_M5_APIKEY"):
        os.environ.setdefault(var, "demo")
    truth_df = pd.read_csv(SAMPLES / "truth_links.csv", dtype=str)
    truth = set(zip(truth_df["source"] + ":" + truth_df["source_id"], truth_df["m5_id"], strict=True))
    has_user = set(zip(truth_df["source"], truth_df["source_id"], strict=True))
    lines: list[str] = []

    with tempfile.TemporaryDirectory(prefix="golive-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()  # demo start
        port = free_port()
        sim, url = start_simulator(folder / "m5sim.sqlite", port, seed=SAMPLES / "m5_seed.json",
                                   log=folder / "m5sim.log")
        try:
            config = demo_site(SAMPLES, folder / "site", url)
            cfg = load_config(config)
            store = LinkStore(cfg.link_store.path)
            seed_users = _users(url)
            manual_before = {i: u for i, u in seed_users.items() if i not in {m for _, m in truth}}

            # proposals stored, then the operator answers until asking stops paying off
            registers = {s.name: read_source(s, config_path=cfg.config_path).people for s in cfg.sources}
            with M5Client.from_config(cfg.m5, config_path=cfg.config_path) as client:
                m5 = read_m5(client, cfg.m5.columns).people
            proposed = propose(registers, m5, store, who="model")
            match, session = proposed.match, proposed.match.session
            reached: list[int] = []
            estimate: dict[str, int] = {}

            def after_batch(asked: int) -> None:
                links = session.links()
                p, r = quality(links, truth)
                if not reached and p >= PRECISION and r >= RECALL:
                    reached.append(asked)
                if asked >= 20 and "at20" not in estimate:
                    estimate["at20"] = asked
                    estimate["predicted"] = session.estimated_questions_left()

            operator = recording(oracle_from_pairs(truth), store, lambda: model_version_of(match))
            p0, r0 = quality(session.links(), truth)
            asked, stopped = ask_operator(session, operator, args.budget, batch=args.batch, after_batch=after_batch)
            p1, r1 = quality(session.links(), truth)
            t_answers = time.perf_counter()
            stored = store.propose(proposals_of(match), model_version=model_version_of(match), who="model")
            signed = store.signoff("operator", model_version=model_version_of(match))

            # the first night: dry run, approve exactly that plan, run, and a second run has nothing to do
            dry = run_sync(cfg, dry_run=True)
            plan_id = dry.report["plan_id"]
            done = run_sync(cfg, approve=plan_id)
            again = run_sync(cfg, dry_run=True)
            t_end = time.perf_counter()
            leftover = [c for c in again.report["changes"] if c["kind"] not in ("queue", "report")]
            creates = [c for c in done.report["changes"] if c["kind"] == "create" and c.get("status") == "done"]
            duplicates = [c for c in creates if tuple(c["key"]) in has_user]
            after = _users(url)
            manual_written = [i for i, u in manual_before.items() if after.get(i) != u]
            links_now = store.links().set_index("m5_id")
            why_written = [f"M5 {i} ({manual_before[i].get('firstname')} {manual_before[i].get('lastname')}): "
                           + (f"linked to {links_now.loc[i, 'source']}:{links_now.loc[i, 'source_id']} "
                              f"({links_now.loc[i, 'decision']}, a link the truth does not have)"
                              if i in links_now.index else "not linked")
                           for i in manual_written]
        finally:
            stop_process(sim)

    lines.append(f"sample world: {sum(len(r) for r in registers.values())} register people, {len(m5)} M5 users, "
                 f"{len(truth)} true links")
    lines.append(f"proposals: {proposed.stored['proposed']} auto-links, {proposed.stored['question']} open questions; "
                 f"before answers precision {p0:.4f} recall {r0:.4f}")
    need = f"{reached[0]}" if reached else f"not reached within {asked}"
    lines.append(f"1. answers to precision >= {PRECISION} and recall >= {RECALL}: {need} (target <= 200); "
                 f"after {asked} answers{' (model stopped asking)' if stopped else ''}: precision {p1:.4f} "
                 f"recall {r1:.4f}")
    if estimate:
        actual_after = asked - estimate["at20"]
        err = estimate["predicted"] - actual_after
        lines.append(f"2. estimate after {estimate['at20']} answers: {estimate['predicted']} questions left; actually "
                     f"asked after them: {actual_after} (error {err:+d}, "
                     f"{abs(err) / max(actual_after, 1):.0%})")
    lines.append(f"3. demo start -> approved, converged first sync: {t_end - t0:.1f} s machine time "
                 f"(answers {t_answers - t0:.1f} s incl. simulator start and proposals; sign-off, dry run, approved "
                 f"run and second dry run {t_end - t_answers:.1f} s); plan {plan_id}, run {done.status}, "
                 f"second run plans {len(leftover)} writes")
    queued = sum(1 for c in done.report["changes"] if c["kind"] == "queue")
    lines.append(f"4. duplicates created: {len(duplicates)} (target 0); created {len(creates)}, sent to the review "
                 f"queue {queued}; sign-off: {signed.counts}; re-proposal after answers: {stored}")
    lines.append(f"5. manual M5 records written: {len(manual_written)} of {len(manual_before)} (target 0)"
                 + "".join(f"\n   {w}" for w in why_written))
    if args.browser:
        lines += _browser(args)
    else:
        lines.append("browser latency (answer -> next question in Chromium): run with --browser "
                     "(benchmarks/golive_browser.py)")
    print("\n".join(lines))
    return 0


def _browser(args: argparse.Namespace) -> list[str]:
    """The workbench's part: ``benchmarks/golive_browser.py`` ``measure(args) -> list[str]``."""
    path = Path(__file__).with_name("golive_browser.py")
    if not path.exists():
        raise SystemExit(f"--browser: {path} is not there (the workbench's latency benchmark)")
    spec = importlib.util.spec_from_file_location("golive_browser", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.measure(args))


if __name__ == "__main__":
    sys.exit(main())
