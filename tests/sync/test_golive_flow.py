"""Go-live day on the sample world, over HTTP against the simulator: no duplicate, ever.

The sample municipality (``data/samples``: 1,500 staff, 2,000 pupils, 3,613 M5 users, of which
3,191 are truly some register person per ``truth_links.csv``) goes through the flow on the
command line – propose, answer, sign off, export, edit, import, dry run, approve, run – and at
every step the sync's plan creates **no person whose true M5 user exists**: such a person goes to
the operator's review queue instead. Each link store state is one of the combinations the issue
names: auto-links only, auto-links and some answers, after ``links import`` of an edited
workbook, after sign-off. Then the approved plan runs, and the next run has nothing to do.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from passerlink.cli import main
from passerlink.config import load_config
from passerlink.matching import Decision, LinkDecision, LinkStore, oracle_from_pairs
from passerlink.matching.proposals import propose
from passerlink.sampleworld import demo_site
from passerlink.sources import read_m5, read_source
from passerlink.sync.engine import sync_paths
from passerlink.sync.golive import Step, read_golive_status
from passerlink.sync.report import last_report, load_report
from passerlink.workbench.i18n import DECISION_LABELS, text

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"

@pytest.fixture
def truth() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "truth_links.csv", dtype=str)


@pytest.fixture
def sample_m5(m5sim_factory, m5_env):
    return m5sim_factory(seed=SAMPLES / "m5_seed.json")


def _site(folder: Path, sim, name: str) -> Path:
    return demo_site(SAMPLES, folder / name, sim.url)


def _dry_run(config: Path) -> dict:
    assert main(["sync", "--config", str(config), "--dry-run"]) == 0
    return load_report(last_report(sync_paths(load_config(config))[0]))


def _duplicate_creates(report: dict, truth: pd.DataFrame) -> list[tuple[str, str]]:
    """Planned creates of register people whose true M5 user exists (a second card holder)."""
    has_user = set(zip(truth["source"], truth["source_id"], strict=True))
    return [tuple(c["key"]) for c in report["changes"] if c["kind"] == "create" and tuple(c["key"]) in has_user]


def _answer(config: Path, truth: pd.DataFrame, n: int) -> int:
    """A simulated operator (truth_links.csv) answers ``n`` of the joint matching's questions."""
    cfg = load_config(config)
    registers = {s.name: read_source(s, config_path=cfg.config_path).people for s in cfg.sources}
    with _client(cfg) as client:
        m5 = read_m5(client, cfg.m5.columns).people
    result = propose(registers, m5, LinkStore(cfg.link_store.path), who="model")
    session = result.match.session
    operator = oracle_from_pairs(zip(truth["source"] + ":" + truth["source_id"], truth["m5_id"], strict=True))
    pairs = session.uncertain_pairs(n)
    answers = operator(pairs)
    LinkStore(cfg.link_store.path).record([
        LinkDecision(*left.split(":", 1), right, Decision.CONFIRMED if yes else Decision.REJECTED, None, "anna")
        for (left, right), yes in zip(pairs, answers, strict=True)])
    return len(pairs)


def _client(cfg):
    from passerlink.m5 import M5Client

    return M5Client.from_config(cfg.m5, config_path=cfg.config_path)


def _edit_workbook(path: Path, truth: pd.DataFrame, n: int) -> int:
    """Link ``n`` people the export shows without a link to their true M5 user, by hand."""
    wb = openpyxl.load_workbook(path)
    true_m5 = {(s, i): m for s, i, m in zip(truth["source"], truth["source_id"], truth["m5_id"], strict=True)}
    done = 0
    for register in ("hr", "students"):
        ws = wb[register]
        header = [c.value for c in ws[1]]
        col_id, col_m5 = header.index(text("col_source_id", "sv")), header.index(text("col_m5_id", "sv"))
        col_decision = header.index(text("col_decision", "sv"))
        for row in ws.iter_rows(min_row=2):
            sid, m5 = str(row[col_id].value or ""), str(row[col_m5].value or "")
            if done < n and not m5 and (register, sid) in true_m5:
                row[col_m5].value = true_m5[(register, sid)]
                row[col_decision].value = DECISION_LABELS["sv"]["manual"]
                done += 1
    wb.save(path)
    return done


def test_go_live_day_creates_no_duplicate_in_any_combination(tmp_path, sample_m5, truth, capsys):
    # -- auto-links only: propose, sign off at once (the questions stay without a link) ------------
    a = _site(tmp_path, sample_m5, "a")
    assert main(["links", "propose", "--config", str(a)]) == 0
    assert read_golive_status(load_config(a)).next_step is Step.REVIEWED
    assert main(["links", "signoff", "--config", str(a), "--yes"]) == 0
    status = read_golive_status(load_config(a))
    assert status.step is Step.SIGNED_OFF and status.next_step is Step.FIRST_SYNC_APPROVED
    dry = _dry_run(a)
    assert _duplicate_creates(dry, truth) == [], "auto-links only"
    queued = [c for c in dry["changes"] if c["kind"] == "queue"]
    assert queued and dry["needs_approval"]  # the first night is a mass change: it needs an approved plan

    # -- auto-links and some answers (before and after the sign-off) -------------------------------
    b = _site(tmp_path, sample_m5, "b")
    assert main(["links", "propose", "--config", str(b)]) == 0
    assert _answer(b, truth, 40) == 40
    assert main(["links", "signoff", "--config", str(b), "--yes"]) == 0
    seen = _dry_run(b)
    assert _duplicate_creates(seen, truth) == [], "auto-links and some answers, signed off"

    # -- an approval is for exactly the plan the operator saw: a plan that changed since stops ----------
    store_b = LinkStore(load_config(b).link_store.path)
    first = store_b.links().iloc[0]
    store_b.record(LinkDecision(first["source"], first["source_id"], first["m5_id"], Decision.REJECTED, None, "bo"))
    sample_m5.clear_calls()
    assert main(["sync", "--config", str(b), "--approve", seen["plan_id"]]) == 3
    err = capsys.readouterr().err
    assert f"approved {seen['plan_id']}" in err and "operations differ" in err
    assert sample_m5.writes() == []

    # -- links import of the exported workbook, edited: a few people linked by hand -------------------
    book = tmp_path / "links.xlsx"
    assert main(["links", "export", "--config", str(a), "--out", str(book)]) == 0
    assert _edit_workbook(book, truth, 5) == 5
    assert main(["links", "import", str(book), "--config", str(a), "--yes", "--adopt-manual"]) == 0
    dry = _dry_run(a)
    assert _duplicate_creates(dry, truth) == [], "after links import of an edited workbook"

    # -- approve exactly that plan, run it, and the next night has nothing to do -----------------------
    assert main(["sync", "--config", str(a), "--approve", dry["plan_id"]]) == 0
    done = load_report(last_report(sync_paths(load_config(a))[0]))
    assert done["status"] == "done" and done["approval"]["plan_id"] == dry["plan_id"]
    assert _duplicate_creates(done, truth) == []
    with sample_m5.client() as c:
        users = c.list_users()
    markers = pd.Series([u.get("apireference") for u in users if str(u.get("apireference", "")).startswith(
        "passerlink:")])
    assert not markers.duplicated().any()  # one M5 user per register person
    sample_m5.clear_calls()
    again = _dry_run(a)
    assert [c for c in again["changes"] if c["kind"] not in ("queue", "report")] == []
    assert _duplicate_creates(again, truth) == []
    assert read_golive_status(load_config(a)).step is Step.FIRST_SYNC_APPROVED
