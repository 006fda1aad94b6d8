"""A small generated municipality, served by a real simulator, and the workbench around it.

    world              generate_world(seed=3, staff=120, pupils=120) (session-wide, generated once)
    site_writer        write(folder, world, m5_url) -> config path
    workbench_config   write the world's registers and a config (M5 = a seeded simulator); its path
    app                an AppTest of passerlink/app.py with that config in session state
    restart            forget every cached resource, as a server restart would
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

APP = str(Path(__file__).resolve().parents[2] / "passerlink" / "app.py")


@pytest.fixture(scope="session")
def world():
    from passerlink.sampleworld import generate_world

    return generate_world(seed=3, staff=120, pupils=120, former_staff=6)


def write_config(folder: Path, world, m5_url: str) -> Path:
    world.write(folder)
    cfg = folder / "workbench.toml"
    cfg.write_text(
        f"""
[[sources]]
name = "hr"
kind = "csv"
path = "hr_export.csv"
id_column = "Anställningsnummer"

[[sources]]
name = "students"
kind = "csv"
path = "students.csv"
id_column = "Elev-ID"

[m5]
url = "{m5_url}"

[link_store]
path = "state/links.sqlite"
""",
        encoding="utf-8",
    )
    return cfg


@pytest.fixture
def site_writer() -> Callable[[Path, object, str], Path]:
    """``write(folder, world, m5_url) -> config path``."""
    return write_config


@pytest.fixture
def workbench_config(tmp_path, world, m5sim, m5_env) -> Path:
    m5sim.reset(world.m5_seed)
    return write_config(tmp_path / "site", world, m5sim.url)


def _forget() -> None:
    import streamlit as st

    from passerlink.workbench.workspace import Workspace

    Workspace.close_all()
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def restart() -> Iterator[Callable[[], None]]:
    _forget()
    yield _forget
    _forget()


@pytest.fixture
def app(workbench_config, restart):
    from streamlit.testing.v1 import AppTest

    from passerlink.workbench import state as K

    def make(lang: str = "sv") -> AppTest:
        at = AppTest.from_file(APP, default_timeout=90)
        at.session_state[K.CONFIG_PATH] = str(workbench_config)
        at.session_state[K.OPERATOR] = "testare"
        at.session_state[K.LANG] = lang
        return at

    return make


@pytest.fixture(scope="session")
def sample_world():
    """The committed sample municipality (``data/samples``: ``generate_world(seed=0)``)."""
    from passerlink.sampleworld import generate_world

    return generate_world(seed=0)


@pytest.fixture(scope="session")
def sample_people(sample_world, tmp_path_factory):
    """(registers by name, M5 people, true links as (register, source_id, m5_id)) of the sample
    world, read through the readers as the workbench reads them."""
    from passerlink.sources import read_file

    folder = tmp_path_factory.mktemp("sample")
    sample_world.write(folder)
    registers = {
        "hr": read_file(folder / "hr_export.csv", source="hr", id_column="Anställningsnummer").people,
        "students": read_file(folder / "students.csv", source="students", id_column="Elev-ID").people,
    }
    truth = {(r.source, str(r.source_id), str(r.m5_id)) for r in sample_world.truth.itertuples()}
    return registers, sample_world.m5_people(), truth


# ---- the browser: Debian's Chromium driven by Playwright against `streamlit run` ------------------------
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def chromium_path() -> Path:
    import os

    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing on CI: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); the browser test needs it")
    return CHROMIUM


@pytest.fixture
def serve_workbench(tmp_path):
    """``serve(config) -> (url, log)``: ``streamlit run`` exactly as ``passerlink workbench`` launches
    it, on a free loopback port, stopped after the test."""
    import os
    import subprocess

    from passerlink.commands.workbench import streamlit_command
    from passerlink.processes import free_port, stop_process, wait_http

    procs = []

    def serve(cfg: Path) -> tuple[str, Path]:
        port = free_port()
        log = tmp_path / f"streamlit{len(procs)}.log"
        env = dict(os.environ, PASSERLINK_CONFIG=str(cfg))
        with open(log, "wb") as out:
            proc = subprocess.Popen(streamlit_command(cfg, port=port), stdout=out, stderr=subprocess.STDOUT, env=env)
        procs.append(proc)
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc=proc, what="streamlit", timeout=60)
        return f"http://127.0.0.1:{port}", log

    yield serve
    for proc in procs:
        stop_process(proc)


@pytest.fixture
def artifacts() -> Path:
    """``test-artifacts/`` at the repository root: screenshots a person looks at after a run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def chromium(chromium_path):
    """A headless Chromium (Debian's) under Playwright, closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
