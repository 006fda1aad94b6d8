"""Sync engine benchmark: prints the three targets of the sync issue.

    python benchmarks/sync.py [--people 50000] [--changes 2000] [--concurrency 4]

1. plan for 50,000 people within 5 s (desired state + plan, pure, in memory);
2. a no-op run makes zero write calls (a real run against the local simulator, twice);
3. 2,000 changes applied to the local simulator at >= 100 changes/s with concurrency 4.

Figures are printed, never asserted: speed is measured here, not in the timed tests.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import random
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=50_000)
    ap.add_argument("--changes", type=int, default=2_000)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args(argv)
    print(f"passerlink sync benchmark, {_dt.datetime.now():%Y-%m-%d %H:%M}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs")
    bench_plan(args.people)
    bench_apply(args.changes, args.concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
