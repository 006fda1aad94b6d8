"""A small generated municipality wired to a simulator: config, registers, links, sync runs.

Shared by the sync engine's HTTP tests (full cycle, faults, kill, CLI); not a test module.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections import Counter
from pathlib import Path
from typing import Any

from passerlink.cli import main as cli_main
from passerlink.config import load_config
from passerlink.matching import LinkStore
from passerlink.sampleworld import World, generate_world, site_config
from passerlink.sources import read_source
from passerlink.sync import build_desired, current_from_m5, run_sync


@dataclasses.dataclass
class Site:
    folder: Path
    sim: Any
    world: World
    sync_toml: str = ""
    timeout: float = 5.0

    @property
    def config_path(self) -> Path:
        return self.folder / "site.toml"

    def write_config(self, sync_toml: str | None = None) -> Path:
        if sync_toml is not None:
            self.sync_toml = sync_toml
        self.config_path.write_text(
            site_config(self.sim.url, m5=f"timeout_seconds = {self.timeout}", sync=self.sync_toml), encoding="utf-8")
        return self.config_path

    def write_registers(self, world: World | None = None) -> None:
        if world is not None:
            self.world = world
        files = self.world.files()
        for name in ("hr_export.csv", "students.csv", "truth_links.csv"):
            (self.folder / name).write_bytes(files[name])

    def config(self):
        return load_config(self.config_path)

    def import_truth(self, *extra: str) -> int:
        """``links import`` of the true links; the seed's M5 users carry no marker and no matcher
        proposed them, so they are manual records to the import: adopted with --adopt-manual."""
        args = ["links", "import", str(self.folder / "truth_links.csv"), "--config", str(self.config_path)]
        return cli_main([*args, *(extra or ("--adopt-manual",))])

    def sync(self, *, client: Any = None, **kw: Any):
        own = client is None
        client = client or self.sim.client(backoff_base=0.01, backoff_max=0.05)
        try:
            return run_sync(self.config(), client=client, **kw)
        finally:
            if own:
                client.close()

    def users(self) -> dict[int, dict]:
        with self.sim.client() as c:
            return {u["id"]: u for u in c.list_users()}

    def inactive_by_hand(self) -> set[str]:
        """Linked M5 users the seed has deactivated (by hand, not by us): the engine leaves them so."""
        linked = {int(m) for m in self.world.truth["m5_id"]}
        return {str(u["id"]) for u in self.world.m5_seed["users"] if u.get("status") == 0 and u["id"] in linked}

    def manual_ids(self) -> set[int]:
        """M5 users nobody links: not in the truth table and without our marker."""
        linked = {int(m) for m in self.world.truth["m5_id"]}
        return {u["id"] for u in self.world.m5_seed["users"]} - linked


def make_site(tmp_path: Path, sim: Any, *, seed: int = 7, staff: int = 60, pupils: int = 80,
              sync_toml: str = "", timeout: float = 5.0) -> Site:
    world = generate_world(seed=seed, staff=staff, pupils=pupils, former_staff=6)
    sim.reset(world.m5_seed)
    site = Site(tmp_path, sim, world, sync_toml, timeout)
    site.write_config()
    site.write_registers()
    return site


def with_registers(world: World, *, hr=None, students=None) -> World:
    return dataclasses.replace(world, hr=world.hr if hr is None else hr,
                               students=world.students if students is None else students)


def marker_counts(users: dict[int, dict]) -> Counter:
    return Counter(u["apireference"] for u in users.values() if str(u.get("apireference", "")).startswith(
        "passerlink:"))


def assert_no_duplicates(users: dict[int, dict]) -> None:
    dup = {m: n for m, n in marker_counts(users).items() if n > 1}
    assert not dup, f"duplicate M5 users for {dup}"


def today() -> str:
    return _dt.date.today().isoformat()


def assert_m5_is_desired(site, queued=None, inactive_by_hand=frozenset()) -> int:
    """Every register person's M5 user holds exactly the desired fields; returns how many were checked.

    ``queued``: people the sync rightly did not create (an unlinked M5 user may be them); by
    default the sync's pending review queue."""
    cfg = site.config()
    if queued is None:
        from passerlink.sync import SyncState, sync_paths

        with SyncState(sync_paths(cfg)[1]) as state:
            q = state.review_queue()
        queued = set(zip(q["source"], q["source_id"], strict=True))
    tables = {s.name: read_source(s) for s in cfg.sources}
    links = LinkStore(cfg.link_store.path).links()
    d = build_desired(tables, links, cfg.sync, source_order=[s.name for s in cfg.sources],
                      user_groups={s.name: s.user_group for s in cfg.sources})
    with site.sim.client() as c:
        cur = current_from_m5(c.list_users(), departments=c.list_departments(), usergroups=c.list_usergroups(),
                              accessgroups=c.list_accessgroups())
    linked = {(s, i): m for s, i, m in zip(links["source"], links["source_id"], links["m5_id"], strict=True)}
    checked = 0
    for du in d.users:
        if du.key in queued:
            continue
        holders = [u for u in cur.users.values()
                   if cfg.sync.parse_marker(u.get("apireference")) in du.keys
                   or any(linked.get(k) == u.id for k in du.keys)]
        assert len(holders) == 1, (du.label, [h.id for h in holders])
        u = holders[0]
        for f, v in du.fields.items():
            got = u.get(f)
            assert got == v or (f in ("department", "usergroup") and got.casefold() == v.casefold()), \
                (du.label, f, got, v)
        assert u.get("status") == ("0" if u.id in inactive_by_hand else "1")
        checked += 1
    return checked
