"""``passerlink links import``: a link file is checked against the registers and M5 as they are now,
previewed with names, then stored in one transaction and the M5 users adopted (the marker).

The link-file attacks are files in ``tests/badinput/links_*.csv``; their placeholders (``{hr0}``:
the first HR person, ``{m5_of_hr0}``: that person's true M5 user, ``{manual0}``: an M5 user nobody
links) are filled from the generated world, whose ids the generator may change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _syncworld import make_site
from openpyxl import load_workbook

from passerlink.cli import main
from passerlink.errors import InputError
from passerlink.matching import LinkDecision, LinkStore
from passerlink.sync import check_link_table, read_link_csv
from passerlink.sync.engine import sync_paths
from passerlink.sync.lock import RunLock
from passerlink.workbench.excel import export_workbook

BADINPUT = Path(__file__).parents[1] / "badinput"


@pytest.fixture
def site(tmp_path, m5sim, m5_env):
    return make_site(tmp_path, m5sim, staff=20, pupils=20)


def _ids(site) -> dict[str, str]:
    truth = site.world.truth
    hr = truth[truth["source"] == "hr"].reset_index(drop=True)
    st = truth[truth["source"] == "students"].reset_index(drop=True)
    return {"hr0": str(hr["source_id"][0]), "hr1": str(hr["source_id"][1]), "st0": str(st["source_id"][0]),
            "m5_of_hr0": str(hr["m5_id"][0]), "m5_of_hr1": str(hr["m5_id"][1]),
            "manual0": str(min(site.manual_ids()))}


def _attack(site, name: str) -> Path:
    data = (BADINPUT / name).read_bytes()
    for k, v in _ids(site).items():
        data = data.replace(b"{" + k.encode() + b"}", v.encode())
    path = site.folder / name
    path.write_bytes(data)
    return path


def _import(site, path: Path, *extra: str) -> int:
    return main(["links", "import", str(path), "--config", str(site.config_path), *extra])


def _propose(site, pairs) -> None:
    """What the joint matching leaves in the store: proposals with their probability."""
    LinkStore(site.config().link_store.path).record(
        [LinkDecision(s, str(i), str(m), "proposed", 0.97, "model") for s, i, m in pairs])


def test_csv_import_stores_adopts_and_is_idempotent(site, m5sim):
    truth = site.world.truth
    store = LinkStore(site.config().link_store.path)
    m5sim.clear_calls()
    assert site.import_truth() == 0
    links = store.links()
    assert len(links) == len(truth) and set(links["decision"]) == {"manual"}
    users = site.users()
    linked_keys: dict[int, set[str]] = {}
    for s, i, m in zip(truth["source"], truth["source_id"], truth["m5_id"], strict=True):
        linked_keys.setdefault(int(m), set()).add(f"passerlink:{s}:{i}")
    for m, markers in linked_keys.items():
        assert users[m]["apireference"] in markers
    writes = m5sim.writes()
    assert {w["method"] for w in writes} == {"PATCH"}
    assert len(writes) == truth["m5_id"].nunique()
    # importing again changes nothing, in the store or in M5
    count = store.count()
    m5sim.clear_calls()
    assert site.import_truth() == 0
    assert store.count() == count and m5sim.writes() == []
    # manual records were not touched
    for uid in site.manual_ids():
        assert users[uid]["changedby"] != "demo"


def _workbook(site, tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """The workbench's export of a reviewed store: six proposals linked, everyone else unlinked."""
    truth = site.world.truth.head(6)
    _propose(site, zip(truth["source"], truth["source_id"], truth["m5_id"], strict=True))
    linked = pd.DataFrame({"register": truth["source"], "source_id": truth["source_id"].astype(str),
                           "m5_id": truth["m5_id"].astype(str), "decision": "auto", "probability": 0.97,
                           "who": "", "at": ""})
    rest = []
    for name, col in (("hr", "Anställningsnummer"), ("students", "Elev-ID")):
        reg = getattr(site.world, "hr" if name == "hr" else "students")
        ids = [str(i) for i in reg[col] if str(i) not in set(linked["source_id"])]
        rest.append(pd.DataFrame({"register": name, "source_id": ids, "m5_id": "", "decision": ""}))
    table = pd.concat([linked, *rest], ignore_index=True)
    path = tmp_path / "links.xlsx"
    path.write_bytes(export_workbook(table, registers=["hr", "students"]))
    return path, linked


def test_the_workbench_export_is_imported_unchanged_and_edited(site, m5sim, tmp_path, capsys):
    path, linked = _workbook(site, tmp_path)
    store = LinkStore(site.config().link_store.path)
    # unchanged: the rows without an M5 id are "no link" decisions, not errors
    assert _import(site, path) == 0
    out = capsys.readouterr().out
    assert "6 new links" in out and "rows without a link" in out
    links = store.links()
    assert len(links) == 6 and set(links["decision"]) == {"confirmed"}
    users = site.users()
    for s, i, m in zip(linked["register"], linked["source_id"], linked["m5_id"], strict=True):
        assert users[int(m)]["apireference"] == f"passerlink:{s}:{i}"

    # edited: the operator rejects one pair and empties the M5 id of another (no link after all)
    wb = load_workbook(path)
    ws = wb[linked["register"].iloc[0]]
    header = [c.value for c in ws[1]]
    dec, mid, sid = header.index("Beslut") + 1, header.index("M5-id") + 1, header.index("Register-id") + 1
    rows = {str(ws.cell(row=r, column=sid).value): r for r in range(2, ws.max_row + 1)}
    rejected, emptied, withdrawn = (linked["source_id"].iloc[i] for i in range(3))
    ws.cell(row=rows[rejected], column=dec).value = "avvisad"
    ws.cell(row=rows[emptied], column=mid).value = None
    ws.cell(row=rows[withdrawn], column=dec).value = "avlänkad"
    wb.save(path)
    assert _import(site, path) == 0
    now = {(r.source_id, r.m5_id): r.decision for r in store.current().itertuples()}
    assert now[(rejected, linked["m5_id"].iloc[0])] == "rejected"
    assert now[(emptied, linked["m5_id"].iloc[1])] == "unlinked"
    assert now[(withdrawn, linked["m5_id"].iloc[2])] == "unlinked"
    assert len(store.links()) == 3


CASES = [
    ("links_unknown_register_id.csv", (), "row 2, column 'source_id': 99999999 is not in the register 'hr' as it "
                                          "reads now"),
    ("links_missing_m5_user.csv", ("--adopt-manual",), "row 2, column 'm5_id': M5 user 999999 does not exist in M5"),
    ("links_manual_user.csv", (), "is a manual record (no marker of ours, never proposed by the matcher"),
    ("links_one_user_two_people.csv", ("--adopt-manual",), "row 3: M5 user {m5_of_hr0} is linked to hr:{hr0} on "
                                                           "row 2 and to hr:{hr1} here"),
    ("links_person_twice.csv", ("--adopt-manual",), "row 3: hr:{hr0} is linked to M5 user {m5_of_hr0} on row 2"),
    ("links_m5_id_not_a_number.csv", (), "row 2, column 'm5_id': '12abc' is not an M5 user id"),
    ("links_unknown_register.csv", (), "row 2, column 'source': 'payroll' is not a register of the config"),
    ("links_nul.csv", (), "not a text file (it holds NUL bytes)"),
    ("links_no_m5_column.csv", (), "the link table has no column 'm5_id'"),
    ("links_header_only.csv", (), "the link table has no rows"),
    ("links_user_for_employee_and_other_pupil.csv", ("--adopt-manual",),
     "would be linked to two people, hr:{hr0} and students:"),
]


@pytest.mark.parametrize(("name", "extra", "says"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_link_file_is_refused_with_one_sentence_and_nothing_written(site, m5sim, capsys, name, extra, says):
    store = LinkStore(site.config().link_store.path)
    m5sim.clear_calls()
    assert _import(site, _attack(site, name), *extra) == 2
    err = capsys.readouterr().err
    assert says.format(**_ids(site)) in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert store.count() == 0 and m5sim.writes() == []


def test_a_second_import_cannot_give_one_m5_user_two_people(site, m5sim, capsys):
    ids = _ids(site)
    first = site.folder / "first.csv"
    first.write_text(f"source,source_id,m5_id\nhr,{ids['hr0']},{ids['m5_of_hr0']}\n", encoding="utf-8")
    assert _import(site, first, "--adopt-manual") == 0
    store = LinkStore(site.config().link_store.path)
    count = store.count()
    second = site.folder / "second.csv"
    second.write_text(f"source,source_id,m5_id\nhr,{ids['hr1']},{ids['m5_of_hr0']}\n", encoding="utf-8")
    m5sim.clear_calls()
    assert _import(site, second, "--adopt-manual") == 2
    assert "would be linked to two people" in capsys.readouterr().err
    assert store.count() == count and m5sim.writes() == []
    # moving the first person elsewhere in the same file frees the user: allowed
    second.write_text(f"source,source_id,m5_id\nhr,{ids['hr1']},{ids['m5_of_hr0']}\nhr,{ids['hr0']},"
                      f"{ids['m5_of_hr1']}\n", encoding="utf-8")
    assert _import(site, second, "--adopt-manual") == 0
    links = {(r.source_id): r.m5_id for r in store.links().itertuples()}
    assert links == {ids["hr1"]: ids["m5_of_hr0"], ids["hr0"]: ids["m5_of_hr1"]}


def test_adopting_a_manual_user_is_listed_by_name_and_a_proposed_pair_is_not_manual(site, m5sim, capsys):
    ids = _ids(site)
    path = _attack(site, "links_manual_user.csv")
    manual = next(u for u in site.world.m5_seed["users"] if str(u["id"]) == ids["manual0"])
    assert _import(site, path, "--adopt-manual", "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"adopt {manual['firstname']} {manual['lastname']} (M5 {ids['manual0']}) for hr:{ids['hr0']}" in out
    assert LinkStore(site.config().link_store.path).count() == 0  # a dry run stores nothing
    assert _import(site, path, "--adopt-manual") == 0
    out = capsys.readouterr().out
    assert f"adopted manual M5 user {manual['firstname']} {manual['lastname']} (M5 {ids['manual0']})" in out
    (report,) = (site.folder / "reports").glob("links-import-*.json")
    record = json.loads(report.read_text(encoding="utf-8"))
    assert [r["m5_user"] for r in record["adopted_manual"]] == [
        f"{manual['firstname']} {manual['lastname']} (M5 {ids['manual0']})"]
    assert record["counts"]["new_links"] == 1 and record["who"]
    # a pair the matcher proposed is no manual adoption
    truth = site.folder / "pair.csv"
    truth.write_text(f"source,source_id,m5_id\nhr,{ids['hr1']},{ids['m5_of_hr1']}\n", encoding="utf-8")
    assert _import(site, truth) == 2
    _propose(site, [("hr", ids["hr1"], ids["m5_of_hr1"])])
    assert _import(site, truth) == 0


def test_the_import_takes_the_sync_run_lock(site, m5sim, capsys):
    path = _attack(site, "links_manual_user.csv")
    with RunLock(sync_paths(site.config())[2]):
        assert _import(site, path, "--adopt-manual") == 1
    assert "another passerlink sync is running" in capsys.readouterr().err
    assert LinkStore(site.config().link_store.path).count() == 0 and m5sim.writes() == []


def test_table_checks_on_their_own(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("source;source_id;m5_id\nhr;1;5\nhr;1;6\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3.*hr:1 is linked to M5 user 5"):
        check_link_table(read_link_csv(p), name=str(p), sources=["hr"])
    p.write_text("source,source_id,m5_id\nhr,1,5\nhr,2,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="M5 user 5 is linked to hr:1"):
        check_link_table(read_link_csv(p), name=str(p), sources=["hr"])
    p.write_text("source,source_id,m5_id,decision\nhr,1,5,rejected\nhr,2,abc,manual\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3, column 'm5_id': 'abc'"):
        check_link_table(read_link_csv(p), name=str(p), sources=["hr"])
    # rows without an M5 id are "no link" decisions; open proposals and questions decide nothing
    p.write_text("source,source_id,m5_id,decision\nhr,1,,\nhr,2,7,unsure\nhr,3,8,\nhr,4,9,question\n"
                 "hr,5,10,unlinked\n", encoding="utf-8")
    t = check_link_table(read_link_csv(p), name=str(p), sources=["hr"])
    assert t[["source_id", "m5_id", "decision"]].values.tolist() == [
        ["1", "", ""], ["2", "7", "unsure"], ["3", "8", "manual"], ["5", "10", "unlinked"]]


def test_the_link_file_corpus_is_complete():
    """Every link-file attack in tests/badinput is a case here (the extract corpus leaves them to us)."""
    files = {p.name for p in BADINPUT.glob("links_*")}
    assert files == {c[0] for c in CASES} and len(CASES) >= 10


def test_m5_failing_while_adopting_keeps_the_stored_links_and_says_so(site, m5sim, capsys):
    cfg = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(cfg.replace("timeout_seconds = 5.0", "timeout_seconds = 5.0\nretries = 0"),
                                encoding="utf-8")
    m5sim.set_faults({"methods": ["PATCH"], "error500": 1.0})
    assert site.import_truth() == 1
    err = capsys.readouterr().err
    assert "M5 failed after 0 adoptions" in err and "the links are stored" in err and "Traceback" not in err
    assert len(LinkStore(site.config().link_store.path).links()) == len(site.world.truth)
    m5sim.set_faults({})
    assert site.import_truth() == 0  # the rerun adopts them all
    users = site.users()
    assert all(str(users[int(m)]["apireference"]).startswith("passerlink:") for m in site.world.truth["m5_id"])
