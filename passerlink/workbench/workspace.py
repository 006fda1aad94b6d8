"""Everything one configuration file opens: its sources, M5's users, the link store, the engine.

One ``Workspace`` per configuration lives for the whole server process (the app keeps it in
``st.cache_resource``), so a rerun, a second browser tab or a closed-and-reopened browser all see
the same loaded sources and the same review engine; nothing heavy runs twice. The link store on
disk is the only state that must survive a restart, and the engine is rebuilt from it.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from passerlink.config import Config, load_config
from passerlink.errors import ConfigError, PasserlinkError
from passerlink.matching.linkstore import LinkStore
from passerlink.people import PeopleTable

if TYPE_CHECKING:  # pragma: no cover
    from passerlink.matching.linkstore import SignOff
    from passerlink.sync.golive import GoLiveFacts
    from passerlink.workbench.engine import ReviewEngine

__all__ = ["SourceState", "Workspace", "M5_URL_ENV"]

#: Overrides ``[m5] url`` of the configuration (the demo points it at its own simulator).
M5_URL_ENV = "PASSERLINK_M5_URL"


_OPEN: weakref.WeakSet[Workspace] = weakref.WeakSet()


@dataclass
class SourceState:
    """One source as read (or why it could not be)."""

    name: str
    kind: str
    table: PeopleTable | None = None
    error: str = ""
    profile: dict[str, Any] = field(default_factory=dict)
    uploaded: str = ""  # file name of an upload that replaces the configured source

    @property
    def ok(self) -> bool:
        return self.table is not None and not self.error


def _profile(table: PeopleTable) -> dict[str, Any]:
    from passerlink.sources import profile

    return profile(table)


class Workspace:
    """The configuration's sources, M5 users, link store and (once built) review engine."""

    def __init__(self, config_path: str | Path, *, m5_url: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config: Config = load_config(config_path)
        m5_url = m5_url or os.environ.get(M5_URL_ENV) or None
        if m5_url and self.config.m5 is not None:
            self.config = self.config.model_copy(update={"m5": self.config.m5.model_copy(update={"url": m5_url.rstrip("/")})})
        self.store = LinkStore(self.config.link_store.path)
        self._lock = threading.RLock()
        self._sources: dict[str, SourceState] = {}
        self._m5: SourceState | None = None
        self.engine: ReviewEngine | None = None
        self._stored: tuple[int, pd.DataFrame] | None = None  # (store.count(), its link table)
        self._loaded = 0  # bumps whenever a source or M5 is read, uploaded or dropped
        self._wide: dict[bool, tuple[tuple[int, int, int], pd.DataFrame]] = {}  # by stored_only
        self._facts: tuple[tuple[int, int], GoLiveFacts, float] | None = None  # (versions, facts, read at)
        self._proposals: tuple[int, pd.DataFrame] | None = None
        self._clock = clock
        _OPEN.add(self)

    # ---- sources ---------------------------------------------------------------------------------
    def sources(self, *, reload: bool = False) -> dict[str, SourceState]:
        """Every configured register, read once (``reload`` reads them again, uploads stay)."""
        from passerlink.sources import read_source
        from passerlink.sync.keys import key_registers, keyer_for

        with self._lock:
            for spec in self.config.sources:
                have = self._sources.get(spec.name)
                if have is not None and (not reload or have.uploaded):
                    continue
                state = SourceState(spec.name, spec.kind)
                try:
                    table = read_source(spec, config_path=self.config.config_path)
                    # a register keyed by personnummer shows (and stores, and exports) the keyed hash
                    state.table = key_registers({spec.name: table}, keyer_for(self.config, {spec.name: table}))[spec.name]
                    state.profile = _profile(state.table)
                except PasserlinkError as exc:
                    state.error = str(exc)
                self._sources[spec.name] = state
                self._loaded += 1
            return dict(self._sources)

    def use_upload(self, name: str, data: bytes, filename: str, *, id_column: str | None,
                   mapping: Mapping[str, str] | None) -> SourceState:
        """Read an uploaded file in place of a configured source (raises the reader's InputError)."""
        from passerlink.sources import read_file

        self.config.source(name)  # ConfigError for an unknown name
        suffix = Path(filename).suffix or ".csv"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}{suffix}"
            path.write_bytes(data)
            table = read_file(path, source=name, id_column=id_column or None, mapping=dict(mapping or {}))
        table.origin = filename
        state = SourceState(name, "upload", table, "", _profile(table), filename)
        with self._lock:
            self._sources[name] = state
            self._loaded += 1
        return state

    def drop_upload(self, name: str) -> None:
        with self._lock:
            if name in self._sources and self._sources[name].uploaded:
                del self._sources[name]
                self._loaded += 1

    def m5(self, *, reload: bool = False) -> SourceState:
        """M5's users as people, read once through the Admin API."""
        with self._lock:
            if self._m5 is not None and not reload:
                return self._m5
            state = SourceState("m5", "m5")
            if self.config.m5 is None:
                state.error = f"{self.config.config_path}: no [m5] section"
            else:
                try:
                    from passerlink.m5 import M5Client
                    from passerlink.sources import read_m5

                    with M5Client.from_config(self.config.m5, config_path=self.config.config_path) as client:
                        state.table = read_m5(client, self.config.m5.columns, origin=f"M5 ({self.config.m5.url})")
                    state.profile = _profile(state.table)
                except PasserlinkError as exc:
                    state.error = str(exc)
            self._m5 = state
            self._loaded += 1
            return state

    def ready(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None, list[str]]:
        """(register people by name, M5 people, problems) – what matching needs."""
        sources = self.sources()
        m5 = self.m5()
        problems = [f"{s.name}: {s.error}" for s in sources.values() if not s.ok]
        if not m5.ok:
            problems.append(m5.error)
        registers = {n: s.table.people for n, s in sources.items() if s.table is not None and s.ok}
        return registers, (m5.table.people if m5.table is not None and m5.ok else None), problems

    # ---- the engine ------------------------------------------------------------------------------
    def build_engine(self, progress: Callable[[float, str], None] | None = None, *, seed: int = 0,
                     retrain_every: int = 5) -> ReviewEngine:
        """(Re)build the review engine from the sources and replay the link store into it."""
        from passerlink.workbench.engine import ReviewEngine

        registers, m5, problems = self.ready()
        if problems or m5 is None:
            raise ConfigError(problems[0] if problems else "M5 could not be read")
        with self._lock:
            engine = ReviewEngine(registers, m5, self.store, seed=seed, retrain_every=retrain_every).prepare(progress)
            old, self.engine = self.engine, engine
        if old is not None:
            old.close()
        return engine

    def ensure_engine(self, progress: Callable[[float, str], None] | None = None, *, seed: int = 0,
                      retrain_every: int = 5) -> ReviewEngine:
        """The engine, built once: a second caller waits for the first build instead of repeating it."""
        with self._lock:
            if self.engine is not None:
                return self.engine
            return self.build_engine(progress, seed=seed, retrain_every=retrain_every)

    def link_table(self) -> pd.DataFrame:
        """The engine's table if there is one, else the link store alone (e.g. after a restart)."""
        if self.engine is not None:
            return self.engine.link_table()
        return self.stored_links()

    def link_table_with_people(self, *, stored_only: bool = False) -> pd.DataFrame:
        """``with_people(link_table())`` over the loaded people (reads the sources the first time),
        rebuilt only when the links, the model or the people changed: the Links and Sync pages show
        it on every rerun, and at 100k people the merge alone takes half a second.

        ``stored_only``: the link store alone, with whatever people are loaded now (never reads).
        """
        from passerlink.workbench.linktable import with_people

        if stored_only:
            (registers, m5), engine = self.people(), None
        else:
            registers, m5, _problems = self.ready()
            engine = self.engine
        key = (self.store.count(), engine.version if engine is not None else 0, self._loaded)
        wide = self._wide.get(stored_only)
        if wide is None or wide[0] != key:
            table = engine.link_table() if engine is not None else self.stored_links()
            wide = self._wide[stored_only] = (key, with_people(table, registers, m5))
        return wide[1].copy()

    def stored_links(self) -> pd.DataFrame:
        """The link store's decisions as a link table, read again only when the store has grown
        (it is append-only, so its row count is its version; any process may have written)."""
        from passerlink.workbench.linktable import merge_links

        n = self.store.count()
        stored = self._stored
        if stored is None or stored[0] != n:
            stored = self._stored = (n, merge_links(None, self.store.current()))
        return stored[1].copy()

    def export(self, *, lang: str = "sv", show_personnummer: bool = False, exported_by: str = "") -> bytes:
        """The sign-off workbook of the current link table, with the people nobody is linked to."""
        from passerlink.workbench.excel import export_workbook, registers_in
        from passerlink.workbench.linktable import unlinked_people, with_people

        table = self.link_table()
        registers, m5, _problems = self.ready()
        if registers:
            table = pd.concat([table, unlinked_people(table, registers)], ignore_index=True)
        return export_workbook(
            with_people(table, registers, m5),
            registers=registers_in(table, [s.name for s in self.config.sources]),
            lang=lang,
            show_personnummer=show_personnummer,
            exported_by=exported_by,
            model_version=self.engine.model_version if self.engine is not None else "",
        )

    def loaded(self) -> list[SourceState]:
        """The sources and M5 as read so far in this process (never triggers a read)."""
        with self._lock:
            return [*self._sources.values(), *([self._m5] if self._m5 is not None else [])]

    def golive_facts(self, max_age: float = 0.0) -> GoLiveFacts:
        """``sync.golive.read_golive_facts`` of this configuration, read again only when the link
        store or the sync's state changed – and, with ``max_age``, not more often than that many
        seconds (the Review page's banner is redrawn on every answer, and reading the whole store
        then would cost the operator's time)."""
        from passerlink.sync import sync_paths
        from passerlink.sync.golive import read_golive_facts

        cached = self._facts
        now = self._clock()
        if cached is not None and max_age and now - cached[2] < max_age:
            return cached[1]
        state = sync_paths(self.config)[1]
        try:
            stamp = state.stat().st_mtime_ns
        except OSError:
            stamp = 0
        key = (self.store.count(), stamp)
        if cached is None or cached[0] != key:
            cached = self._facts = (key, read_golive_facts(self.config), now)
        return cached[1]

    def proposals(self) -> pd.DataFrame:
        """``LinkStore.proposals()``: every proposal ever stored and what became of it (read again
        only when the store has grown)."""
        n = self.store.count()
        if self._proposals is None or self._proposals[0] != n:
            self._proposals = (n, self.store.proposals())
        return self._proposals[1].copy()

    def sign_off(self, who: str) -> SignOff:
        """Store the model's latest proposals, then sign off: one recorded step (``LinkStore.signoff``)."""
        version = ""
        if self.engine is not None:
            self.engine.store_proposals()
            version = self.engine.model_version
        return self.store.signoff(who, model_version=version)

    def people(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
        """Whatever people are loaded now (never triggers a read)."""
        with self._lock:
            registers = {n: s.table.people for n, s in self._sources.items() if s.table is not None and s.ok}
            m5 = self._m5.table.people if self._m5 is not None and self._m5.table is not None and self._m5.ok else None
        return registers, m5

    def close(self) -> None:
        """Stop the engine's worker (the link store needs no closing: every write is committed)."""
        if self.engine is not None:
            self.engine.close()

    @staticmethod
    def close_all() -> None:
        """Close every workspace of this process (server shutdown, tests simulating a restart)."""
        for ws in list(_OPEN):
            ws.close()
