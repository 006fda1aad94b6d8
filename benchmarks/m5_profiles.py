"""Every simulator profile (a plausible variant of the real Admin API): the sync cycle's outcome
and ``passerlink m5 check``'s findings and wall time.

    python benchmarks/m5_profiles.py [--staff 150 --pupils 200] [--check-users 5000]

Part 1, per profile (and per site setting that does not fit it): the full cycle on the sample
world over HTTP — go-live links imported, the first night, a night without changes, a night
with two staff and a pupil gone. The outcome is "converged" (every run done, the quiet night
wrote nothing, M5 ends exactly as on the strict server) or "stopped" with the run's sentence.
Counted against the strict server's end state and the seed: cards blocked that do not belong
to a leaver, users created that the strict run did not create (or twice), users deactivated
that the strict run kept active, manual records written. Targets: all 0.

Part 2, per profile: ``m5 check`` on a world of ``--check-users`` users (target < 30 s).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from passerlink.cli import main as cli_main
from passerlink.config import load_config
from passerlink.m5 import M5Client
from passerlink.m5.checks import run_checks
from passerlink.m5sim import PROFILES
from passerlink.processes import free_port, start_process, stop_process, wait_http
from passerlink.sampleworld import World, generate_world, site_config
from passerlink.sync import run_sync

#: site settings that do not fit a profile: the run must stop before writing, or still be right.
MISFITS = [("ignores-unknown-params", 'card_filter = "param"'), ("page-cap-100", 'paging = "none"'),
           ("include-required", "include = []"), ("no-count", "ask_count = false")]


@contextmanager
def simulator(folder: Path, profile: str, seed: dict[str, Any]) -> Iterator[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seed.json").write_text(json.dumps(seed, ensure_ascii=False), encoding="utf-8")
    port = free_port()
    proc = start_process(["m5sim", "--db", str(folder / "m5.sqlite"), "--port", str(port), "--seed",
                          str(folder / "seed.json"), "--profile", profile], log=folder / "m5sim.log")
    url = f"http://127.0.0.1:{port}/m5adminapi/api"
    try:
        wait_http(f"{url}/version", proc=proc, what="the M5 simulator")
        yield url
    finally:
        stop_process(proc)


def users_of(url: str) -> dict[int, dict[str, Any]]:
    with M5Client(url, user="demo", password="demo", apikey="demo") as c:
        return {int(u["id"]): u for u in c.list_users()}


def writes_of(url: str) -> list[dict[str, Any]]:
    root = url.split("/m5adminapi")[0]
    calls = httpx.get(f"{root}/_sim/calls", timeout=30).json()["calls"]
    return [c for c in calls if c["write"]]


def key(u: dict[str, Any]) -> str:
    ref = str(u.get("apireference") or "")
    return ref if ref.startswith("passerlink:") else f"id:{u['id']}"


def snapshot(users: dict[int, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """What the invariants compare, per user: status, end date, names, blocked cards."""
    return {key(u): (u["status"], u["enddate"], u["firstname"], u["lastname"],
                     tuple(sorted(c["id"] for c in u["cards"] if c["isblocked"]))) for u in users.values()}


@dataclass
class Outcome:
    label: str
    outcome: str
    wrongly_blocked: int = 0
    wrongly_created: int = 0
    wrongly_deactivated: int = 0
    manual_written: int = 0
    seconds: float = 0.0


def register_markers(world: World) -> set[str]:
    return ({f"passerlink:hr:{x}" for x in world.hr["Anställningsnummer"]}
            | {f"passerlink:students:{x}" for x in world.students["Elev-ID"]})


def write_site(folder: Path, url: str, world: World, m5: str) -> Path:
    config = folder / "site.toml"
    config.write_text(site_config(url, m5=m5), encoding="utf-8")
    files = world.files()
    for name in ("hr_export.csv", "students.csv", "truth_links.csv"):
        (folder / name).write_bytes(files[name])
    return config


def cycle(folder: Path, profile: str, world: World, leavers_world: World, m5: str = ""
          ) -> tuple[str, dict[int, dict[str, Any]], dict[int, dict[str, Any]], list[dict[str, Any]]]:
    """The full cycle; (outcome, M5's users at the start and at the end, every write call)."""
    with simulator(folder, profile, world.m5_seed) as url:
        start = users_of(url)
        config = write_site(folder, url, world, m5)
        os.environ.update(PASSERLINK_M5_USER="demo", PASSERLINK_M5_PASSWORD="demo", PASSERLINK_M5_APIKEY="demo")
        outcome = "converged"
        said = io.StringIO()
        with contextlib.redirect_stderr(said), contextlib.redirect_stdout(io.StringIO()):  # the import's preview
            code = cli_main(["links", "import", str(folder / "truth_links.csv"), "--config", str(config),
                             "--adopt-manual"])
        if code != 0:
            outcome = f"stopped at the links import (exit {code}): {said.getvalue().strip().splitlines()[-1]}"
        runs = [(world, {"allow_mass_changes": True}), (world, {}), (leavers_world, {})]
        for n, (registers, kw) in enumerate(runs):
            if outcome != "converged":
                break
            write_site(folder, url, registers, m5)
            before = len(writes_of(url))
            result = run_sync(load_config(config), **kw)
            if result.exit_code != 0:
                outcome = f"stopped (exit {result.exit_code}): {result.report.get('stop_reason')}"
            elif n == 1 and len(writes_of(url)) != before:
                outcome = "the quiet night wrote to M5"
        return outcome, start, users_of(url), writes_of(url)


def measure(label: str, outcome: str, start: dict[int, dict[str, Any]], end: dict[int, dict[str, Any]],
            writes: list[dict[str, Any]], ref: tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]],
            manual: set[int], markers: set[str], seconds: float) -> Outcome:
    """The invariants' counts for one cycle, against its own start and the strict cycle ``ref``."""
    ref_start, ref_end = ref
    blocked_before = {c["id"] for u in start.values() for c in u["cards"] if c["isblocked"]}
    ref_blocked = {c["id"] for u in ref_end.values() for c in u["cards"] if c["isblocked"]}
    wrong_blocks = sum(1 for u in end.values() for c in u["cards"] if c["isblocked"] and c["id"] not in blocked_before
                       and (c["id"] not in ref_blocked or u["status"] != 0 or u["apireference"] in markers))
    ref_created = {key(ref_end[i]) for i in set(ref_end) - set(ref_start)}
    counts = Counter(key(u) for u in end.values() if key(u).startswith("passerlink:"))
    created = sum(n - 1 for n in counts.values() if n > 1) + sum(
        1 for i in set(end) - set(start) if key(end[i]) not in ref_created)
    deactivated = sum(1 for i, u in start.items() if u["status"] == 1 and end.get(i, u)["status"] == 0
                      and ref_end.get(i, u)["status"] == 1)
    touched = {int(c["path"].split("/user/")[1].split("/")[0]) for c in writes if "/user/" in c["path"]}
    manual_written = len(touched & manual) + sum(1 for uid in manual if end.get(uid) != start.get(uid))
    if outcome == "converged" and snapshot(end) != snapshot(ref_end):
        outcome = "converged to a different state than strict"
    return Outcome(label, outcome, wrong_blocks, created, deactivated, manual_written, seconds)


def leavers(world: World) -> World:
    import dataclasses

    hr, st = world.hr.copy(), world.students.copy()
    return dataclasses.replace(world, hr=hr.iloc[2:].reset_index(drop=True), students=st.iloc[1:].reset_index(drop=True))


def part_one(tmp: Path, staff: int, pupils: int) -> list[Outcome]:
    world = generate_world(seed=7, staff=staff, pupils=pupils, former_staff=10)
    after = leavers(world)
    linked = {int(m) for m in world.truth["m5_id"]}
    manual = {int(u["id"]) for u in world.m5_seed["users"]} - linked
    markers = register_markers(after)
    t0 = time.perf_counter()
    outcome, ref_start, ref_end, ref_writes = cycle(tmp / "strict", "strict", world, after)
    reference = (ref_start, ref_end)
    results = [measure("strict", outcome, ref_start, ref_end, ref_writes, reference, manual, markers,
                       time.perf_counter() - t0)]
    for profile, m5 in [(p, "") for p in PROFILES if p != "strict"] + MISFITS:
        t0 = time.perf_counter()
        label = profile + (f" + {m5}" if m5 else "")
        outcome, start, end, writes = cycle(tmp / label.replace(" ", "_").replace('"', ""), profile, world, after, m5)
        results.append(measure(label, outcome, start, end, writes, reference, manual, markers,
                               time.perf_counter() - t0))
    return results


def big_seed(n: int) -> dict[str, Any]:
    return {
        "departments": [f"Enhet {i}" for i in range(20)], "usergroups": ["Personal", "Elev"],
        "accessgroups": [{"id": 1, "name": "Entré", "timeperiod": "Dygnet runt"}],
        "users": [{"id": i, "firstname": f"Förnamn{i}", "lastname": f"Efternamn{i % 997}", "department": f"Enhet {i % 20}",
                   "usergroup": "Personal" if i % 3 else "Elev", "accessgroups": [1],
                   "apireference": f"passerlink:hr:{i}" if i % 2 else ""} for i in range(1, n + 1)],
        "cards": [{"fkusernumber": i, "name": f"kort {i}", "cardidentity": str(10_000 + i)} for i in range(1, n + 1, 2)],
    }


def part_two(tmp: Path, n: int) -> list[tuple[str, str, float, bool]]:
    seed = big_seed(n)
    rows = []
    for profile in PROFILES:
        with simulator(tmp / f"check-{profile}", profile, seed) as url:
            with M5Client(url, user="demo", password="demo", apikey="demo") as client:
                report = run_checks(client)
            notes = [f"{f.key}: {f.en}" for f in report.findings
                     if f.status == "fail" or f.key in ("page", "limit", "offset") or (f.key == "count" and f.status != "ok")
                     or (f.key == "embedded" and "no;" in f.en)]
            rows.append((profile, "; ".join(notes) or "every check OK", report.seconds, report.ok))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--staff", type=int, default=150)
    ap.add_argument("--pupils", type=int, default=200)
    ap.add_argument("--check-users", type=int, default=5000)
    args = ap.parse_args(argv)
    print(f"passerlink M5 profiles, {_dt.datetime.now():%Y-%m-%d %H:%M}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs (shared machine)")
    with tempfile.TemporaryDirectory() as tmp:
        results = part_one(Path(tmp), args.staff, args.pupils)
        print(f"\n1. Full sync cycle on the sample world (staff {args.staff}, pupils {args.pupils}), per profile")
        print(f"{'profile / site setting':<46} {'blocked':>7} {'created':>7} {'deact.':>6} {'manual':>6} {'s':>5}  outcome")
        for r in results:
            print(f"{r.label:<46} {r.wrongly_blocked:>7} {r.wrongly_created:>7} {r.wrongly_deactivated:>6} "
                  f"{r.manual_written:>6} {r.seconds:>5.1f}  {r.outcome}")
        bad = sum(r.wrongly_blocked + r.wrongly_created + r.wrongly_deactivated + r.manual_written for r in results)
        print(f"(counts: cards wrongly blocked, users wrongly created, wrongly deactivated, manual records written;"
              f" all targets 0) -> {'OK' if bad == 0 else 'MISSED'}")
        rows = part_two(Path(tmp), args.check_users)
        print(f"\n2. passerlink m5 check on {args.check_users:,} users, per profile (TLS row left out: loopback http)")
        print(f"{'profile':<24} {'exit':>4} {'s':>6}  what it reports (paging, count, embedding, failures)")
        for profile, notes, seconds, ok in rows:
            print(f"{profile:<24} {0 if ok else 1:>4} {seconds:>6.2f}  {notes}")
        slow = max(s for _, _, s, _ in rows)
        print(f"(slowest {slow:.2f} s; target < 30 s) -> {'OK' if slow < 30 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
