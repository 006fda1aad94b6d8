"""Answer -> next question as the browser sees it: the workbench's part of the go-live benchmark.

    python benchmarks/golive_browser.py [--answers 50]
    python benchmarks/golive.py --browser          (calls ``measure(args)``)

The sample world (``data/samples``) behind the real parts: the M5 simulator seeded with its M5
users, ``streamlit run`` exactly as ``passerlink workbench`` starts it, Debian's Chromium under
Playwright. Matching runs from the Matching page; then a simulated operator (``truth_links.csv``)
answers on the Review page by keyboard (J / N), one question at a time, as fast as the page lets
them. Each answer is timed in the page itself: from the keydown to the moment the next question's
card is on screen and nothing of the old card is left (Streamlit marks the old elements stale until
the fragment's run has finished). Target: median <= 300 ms.

Figures are printed, never asserted. The machine may be shared: say so with the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TARGET_MS = 300.0
PAIR = re.compile(r"^(\S+) (\S+) ↔ M5 (\S+) · ")
#: The page is idle: no script run, nothing stale on screen.
SETTLED = """() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state')
                   === 'notRunning' && !document.querySelector('[data-stale="true"]')"""
#: Milliseconds since the last keydown once the card shows another pair and nothing is stale.
NEXT_CARD = """(before) => {
    const el = [...document.querySelectorAll('.st-key-pl_pair')].pop();
    if (document.querySelector('[data-stale="true"]')) return false;
    if (el && el.innerText !== before) return performance.now() - window.__plT0;
    return false;
}"""


def answer_times(url: str, answers: int, known: set[tuple[str, str, str]]) -> list[float]:
    """Open the workbench at ``url``, run matching, answer ``answers`` questions by keyboard;
    the browser's milliseconds from each keydown to the next question's card."""
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(120_000)
            page.goto(f"{url}/matching")
            page.locator(".st-key-pl_run_matching button").click()
            page.get_by_text("Matchningen är klar.").wait_for()
            page.goto(f"{url}/review")
            page.locator(".st-key-pl_pair").last.wait_for()
            page.wait_for_function("() => window.__passerlinkKeys")
            page.locator("h1").first.click()  # keys go to the page, not to a widget
            page.evaluate("""() => document.addEventListener('keydown',
                                () => { window.__plT0 = performance.now(); }, {capture: true})""")
            for _ in range(answers):
                page.wait_for_function(SETTLED)
                text = page.locator(".st-key-pl_pair").last.inner_text()
                m = PAIR.match(text)
                if m is None:
                    break
                page.keyboard.press("j" if (m.group(1), m.group(2), m.group(3)) in known else "n")
                handle = page.wait_for_function(NEXT_CARD, arg=text, polling="raf")
                times.append(float(handle.json_value()))
        finally:
            browser.close()
    return times


def measure(args: argparse.Namespace | None = None) -> list[str]:
    """Start the simulator and the workbench on the sample world, time ``answers`` answers in
    Chromium; returns the lines to print (``benchmarks/golive.py --browser`` prints them)."""
    from passerlink.commands.workbench import streamlit_command
    from passerlink.processes import free_port, start_simulator, stop_process, wait_http
    from passerlink.sampleworld import demo_site, truth_triples

    answers = int(getattr(args, "answers", 50) or 50)
    if not CHROMIUM.exists():
        return [f"browser latency: not measured ({CHROMIUM} is not installed)"]
    for var in ("PASSERLINK_M5_USER", "PASSERLINK_M5_PASSWORD", "PASSERLINK_M5_APIKEY"):
        os.environ.setdefault(var, "demo")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t0 = time.perf_counter()
        sim, m5_url = start_simulator(tmp / "m5sim.sqlite", free_port(), seed=SAMPLES / "m5_seed.json",
                                      log=tmp / "m5sim.log")
        procs = [sim]
        try:
            cfg = demo_site(SAMPLES, tmp / "site", m5_url)
            port = free_port()
            with open(tmp / "streamlit.log", "wb") as out:
                wb = subprocess.Popen(streamlit_command(cfg, port=port), stdout=out, stderr=subprocess.STDOUT,
                                      env=dict(os.environ, PASSERLINK_CONFIG=str(cfg)))
            procs.append(wb)
            wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc=wb, what="the workbench", timeout=90)
            times = answer_times(f"http://127.0.0.1:{port}", answers, truth_triples(SAMPLES))
        finally:
            for p in reversed(procs):
                stop_process(p)
        wall = time.perf_counter() - t0
    if not times:
        return ["browser latency: no question was shown"]
    ordered = sorted(times)
    median = statistics.median(ordered)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    verdict = "OK" if median <= TARGET_MS else "MISSED"
    return [
        f"browser: answer -> next question in Chromium over {len(times)} keyboard answers "
        f"(keydown to the next card drawn, nothing stale): median {median:.0f} ms, p95 {p95:.0f} ms, "
        f"max {ordered[-1]:.0f} ms [target median <= {TARGET_MS:.0f} ms: {verdict}]",
        f"browser: whole measurement {wall:.0f} s (simulator, workbench, matching, {len(times)} answers)",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=50, help="answers to time (default 50)")
    for line in measure(ap.parse_args(argv)):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
