"""AppTest: the Links page on the link store alone (as after a restart, before matching runs):
the table, filters, the Excel export read back cell by cell, and a re-import applied exactly."""

import io

from openpyxl import load_workbook

from passerlink.matching import LinkDecision, LinkStore
from passerlink.workbench import state as K

INJECTION = '=HYPERLINK("http://x","y")'


def frame_with(at, column: str):
    """The first data frame on the page that has ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _store(cfg) -> LinkStore:
    return LinkStore(cfg.parent / "state" / "links.sqlite")


def _poison(cfg, world) -> str:
    """Give one HR person a formula as given name, in the register file itself."""
    hr = world.hr.copy()
    victim = hr.iloc[0]["Anställningsnummer"]
    hr.loc[hr.index[0], "Förnamn"] = INJECTION
    hr.loc[hr.index[0], "Tilltalsnamn"] = ""
    path = cfg.parent / "hr_export.csv"
    path.write_bytes(hr.to_csv(sep=";", index=False, lineterminator="\r\n").encode("cp1252"))
    return str(victim)


def _links_page(app):
    at = app().run()
    at.switch_page("workbench/pages/links.py").run()
    assert not at.exception, at.exception
    return at


def test_links_table_filters_and_search(app, workbench_config, world):
    truth = world.truth[world.truth["source"] == "hr"].head(3)
    _store(workbench_config).record([
        LinkDecision("hr", str(r.source_id), str(r.m5_id), d, p, "anna")
        for r, d, p in zip(truth.itertuples(), ["confirmed", "rejected", "manual"], [0.8, 0.3, None], strict=True)
    ])
    at = _links_page(app)
    assert at.info[0].value.startswith("Visar länkregistret")
    table = frame_with(at, "Beslut")
    assert len(table) == 3
    first = world.hr.set_index("Anställningsnummer").loc[str(truth.iloc[0].source_id)]
    assert first["Efternamn"] in set(table["Efternamn"])
    assert set(table["Beslut"]) == {"bekräftad", "avvisad", "manuell"}
    assert all(v.endswith("-****") or v == "" for v in table["Personnummer"])  # masked on screen
    at.multiselect(key=K.LINK_FILTER).set_value(["rejected"]).run()
    assert list(frame_with(at, "Beslut")["Beslut"]) == ["avvisad"]
    at.multiselect(key=K.LINK_FILTER).set_value([]).run()
    at.text_input(key=K.LINK_SEARCH).set_value(str(truth.iloc[2].source_id)).run()
    assert list(frame_with(at, "Beslut")["Register-id"]) == [str(truth.iloc[2].source_id)]


def test_export_read_back_and_reimport_applies_exactly_the_edits(app, workbench_config, world):
    victim = _poison(workbench_config, world)
    truth = world.truth[world.truth["source"] == "hr"]
    victim_m5 = str(truth[truth["source_id"] == victim].m5_id.iloc[0]) if (truth["source_id"] == victim).any() else "1"
    pairs = [(victim, victim_m5, "confirmed")] + [
        (str(r.source_id), str(r.m5_id), "confirmed") for r in truth[truth["source_id"] != victim].head(2).itertuples()
    ]
    store = _store(workbench_config)
    store.record([LinkDecision("hr", s, m, d, 0.75, "anna") for s, m, d in pairs])
    at = _links_page(app)
    at.button(key="pl_make_export").click().run()
    assert not at.exception
    data = at.session_state[K.EXPORT_BYTES]
    assert at.download_button(key="pl_download")

    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Sammanfattning", "hr", "students"]
    ws = wb["hr"]
    header = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    assert len(rows) == len(world.hr)  # every HR person: three linked, the rest without link
    r = rows[victim]
    assert ws.cell(row=r, column=col["Förnamn"]).value == "'" + INJECTION
    assert ws.cell(row=r, column=col["Förnamn"]).data_type == "s"
    assert ws.cell(row=r, column=col["M5-id"]).value == victim_m5
    assert ws.cell(row=r, column=col["Beslut"]).value == "bekräftad"
    assert ws.cell(row=r, column=col["Beslutad av"]).value == "anna"
    pnr = ws.cell(row=r, column=col["Personnummer"]).value
    assert pnr.endswith("-****")
    letter = ws.cell(row=1, column=col["Beslut"]).column_letter
    assert [str(dv.sqref) for dv in ws.data_validations.dataValidation] == [f"{letter}2:{letter}{ws.max_row}"]
    summary = {c.value for row in wb["Sammanfattning"].iter_rows() for c in row}
    assert "testare" in summary and "maskerade" in summary

    # edit: reject the victim's link, confirm nothing else; an untouched row stays untouched
    ws.cell(row=r, column=col["Beslut"]).value = "avvisad"
    buf = io.BytesIO()
    wb.save(buf)
    before = store.count()
    at.file_uploader(key="pl_import_file").set_value(("edited.xlsx", buf.getvalue(), "application/octet-stream")).run()
    assert not at.exception
    preview = frame_with(at, "Före")
    assert preview[["Register-id", "M5-id", "Före", "Efter"]].values.tolist() == [[victim, victim_m5, "bekräftad", "avvisad"]]
    assert preview["Person"].iloc[0] and preview["RCard M5"].iloc[0]  # names beside the ids
    assert store.count() == before  # nothing written before the operator applies it
    at.button(key="pl_apply_import").click().run()
    assert not at.exception
    assert store.count() == before + 1
    last = store.history().iloc[-1]
    assert (last.source, last.source_id, last.m5_id, last.decision, last.who) == ("hr", victim, victim_m5, "rejected", "testare")
    assert last.note == "excel import: edited.xlsx"


def test_unmasked_export_on_request(app, workbench_config, world):
    at = _links_page(app)
    at.checkbox(key=K.SHOW_PERSONNUMMER).check().run()
    at.button(key="pl_make_export").click().run()
    ws = load_workbook(io.BytesIO(at.session_state[K.EXPORT_BYTES]))["students"]
    header = [c.value for c in ws[1]]
    values = [ws.cell(row=r, column=header.index("Personnummer") + 1).value for r in range(2, ws.max_row + 1)]
    assert any(v and len(v) == 12 and v.isdigit() for v in values)


def test_stored_links_are_read_again_only_when_the_store_grew(workbench_config, monkeypatch):
    from passerlink.workbench import Workspace

    ws = Workspace(workbench_config)
    assert ws.stored_links().empty
    _store(workbench_config).record(LinkDecision("hr", "E1", "7", "confirmed", 0.9, "anna"))  # another process
    reads = []
    real = ws.store.current
    monkeypatch.setattr(ws.store, "current", lambda: reads.append(1) or real())
    first = ws.stored_links()
    assert list(first[["register", "source_id", "m5_id", "decision"]].itertuples(index=False, name=None)) == [
        ("hr", "E1", "7", "confirmed")]
    first.loc[0, "decision"] = "rejected"  # a caller's copy: the cached table stays as stored
    assert ws.stored_links()["decision"].tolist() == ["confirmed"]
    assert len(reads) == 1
    _store(workbench_config).record(LinkDecision("hr", "E1", "7", "rejected", 0.9, "bo"))
    assert ws.stored_links()["decision"].tolist() == ["rejected"]
    assert len(reads) == 2


def test_links_with_people_are_rebuilt_only_when_links_or_people_changed(workbench_config, world, monkeypatch):
    from passerlink.workbench import Workspace, linktable

    ws = Workspace(workbench_config)
    builds = []
    real = linktable.with_people
    monkeypatch.setattr(linktable, "with_people", lambda *a: builds.append(1) or real(*a))
    assert ws.link_table_with_people().empty
    assert ws.link_table_with_people().empty
    assert len(builds) == 1
    r = world.truth[world.truth["source"] == "hr"].iloc[0]
    _store(workbench_config).record(LinkDecision("hr", str(r.source_id), str(r.m5_id), "confirmed", 0.9, "anna"))
    wide = ws.link_table_with_people()
    assert len(builds) == 2
    hr = world.hr.set_index("Anställningsnummer").loc[str(r.source_id)]
    assert wide["family_name"].tolist() == [hr["Efternamn"]] and wide["m5_family_name"].tolist() != [""]
    ws.sources(reload=True)  # the people may have changed
    ws.link_table_with_people()
    assert len(builds) == 3


def test_stored_links_with_people_never_read_a_source(workbench_config, world):
    from passerlink.workbench import Workspace

    r = world.truth[world.truth["source"] == "hr"].iloc[0]
    _store(workbench_config).record(LinkDecision("hr", str(r.source_id), str(r.m5_id), "confirmed", 0.9, "anna"))
    ws = Workspace(workbench_config)
    assert ws.link_table_with_people(stored_only=True)["family_name"].tolist() == [""]
    assert ws.people() == ({}, None)  # nothing was read for it
    ws.sources()
    hr = world.hr.set_index("Anställningsnummer").loc[str(r.source_id)]
    assert ws.link_table_with_people(stored_only=True)["family_name"].tolist() == [hr["Efternamn"]]
