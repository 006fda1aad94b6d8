"""The workbench in a real browser: Playwright driving Debian's Chromium against `streamlit run`.

Loads the workbench on a small generated world with a seeded simulator, answers five questions
(three by clicking, two by keyboard), exports the workbook and saves a screenshot of the Review
page to ``test-artifacts/review.png``.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def served(tmp_path, world, m5sim_factory, m5_env, site_writer, chromium_path, serve_workbench):
    sim = m5sim_factory(seed=world.m5_seed)
    cfg = site_writer(tmp_path / "site", world, sim.url)
    url, log = serve_workbench(cfg)
    return url, cfg, log


def _answers(cfg: Path) -> int:
    from passerlink.matching import LinkStore

    store = LinkStore(cfg.parent / "state" / "links.sqlite")
    return int(store.history()["decision"].isin(["confirmed", "rejected", "unsure"]).sum())


def _undone(cfg: Path) -> int:
    from passerlink.matching import LinkStore

    return int((LinkStore(cfg.parent / "state" / "links.sqlite").history()["decision"] == "undone").sum())


def test_review_five_questions_by_click_and_keyboard_then_export(served, chromium, artifacts):
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    url, cfg, log = served
    page = chromium.new_page(viewport={"width": 1400, "height": 1900}, accept_downloads=True)
    page.set_default_timeout(60_000)
    expect.set_options(timeout=60_000)  # the first visit builds the matching (seconds on a shared machine)
    page.goto(f"{url}/review")
    expect(page.get_by_text("Är det samma person?")).to_be_visible()
    yes = page.locator(".st-key-pl_yes button")
    no = page.locator(".st-key-pl_no button")

    def settled() -> None:
        """The run is over: buttons there, shortcuts registered, nothing stale on the page."""
        page.wait_for_function(
            """() => document.querySelector('.st-key-pl_yes button') && window.__passerlinkKeys
                     && !document.querySelector('[data-stale="true"]')""", timeout=30_000)

    def answer(action) -> None:
        settled()
        before = _answers(cfg)
        caption = page.get_by_text("besvarade").first.inner_text()
        action()
        page.wait_for_function(
            "([c]) => !document.body.innerText.includes(c)", arg=[caption], timeout=30_000)
        assert _answers(cfg) == before + 1

    answer(lambda: yes.click())
    answer(lambda: no.click())
    answer(lambda: page.locator(".st-key-pl_unsure button").click())
    page.locator("h1").first.click()  # focus on the page, not on a button
    answer(lambda: page.keyboard.press("j"))
    answer(lambda: page.keyboard.press("n"))
    assert _answers(cfg) == 5
    expect(page.get_by_text("5 besvarade")).to_be_visible()
    settled()
    page.keyboard.press("u")  # undo by keyboard: the last answer is taken back
    expect(page.get_by_text("4 besvarade")).to_be_visible()
    assert _undone(cfg) == 1
    answer(lambda: page.keyboard.press("o"))
    expect(page.get_by_text("5 besvarade")).to_be_visible()
    settled()
    expect(page.get_by_text("Är det samma person?").last).to_be_visible()  # a fragment rerun leaves the old card on screen (stale) until the new one is drawn
    expect(page.get_by_text("Därför tror modellen så").last).to_be_visible()
    expect(page.locator("[data-testid=stVegaLiteChart]").first).to_be_visible()
    page.screenshot(path=str(artifacts / "review.png"), full_page=True)

    page.goto(f"{url}/links")
    page.locator(".st-key-pl_make_export button").click()
    with page.expect_download() as info:
        page.locator(".st-key-pl_download button").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert wb.sheetnames == ["Sammanfattning", "hr", "students"]
    decided = [c.value for s in ("hr", "students") for row in wb[s].iter_rows(min_row=2) for c in row
               if c.value in ("bekräftad", "avvisad", "osäker")]
    assert len(decided) == 5  # the undone answer is not in the export, its redo is
    assert "Traceback" not in log.read_text(errors="replace")
