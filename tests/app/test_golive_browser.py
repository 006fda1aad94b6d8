"""Go-live day in a real browser (Playwright, Debian's Chromium) on the sample world.

The demo's parts – the M5 simulator seeded with ``data/samples/m5_seed.json`` and the workbench
over the sample registers – then one operator's day, each step a screenshot under
``test-artifacts/golive-*.png``:

1. Matching runs; its proposals are stored in the link store.
2. Questions answered by keyboard by a simulated operator who knows ``truth_links.csv`` and makes
   two deliberate mistakes (no to a link the model is sure of); the double-check ("Är du säker?")
   brings both back and the operator corrects them.
3. Sign-off, export of the workbook, re-import of that file unchanged (the workbench and
   ``links import``), then the operator's Excel review of the least sure automatic links, read
   back through the workbench, and a second sign-off.
4. Dry run, approve that plan, run; a second dry run and run write nothing.

Asserted: no duplicate M5 user (nobody whose true M5 user exists got a new one), no manual M5
record written, link precision >= 0.999, and the answer -> next question time as the browser sees it.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from passerlink.sampleworld import demo_site, truth_triples

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data" / "samples"
ANSWERS = 30  # questions the simulated operator answers by keyboard (two mistakes among them)
REVIEWED_IN_EXCEL = 300  # the least sure automatic links the operator checks in the exported workbook
MISTAKES = 2
PAIR = re.compile(r"^(\S+) (\S+) ↔ M5 (\S+) · .*?(\d+)\s?%")


class Operator:
    """Answers from the truth, except "no" to the first ``mistakes`` confident true links."""

    def __init__(self, known: set[tuple[str, str, str]], mistakes: int) -> None:
        self.known, self.mistakes, self.made = known, mistakes, []

    def answer(self, key: tuple[str, str, str], percent: int, recheck: bool) -> str:
        right = key in self.known
        if right and percent >= 90 and not recheck and len(self.made) < self.mistakes:
            self.made.append(key)
            return "n"
        return "j" if right else "n"


@pytest.fixture
def day(tmp_path, m5sim_factory, m5_env, chromium_path, serve_workbench):
    sim = m5sim_factory(seed=SAMPLES / "m5_seed.json")
    cfg = demo_site(SAMPLES, tmp_path / "site", sim.url)
    url, log = serve_workbench(cfg)
    return url, cfg, sim, log


def test_golive_day_in_the_browser(day, chromium, artifacts, tmp_path):
    from playwright.sync_api import expect

    from passerlink.config import load_config
    from passerlink.matching import LINK_DECISIONS, LinkStore

    url, cfg, sim, log = day
    known = truth_triples(SAMPLES)
    page = chromium.new_page(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
    page.set_default_timeout(90_000)
    expect.set_options(timeout=90_000)

    def settled() -> None:
        """No script run in progress (the app says so on its root element) and nothing stale on screen."""
        page.wait_for_function("""() => document.querySelector('[data-testid=stApp]')
                                            ?.getAttribute('data-test-script-state') === 'notRunning'
                                        && !document.querySelector('[data-stale="true"]')""")

    def click(locator) -> None:
        locator.click()
        page.mouse.move(1, 1)  # the pointer off the button: no tooltip left over the page

    def shot(name: str) -> None:
        settled()
        page.mouse.move(1, 1)  # no tooltip over the page
        page.screenshot(path=str(artifacts / f"golive-{name}.png"), full_page=True)

    # 1. matching: the proposals go to the link store -------------------------------------------------
    page.goto(f"{url}/matching")
    click(page.locator(".st-key-pl_run_matching button"))
    expect(page.get_by_text("Matchningen är klar.")).to_be_visible()
    store = LinkStore(load_config(cfg).link_store.path)
    assert (store.proposals()["kind"] == "proposed").sum() > 2000  # stored, not held in the page
    page.wait_for_function("() => document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= 2")
    shot("1-matching")

    # 2. questions by keyboard, two mistakes caught by the double-check ----------------------------------
    page.goto(f"{url}/review")
    pair = page.locator(".st-key-pl_pair").last
    expect(pair).to_be_visible()
    page.wait_for_function("() => window.__passerlinkKeys")
    click(page.locator("h1").first)  # keys go to the page, not to a widget
    operator = Operator(known, MISTAKES)
    timings, rechecked = [], []
    page.evaluate("""() => document.addEventListener('keydown', () => { window.__plT0 = performance.now(); },
                                                     {capture: true})""")
    for n in range(ANSWERS + MISTAKES):
        settled()
        text = pair.inner_text()
        m = PAIR.match(text)
        assert m, text
        key, percent = (m.group(1), m.group(2), m.group(3)), int(m.group(4))
        recheck = page.get_by_text("Är du säker?").count() > 0
        if recheck:
            rechecked.append(key)
        if n == 3:
            shot("2-review")
        page.keyboard.press(operator.answer(key, percent, recheck))
        handle = page.wait_for_function(
            """(before) => {
                const el = [...document.querySelectorAll('.st-key-pl_pair')].pop();
                const done = document.querySelector('.st-key-pl_ask_anyway, [data-testid=stAlertContentSuccess]');
                if (document.querySelector('[data-stale="true"]')) return false;
                if ((el && el.innerText !== before) || (!el && done)) return performance.now() - window.__plT0;
                return false;
            }""", arg=text, polling="raf")
        timings.append(float(handle.json_value()))
        if page.locator(".st-key-pl_pair").count() == 0:
            break
    assert len(operator.made) == MISTAKES
    assert set(operator.made) <= set(rechecked), "the double-check must bring both mistakes back"
    shot("3-review-done")
    hist = store.history()
    for key in operator.made:  # both answers are stored; the second one stands
        rows = hist[(hist["source"] == key[0]) & (hist["source_id"] == key[1]) & (hist["m5_id"] == key[2])
                    & hist["decision"].isin(["confirmed", "rejected"])]
        assert rows["decision"].tolist() == ["rejected", "confirmed"]
    timings.sort()
    median, p95 = statistics.median(timings), timings[max(0, round(0.95 * len(timings)) - 1)]
    print(f"\nanswer -> next question in Chromium over {len(timings)} answers: median {median:.0f} ms, p95 {p95:.0f} ms")

    # 3. sign-off, export, re-import ----------------------------------------------------------------
    page.goto(f"{url}/links")
    settled()
    click(page.locator(".st-key-pl_signoff button"))
    expect(page.get_by_text(re.compile(r"^Godkänt av")).last).to_be_visible()
    signoff = store.last_signoff()
    assert signoff is not None and signoff.counts["auto"] > 2000
    shot("4-signed-off")
    click(page.locator(".st-key-pl_make_export button"))
    with page.expect_download() as info:
        click(page.locator(".st-key-pl_download button"))
    exported = tmp_path / info.value.suggested_filename
    info.value.save_as(exported)
    page.locator(".st-key-pl_import_file input[type=file]").set_input_files(str(exported))
    expect(page.get_by_text("Arbetsboken ändrar inga beslut.")).to_be_visible()
    cli = subprocess.run([sys.executable, "-m", "passerlink", "links", "import", str(exported), "--config", str(cfg),
                          "--m5-url", sim.url, "--dry-run"], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stdout + cli.stderr  # the command line takes the workbook unchanged
    # the operator reviews the least sure automatic links in Excel, reads the edited file back
    # and signs off again
    edited, rejected = review_in_excel(exported, tmp_path / "granskad.xlsx", known, lowest=REVIEWED_IN_EXCEL)
    if rejected:  # (a model that made no mistake among them leaves nothing to read back)
        settled()
        page.locator(".st-key-pl_import_file input[type=file]").set_input_files(str(edited))
        expect(page.get_by_text(f"{len(rejected)} ändrade beslut")).to_be_visible()
        shot("5-reimported")
        click(page.locator(".st-key-pl_apply_import button"))
        expect(page.get_by_text(f"{len(rejected)} beslut sparade i länkregistret.")).to_be_visible()
        settled()
        click(page.locator(".st-key-pl_signoff button"))
        expect(page.get_by_text(re.compile(r"^Godkänt av")).last).to_be_visible()
        assert len(store.signoffs()) == 2

    # 4. dry run, approve this plan, run; the second run writes nothing -------------------------------
    seed_users = {str(u["id"]) for u in sim_users(sim)}
    manual = seed_users - {k[2] for k in known}
    sim.clear_calls()
    page.goto(f"{url}/sync")
    settled()
    click(page.locator(".st-key-pl_sync_preview button").first)
    expect(page.get_by_text("Provkörningens plan har id")).to_be_visible()
    assert not sim.writes()
    shot("6-dry-run")
    click(page.locator(".st-key-pl_sync_approve button").first)
    expect(page.get_by_text("Synken är klar.").first).to_be_visible()
    first_writes = sim.writes()
    assert first_writes
    shot("7-first-sync")
    sim.clear_calls()
    settled()
    click(page.locator(".st-key-pl_sync_preview button").first)
    expect(page.get_by_text("Provkörningens plan har id")).to_be_visible()
    settled()
    click(page.locator(".st-key-pl_sync_approve button").first)
    expect(page.get_by_text("Synken är klar.").first).to_be_visible()
    assert not sim.writes(), "the second run must write nothing"
    shot("8-second-sync")

    # the invariants ---------------------------------------------------------------------------------
    written = {p for c in first_writes for p in re.findall(r"/users/(\d+)", c["path"])}
    assert not written & manual, "no manual M5 record is written"
    users = sim_users(sim)
    person_of = {k[:2]: k[2] for k in known}
    duplicates = [u for u in users if str(u["id"]) not in seed_users and marker_person(u) in person_of]
    assert not duplicates, f"{len(duplicates)} duplicate M5 users"
    links = store.links(LINK_DECISIONS)
    linked = set(zip(links["source"], links["source_id"], links["m5_id"], strict=True))
    precision = len(linked & known) / len(linked)
    wrong = links[[k not in known for k in zip(links["source"], links["source_id"], links["m5_id"], strict=True)]]
    assert precision >= 0.999, (precision, wrong[["source", "source_id", "m5_id", "decision", "probability"]].values.tolist())
    assert median <= 1000  # measured; the benchmark reports it against the 300 ms target
    assert "Traceback" not in log.read_text(errors="replace")


def review_in_excel(workbook: Path, out: Path, known: set[tuple[str, str, str]], *, lowest: int
                    ) -> tuple[Path, list[tuple[str, str, str]]]:
    """The operator's Excel review: the ``lowest`` automatic links by probability, each looked at,
    the wrong ones set to "avvisad"; returns the edited file and the pairs rejected."""
    from openpyxl import load_workbook

    wb = load_workbook(workbook)
    rows = []
    for ws in wb.worksheets[1:]:
        header = [c.value for c in ws[1]]
        col = {name: header.index(name) for name in ("Register-id", "M5-id", "Sannolikhet", "Beslut")}
        for row in ws.iter_rows(min_row=2):
            if row[col["Beslut"]].value == "automatisk":
                p = float(row[col["Sannolikhet"]].value or 1)
                key = (ws.title, str(row[col["Register-id"]].value), str(row[col["M5-id"]].value))
                rows.append((p, key, row[col["Beslut"]]))
    rejected = []
    for _p, key, cell in sorted(rows, key=lambda r: r[0])[:lowest]:
        if key not in known:
            cell.value = "avvisad"
            rejected.append(key)
    wb.save(out)
    return out, rejected


def sim_users(sim) -> list[dict]:
    with sim.client() as client:
        return [dict(u) for u in client.list_users()]


def marker_person(user: dict) -> tuple[str, str] | None:
    """(register, id) of the integration's marker on an M5 user (``passerlink:register:id``)."""
    parts = str(user.get("apireference") or "").split(":")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "passerlink" else None
