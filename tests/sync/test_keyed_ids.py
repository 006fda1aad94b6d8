"""A register keyed by personnummer (issue 13): markers, links, reports and exports carry a keyed
hash, never the number; the Excel round trip still works."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from _syncworld import make_site
from openpyxl import load_workbook

from passerlink.cli import main
from passerlink.config import load_config
from passerlink.errors import ConfigError
from passerlink.features import normalize_personnummer
from passerlink.matching import LinkStore
from passerlink.people import CANONICAL_COLUMNS, PeopleTable
from passerlink.sync.keys import Keyer, ids_look_like_personnummer, is_keyed_id, keyer_for
from passerlink.workbench.excel import export_workbook

SECRET_ENV = "PASSERLINK_ID_SECRET"
PNR = "200811153055"


def test_keyer_is_stable_keyed_and_accepts_both_forms():
    k = Keyer(frozenset({"students"}), b"site secret")
    key = k.key("students", PNR)
    assert is_keyed_id(key) and PNR not in key and PNR[:8] not in key
    assert k.key("students", "20081115-3055") == key == k.key("students", "081115-3055")  # any written form
    assert k.key("students", key) == key  # an id from an export passes through
    assert Keyer(frozenset({"students"}), b"another secret").key("students", PNR) != key
    assert k.key("hr", "12345") == "12345"  # other sources keep their ids
    assert ids_look_like_personnummer([PNR, "20081115-3055", "081115-3055", ""])
    assert not ids_look_like_personnummer(["12345", "b0e3a870-d6fe"])


def _keyed_site(tmp_path, m5sim, flag: str = ""):
    site = make_site(tmp_path, m5sim, staff=20, pupils=20, sync_toml='[sync.situations]\nnew = "create"\n')
    text = site.config_path.read_text(encoding="utf-8").replace('id_column = "Elev-ID"',
                                                                  f'id_column = "Personnummer"\n{flag}')
    site.config_path.write_text(text, encoding="utf-8")
    return site


def _links_by_personnummer(site):
    """The true links, pupils named by their personnummer (as a school system would)."""
    st = site.world.students
    pnr_of = dict(zip(st["Elev-ID"].astype(str), st["Personnummer"].astype(str), strict=True))
    t = site.world.truth
    rows = [(s, pnr_of[str(i)] if s == "students" else str(i), str(m))
            for s, i, m in zip(t["source"], t["source_id"], t["m5_id"], strict=True)]
    path = site.folder / "links_pnr.csv"
    pd.DataFrame(rows, columns=["source", "source_id", "m5_id"]).to_csv(path, index=False)
    return path, [r for r in rows if r[0] == "students"]


def _numbers(site) -> set[str]:
    st = site.world.students["Personnummer"].astype(str)
    return {normalize_personnummer(p) for p in st if normalize_personnummer(p)}


def _leaks(text: str, numbers: set[str]) -> list[str]:
    found = set(re.findall(r"\d{12}|\d{8}-\d{4}|\d{6}-\d{4}", text))
    return [f for f in found if normalize_personnummer(f) in numbers]


@pytest.mark.parametrize("flag", ["id_is_personnummer = true", ""], ids=["configured", "detected"])
def test_a_register_keyed_by_personnummer_never_shows_the_number(tmp_path, m5sim, m5_env, monkeypatch, flag):
    site = _keyed_site(tmp_path, m5sim, flag)
    path, pupils = _links_by_personnummer(site)
    # without the site secret the number is never used in its place: exit 2, naming the variable
    monkeypatch.delenv(SECRET_ENV, raising=False)
    assert main(["links", "import", str(path), "--config", str(site.config_path), "--adopt-manual"]) == 2
    monkeypatch.setenv(SECRET_ENV, "kommunens hemlighet")
    assert main(["links", "import", str(path), "--config", str(site.config_path), "--adopt-manual"]) == 0
    numbers = _numbers(site)

    store = LinkStore(load_config(site.config_path).link_store.path)
    stored = store.links()
    keyed = stored[stored["source"] == "students"]["source_id"]
    assert len(keyed) == len(pupils) and all(is_keyed_id(i) for i in keyed)
    assert _leaks(store.history().to_csv(), numbers) == []

    run = site.sync(allow_mass_changes=True)
    assert run.exit_code == 0, run.report.get("stop_reason")
    users = site.users()
    markers = [u["apireference"] for u in users.values() if str(u.get("apireference", "")).startswith(
        "passerlink:students:")]
    assert markers and all(is_keyed_id(m.split(":", 2)[2]) for m in markers)
    assert _leaks("\n".join(str(u.get("apireference")) for u in users.values()), numbers) == []
    for p in run.paths.values():
        if p.suffix in (".json", ".html"):
            assert _leaks(p.read_text(encoding="utf-8"), numbers) == [], p
    # converged: the linked pupils were adopted, not created again
    assert len(markers) == len(set(markers)) == len(site.world.students)
    again = site.sync()
    assert again.exit_code == 0 and again.report["m5_writes"] == 0

    # the workbench's own export (passerlink links export): keyed ids, personnummer masked, and
    # importing it back changes nothing
    book = site.folder / "workbench.xlsx"
    assert main(["links", "export", "--config", str(site.config_path), "--out", str(book)]) == 0
    wb = load_workbook(book, read_only=True)
    cells = "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
                      if v is not None)
    wb.close()
    assert _leaks(cells, numbers) == [] and "pk-" in cells
    count = store.count()
    assert main(["links", "import", str(book), "--config", str(site.config_path)]) == 0
    assert store.count() == count

    # the Excel round trip: the store's links exported and imported back change nothing
    cur = store.links().rename(columns={"source": "register"})
    xlsx = site.folder / "export.xlsx"
    xlsx.write_bytes(export_workbook(cur.assign(model_version=""), registers=["hr", "students"]))
    count = store.count()
    assert main(["links", "import", str(xlsx), "--config", str(site.config_path)]) == 0
    assert store.count() == count


def _config(tmp_path, flag: str = ""):
    path = tmp_path / "site.toml"
    path.write_text(f'[[sources]]\nname = "students"\nkind = "csv"\npath = "s.csv"\nid_column = "Personnummer"\n'
                    f"{flag}\n", encoding="utf-8")
    return load_config(path)


def _table(ids):
    people = pd.DataFrame([{c: "" for c in CANONICAL_COLUMNS} | {"source": "students", "source_id": i} for i in ids],
                          columns=CANONICAL_COLUMNS)
    return {"students": PeopleTable("students", people)}


def test_a_half_personnummer_register_must_say_what_its_ids_are(tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "s")
    half = _table([PNR, "20081115-3055", "T-0001", "T-0002"])
    with pytest.raises(ConfigError, match="50% of its ids are personnummer; say whether .*id_is_personnummer"):
        keyer_for(_config(tmp_path), half)
    assert keyer_for(_config(tmp_path, "id_is_personnummer = true"), half).sources == {"students"}
    assert keyer_for(_config(tmp_path, "id_is_personnummer = false"), half).sources == frozenset()
    assert keyer_for(_config(tmp_path), _table(["b0e3a870", "e19c8031"])).sources == frozenset()


def test_markers_written_with_the_number_before_keying_are_found_and_rewritten(tmp_path, m5sim, m5_env,
                                                                               monkeypatch):
    """A site that synced its pupils by personnummer before keying: the M5 users carry
    passerlink:students:<personnummer>. Once keyed, the sync still finds each user by its old
    marker (no create, no deactivation) and rewrites the marker to the keyed hash."""
    site = _keyed_site(tmp_path, m5sim, "id_is_personnummer = false")
    path, pupils = _links_by_personnummer(site)
    assert main(["links", "import", str(path), "--config", str(site.config_path), "--adopt-manual"]) == 0
    assert site.sync(allow_mass_changes=True).exit_code == 0
    raw = [u["apireference"] for u in site.users().values()
           if str(u.get("apireference", "")).startswith("passerlink:students:")]
    assert raw and all(normalize_personnummer(m.split(":", 2)[2]) for m in raw)

    # keyed from now on, and the link store lost: only the markers tell who is who
    text = site.config_path.read_text(encoding="utf-8").replace("id_is_personnummer = false",
                                                                 "id_is_personnummer = true")
    site.config_path.write_text(text, encoding="utf-8")
    monkeypatch.setenv(SECRET_ENV, "kommunens hemlighet")
    for p in site.folder.glob("links.sqlite*"):
        p.unlink()
    run = site.sync(allow_mass_changes=True)
    assert run.exit_code == 0, run.report.get("stop_reason")
    kinds = [c["kind"] for c in run.report["changes"] if c.get("key") and c["key"][0] == "students"]
    assert "create" not in kinds and "deactivate" not in kinds
    markers = [u["apireference"] for u in site.users().values()
               if str(u.get("apireference", "")).startswith("passerlink:students:")]
    assert len(markers) == len(raw) and all(is_keyed_id(m.split(":", 2)[2]) for m in markers)
    assert _leaks("\n".join(markers), _numbers(site)) == []
