"""``passerlink links import``: the link table is stored and the M5 users adopted (the marker)."""

from __future__ import annotations

import pandas as pd
import pytest
from _syncworld import make_site

from passerlink.cli import main
from passerlink.errors import InputError
from passerlink.matching import LinkStore
from passerlink.sync import check_link_table, read_link_csv
from passerlink.workbench.excel import export_workbook


@pytest.fixture
def site(tmp_path, m5sim, m5_env):
    return make_site(tmp_path, m5sim, staff=20, pupils=20)


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


def test_workbench_excel_export_is_imported(site, m5sim, tmp_path):
    truth = site.world.truth.head(6)
    table = pd.DataFrame({"register": truth["source"], "source_id": truth["source_id"],
                          "m5_id": truth["m5_id"].astype(str), "decision": "confirmed", "probability": 0.97,
                          "who": "kerstin", "at": ""})
    rejected = table.head(1).assign(m5_id="1", decision="rejected")
    path = tmp_path / "links.xlsx"
    path.write_bytes(export_workbook(pd.concat([table.iloc[1:], rejected]),
                                     registers=sorted(set(truth["source"]))))
    assert main(["links", "import", str(path), "--config", str(site.config_path)]) == 0
    links = LinkStore(site.config().link_store.path).links()
    assert len(links) == 5 and set(links["decision"]) == {"confirmed"}
    users = site.users()
    for s, i, m in zip(table["register"].iloc[1:], table["source_id"].iloc[1:], table["m5_id"].iloc[1:],
                       strict=True):
        assert users[int(m)]["apireference"] == f"passerlink:{s}:{i}"
    assert not users[1]["apireference"].startswith("passerlink:")  # the rejected row adopts nothing


def test_a_table_that_links_twice_is_refused(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("source;source_id;m5_id\nhr;1;5\nhr;1;6\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3.*hr:1 is linked to M5 user 5"):
        check_link_table(read_link_csv(p), name=str(p), sources=["hr"])
    p.write_text("source,source_id,m5_id\nhr,1,5\nhr,2,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="M5 user 5 is linked to hr:1"):
        check_link_table(read_link_csv(p), name=str(p), sources=["hr"])
    p.write_text("source,source_id\nhr,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column 'm5_id'"):
        read_link_csv(p)
    p.write_text("source,source_id,m5_id,decision\nhr,1,5,rejected\nhr,2,abc,manual\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3, column 'm5_id': 'abc'"):
        check_link_table(read_link_csv(p), name=str(p), sources=["hr"])
