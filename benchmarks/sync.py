"""Sync engine benchmark: prints the targets of the sync issues.

    python benchmarks/sync.py [--people 50000] [--changes 2000] [--concurrency 4]
                              [--register-rows 1000000] [--full-sync-people 100000] [--skip-memory]

1. plan for 50,000 people within 5 s (desired state + plan, pure, in memory);
2. a no-op run makes zero write calls (a real run against the local simulator, twice);
3. 2,000 changes applied to the local simulator at >= 100 changes/s with concurrency 4;
4. memory (issue 13): a 1,000,000-row register reaches its safety stop (exit 3, every report
   written) within 60 s with at most 2 GB peak; a 100,000-person full sync (100,000 linked M5
   users read over HTTP, 1 % of them changed and written, all reports) peaks at most at 1 GB.
   Each is ``passerlink sync`` in its own process; the peak is that process's maximum resident
   set size (``resource``; not measured on Windows).

Figures are printed, never asserted: speed is measured here, not in the timed tests.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from passerlink.config import load_config
from passerlink.matching import LinkDecision, LinkStore
from passerlink.people import CANONICAL_COLUMNS, PeopleTable
from passerlink.processes import free_port, start_simulator, stop_process
from passerlink.sync import PlanContext, SyncPolicy, build_desired, current_from_m5, plan, run_sync

FIRST = ["Anna", "Lars", "Eva", "Karl", "Maria", "Erik", "Sara", "Johan", "Elin", "Per", "Åsa", "Örjan"]
LAST = ["Andersson", "Berg", "Carlsson", "Dahl", "Ek", "Forsberg", "Gustafsson", "Holm", "Lindström", "Öberg"]
UNITS = [f"Enhet {i}" for i in range(40)]


def people(n: int, source: str, rng: random.Random, offset: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, extra = [], []
    for i in range(n):
        sid = str(10_000 + offset + i)
        rows.append({"source": source, "source_id": sid, "given_names": f"{rng.choice(FIRST)} {rng.choice(FIRST)}",
                     "call_name": "", "family_name": rng.choice(LAST), "birth_date": "", "personnummer": "",
                     "email": f"p{sid}@kommun.se", "org_unit": rng.choice(UNITS), "employee_number": sid})
        extra.append({"Anställningsdatum": "2020-01-01", "Slutdatum": "", "Befattning": "Handläggare"})
    return pd.DataFrame(rows, columns=CANONICAL_COLUMNS), pd.DataFrame(extra)


def m5_user(uid: int, fields: dict[str, str], marker: str) -> dict:
    return {"id": uid, "firstname": fields["firstname"], "lastname": fields["lastname"], "email": fields["email"],
            "employmentnumber": int(fields["employmentnumber"]) if fields["employmentnumber"] else None,
            "department": {"departmentname": fields["department"]}, "usergroup": {"groupname": fields["usergroup"]},
            "startdate": fields.get("startdate", ""), "enddate": fields.get("enddate", ""), "status": 1,
            "apireference": marker, "rastamp": f"/r{uid}", "cards": [], "accessgroups": []}


def bench_plan(n: int) -> None:
    rng = random.Random(1)
    hr_n = n * 2 // 5
    hr, hr_x = people(hr_n, "hr", rng)
    st, st_x = people(n - hr_n, "students", rng, offset=hr_n)
    tables = {"hr": PeopleTable("hr", hr, hr_x), "students": PeopleTable("students", st, st_x)}
    policy = SyncPolicy()
    t0 = time.perf_counter()
    desired = build_desired(tables, None, policy, source_order=["hr", "students"])
    t_desired = time.perf_counter() - t0
    users = [m5_user(i + 1, dict(du.fields), policy.marker(*du.key)) for i, du in enumerate(desired.users)]
    changed = rng.sample(range(len(users)), k=n // 20)
    for i in changed:
        users[i]["lastname"] += "-gammal"
    users += [m5_user(len(users) + j + 1, {"firstname": "Manuell", "lastname": "Post", "email": "",
                                            "employmentnumber": "", "department": "Entreprenörer",
                                            "usergroup": "Entreprenör"}, "") for j in range(n // 10)]
    depts = [{"id": i + 1, "departmentname": u} for i, u in enumerate(UNITS)]
    groups = [{"id": 1, "groupname": "Personal"}, {"id": 2, "groupname": "Elev"}]
    t0 = time.perf_counter()
    current = current_from_m5(users, departments=depts, usergroups=groups)
    t_current = time.perf_counter() - t0
    t0 = time.perf_counter()
    p = plan(desired, current, policy, PlanContext())
    t_plan = time.perf_counter() - t0
    total = t_desired + t_current + t_plan
    print(f"[plan] {n:,} register people, {len(users):,} M5 users ({len(changed):,} changed, {n // 10:,} manual)")
    print(f"[plan] desired state {t_desired:.2f} s, current state {t_current:.2f} s, plan {t_plan:.2f} s; "
          f"total {total:.2f} s (target: within 5 s) -> {'OK' if total <= 5 else 'MISSED'}")
    print(f"[plan] {len(p.of_kind('update')):,} updates planned, {p.counts.get('unchanged', 0):,} unchanged, "
          f"{p.manual:,} manual records left alone")


CONFIG = """
[[sources]]
name = "hr"
kind = "csv"
path = "hr.csv"
id_column = "Anställningsnummer"
user_group = "Personal"

[m5]
url = "{url}"

[link_store]
path = "links.sqlite"

[sync]
report_dir = "reports"
state_db = "state.sqlite"
concurrency = {concurrency}
[sync.thresholds.updates]
max_count = 100000
max_share = 1.0
"""


def write_hr(path: Path, rows: list[dict]) -> None:
    pd.DataFrame(rows).to_csv(path, sep=";", index=False, encoding="utf-8")


def bench_apply(changes: int, concurrency: int) -> None:
    for var in ("PASSERLINK_M5_USER", "PASSERLINK_M5_PASSWORD", "PASSERLINK_M5_APIKEY"):
        os.environ.setdefault(var, "demo")
    rng = random.Random(2)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows, seed_users = [], []
        for i in range(changes):
            sid = str(20_000 + i)
            first, last, unit = rng.choice(FIRST), rng.choice(LAST), rng.choice(UNITS)
            rows.append({"Anställningsnummer": sid, "Förnamn": first, "Efternamn": last, "Enhet": unit,
                         "Anställningsdatum": "", "Slutdatum": ""})
            seed_users.append({"id": i + 1, "firstname": first, "lastname": last, "department": unit,
                               "usergroup": "Personal", "employmentnumber": int(sid),
                               "apireference": f"passerlink:hr:{sid}", "createdby": "admin"})
        seed = {"departments": UNITS, "usergroups": ["Personal", "Elev"], "users": seed_users}
        (folder / "seed.json").write_text(json.dumps(seed, ensure_ascii=False), encoding="utf-8")
        port = free_port()
        sim, url = start_simulator(folder / "m5.sqlite", port, seed=folder / "seed.json", log=folder / "m5sim.log")
        try:
            (folder / "site.toml").write_text(CONFIG.format(url=url, concurrency=concurrency), encoding="utf-8")
            write_hr(folder / "hr.csv", rows)
            cfg = load_config(folder / "site.toml")
            LinkStore(cfg.link_store.path).record(
                [LinkDecision("hr", r["Anställningsnummer"], str(i + 1), "manual", who="bench") for i, r in
                 enumerate(rows)])
            first = run_sync(cfg)
            print(f"[no-op] first run over {changes:,} linked, unchanged users: exit {first.exit_code}, "
                  f"M5 write calls {first.report['m5_writes']}")
            second = run_sync(cfg)
            print(f"[no-op] second run: exit {second.exit_code}, M5 write calls {second.report['m5_writes']} "
                  f"(target: 0) -> {'OK' if second.report['m5_writes'] == 0 else 'MISSED'}")
            for r in rows:
                r["Efternamn"] += "-Ny"
            write_hr(folder / "hr.csv", rows)
            t0 = time.perf_counter()
            timing: dict[str, float] = {}
            result = run_sync(cfg, before_apply=lambda _p: timing.setdefault("apply", time.perf_counter()))
            t_end = time.perf_counter()
            applied = result.report.get("ops_by_status", {}).get("done", 0)
            apply_s = t_end - timing.get("apply", t0)
            print(f"[apply] {applied:,} changes applied with concurrency {concurrency}: exit {result.exit_code}, "
                  f"{result.report['m5_writes']:,} write calls; apply {apply_s:.2f} s, whole run {t_end - t0:.2f} s")
            rate = applied / apply_s if apply_s else 0.0
            print(f"[apply] {rate:.0f} changes/s (target: >= 100) -> {'OK' if rate >= 100 else 'MISSED'}")
        finally:
            stop_process(sim)


# ---- memory (issue 13) -------------------------------------------------------------------------------
HR_HEADER = ("Anställningsnummer;Förnamn;Tilltalsnamn;Efternamn;Personnummer;E-post;Enhet;Befattning;"
             "Anställningsform;Anställningsdatum;Slutdatum")

#: Runs one CLI command in this (child) process and prints its exit code and peak memory.
MEASURE = """
import sys, time
from passerlink.cli import main
t0 = time.perf_counter()
code = main(sys.argv[1:])
wall = time.perf_counter() - t0
try:
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024
except ImportError:
    peak_mb = float("nan")
print(f"MEASURED {code} {wall:.2f} {peak_mb:.0f}", flush=True)
"""


def hr_row(i: int, rng: random.Random, surname: str | None = None) -> str:
    from passerlink.features import luhn_check_digit

    d = f"{rng.randint(50, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    s3 = f"{rng.randint(1, 999):03d}"
    first, last = rng.choice(FIRST), surname or rng.choice(LAST)
    return (f"{100_000 + i};{first};;{last};{d}-{s3}{luhn_check_digit(d + s3)};{first.lower()}.{i}@kommun.se;"
            f"{UNITS[i % len(UNITS)]};Handläggare;FAST;2020-01-01;")


def measure(args: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak MB, stderr) of one ``passerlink`` command in its own process."""
    p = subprocess.run([sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, env=env,
                       timeout=3600)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("MEASURED ")), "MEASURED -1 nan nan")
    code, wall, peak = line.split()[1:]
    return int(code), float(wall), float(peak), p.stderr.strip()


def bench_large_register(rows: int) -> None:
    """A register of ``rows`` new people against a small M5: the creates rule stops it."""
    env = dict(os.environ, PASSERLINK_M5_USER="demo", PASSERLINK_M5_PASSWORD="demo", PASSERLINK_M5_APIKEY="demo")
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with (folder / "hr.csv").open("w", encoding="cp1252", newline="") as fh:
            fh.write(HR_HEADER + "\r\n")
            for i in range(rows):
                fh.write(hr_row(i, rng) + "\r\n")
        size = (folder / "hr.csv").stat().st_size
        seed = {"departments": UNITS, "usergroups": ["Personal"],
                "users": [{"id": i + 1, "firstname": "Manuell", "lastname": f"Post{i}", "department": UNITS[0],
                           "usergroup": "Personal"} for i in range(200)]}
        (folder / "seed.json").write_text(json.dumps(seed), encoding="utf-8")
        sim, url = start_simulator(folder / "m5.sqlite", free_port(), seed=folder / "seed.json",
                                   log=folder / "m5sim.log")
        try:
            (folder / "site.toml").write_text(CONFIG.format(url=url, concurrency=4).split("[sync.thresholds")[0],
                                              encoding="utf-8")
            code, wall, peak, err = measure(["sync", "--config", str(folder / "site.toml")], env)
            reports = sorted((folder / "reports").glob("sync-*"))
            data = json.loads(reports[0].with_suffix(".json").read_text(encoding="utf-8")) if reports else {}
            sizes = ", ".join(f"{p.suffix[1:]} {p.stat().st_size / 1e6:.0f} MB" for p in reports)
        finally:
            stop_process(sim)
    to_stop = float(data.get("duration_seconds", float("nan")))
    ok = code == 3 and to_stop <= 60 and peak <= 2048 and len(reports) == 3
    print(f"[memory] {rows:,}-row register ({size / 1e6:.0f} MB): exit {code}, stop reached after {to_stop:.1f} s, "
          f"whole run with its reports {wall:.1f} s, peak {peak:,.0f} MB ({sizes}) "
          f"(target: exit 3 within 60 s, <= 2,048 MB) -> {'OK' if ok else 'MISSED'}")
    if code != 3:
        print(f"[memory]   stderr: {err[-300:]}")


def bench_full_sync(people: int) -> None:
    """``people`` linked people in M5 (read over HTTP), 1 % of them changed and written."""
    env = dict(os.environ, PASSERLINK_M5_USER="demo", PASSERLINK_M5_PASSWORD="demo", PASSERLINK_M5_APIKEY="demo")
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lines = [hr_row(i, rng) for i in range(people)]
        users = []
        for i, line in enumerate(lines):
            f = line.split(";")
            users.append({"id": i + 1, "firstname": f[1], "lastname": f[3], "email": f[5], "department": f[6],
                          "usergroup": "Personal", "employmentnumber": int(f[0]), "startdate": "2020-01-01",
                          "apireference": f"passerlink:hr:{f[0]}", "createdby": "admin"})
        for i in range(0, people, 100):  # 1 %: a new family name in the register
            f = lines[i].split(";")
            f[3] += "-Ny"
            lines[i] = ";".join(f)
        (folder / "hr.csv").write_text(HR_HEADER + "\r\n" + "\r\n".join(lines) + "\r\n", encoding="cp1252")
        seed = {"departments": UNITS, "usergroups": ["Personal"], "users": users}
        (folder / "seed.json").write_text(json.dumps(seed, ensure_ascii=False), encoding="utf-8")
        del users, seed, lines
        sim, url = start_simulator(folder / "m5.sqlite", free_port(), seed=folder / "seed.json",
                                   log=folder / "m5sim.log")
        try:
            (folder / "site.toml").write_text(CONFIG.format(url=url, concurrency=4), encoding="utf-8")
            cfg = load_config(folder / "site.toml")
            LinkStore(cfg.link_store.path).record(
                [LinkDecision("hr", str(100_000 + i), str(i + 1), "manual", who="bench") for i in range(people)])
            code, wall, peak, err = measure(["sync", "--config", str(folder / "site.toml"),
                                             "--allow-mass-changes"], env)
            data = json.loads(sorted((folder / "reports").glob("sync-*.json"))[-1].read_text(encoding="utf-8"))
        finally:
            stop_process(sim)
    ok = code == 0 and peak <= 1024
    print(f"[memory] {people:,}-person full sync: exit {code}, {wall:.1f} s, peak {peak:,.0f} MB, "
          f"{data.get('ops_by_status', {}).get('done', 0):,} changes written "
          f"(target: <= 1,024 MB) -> {'OK' if ok else 'MISSED'}")
    if code != 0:
        print(f"[memory]   stderr: {err[-300:]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=50_000)
    ap.add_argument("--changes", type=int, default=2_000)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--register-rows", type=int, default=1_000_000)
    ap.add_argument("--full-sync-people", type=int, default=100_000)
    ap.add_argument("--skip-memory", action="store_true", help="leave out the two memory runs (minutes)")
    ap.add_argument("--only-memory", action="store_true", help="only the two memory runs")
    args = ap.parse_args(argv)
    print(f"passerlink sync benchmark, {_dt.datetime.now():%Y-%m-%d %H:%M}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs")
    if not args.only_memory:
        bench_plan(args.people)
        bench_apply(args.changes, args.concurrency)
    if not args.skip_memory:
        print(f"[memory] shared machine: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
              if hasattr(os, "getloadavg") else "[memory]")
        if args.register_rows:
            bench_large_register(args.register_rows)
        if args.full_sync_people:
            bench_full_sync(args.full_sync_people)
    return 0


if __name__ == "__main__":
    sys.exit(main())
