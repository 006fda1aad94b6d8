"""AppTest: the Sources and Sync pages, and the frame around every page."""

from pathlib import Path

from passerlink.matching import LinkDecision, LinkStore
from passerlink.workbench import state as K

APP = str(Path(__file__).resolve().parents[2] / "passerlink" / "app.py")


def texts(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.subheader]
    parts += [e.value for e in at.error] + [e.value for e in at.info] + [e.value for e in at.title]
    return "\n".join(str(p) for p in parts)


def test_frame_without_config_says_how_to_start(restart, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv(K.CONFIG_ENV, raising=False)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "passerlink workbench --config" in at.error[0].value


def test_sources_page_profiles_every_source(app, world):
    at = app().run()
    at.switch_page("workbench/pages/sources.py").run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "hr – csv" in page and "students – csv" in page and "RCard M5" in page
    metrics = {m.label: m.value for m in at.metric}
    assert "Rader" in metrics
    rows = [m.value for m in at.metric if m.label == "Rader"]
    assert rows[:2] == [str(len(world.hr)), str(len(world.students))]
    assert not at.error


def test_sources_page_in_english_shows_reader_errors_as_one_sentence(app, workbench_config):
    (workbench_config.parent / "students.csv").write_bytes(b"")
    at = app("en").run()
    at.switch_page("workbench/pages/sources.py").run()
    assert not at.exception
    assert at.title[0].value == "Sources"
    assert [e.value for e in at.error] == ["The source students could not be read."]
    detail = at.code[0].value  # the reader's own sentence, under "Technical details"
    assert "students.csv" in detail and "Traceback" not in detail


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_sync_page_lists_links_handed_to_the_store(app, workbench_config, world):
    at = app().run()
    at.switch_page("workbench/pages/sync.py").run()
    assert not at.exception
    assert metrics(at)["Länkar i länkregistret"] == "0"
    assert "Länktabellen har inte godkänts ännu: synken ser bara godkända länkar." in texts(at)
    truth = world.truth.head(3)
    store = LinkStore(workbench_config.parent / "state" / "links.sqlite")
    store.record([LinkDecision(r.source, str(r.source_id), str(r.m5_id), d, 0.9, "anna")
                  for r, d in zip(truth.itertuples(), ["confirmed", "manual", "rejected"], strict=True)])
    at.run()
    assert not at.exception
    m = metrics(at)
    assert (m["Länkar i länkregistret"], m["Bekräftade"], m["Manuella"], m["Automatiska (godkända)"]) == ("2", "1", "1", "0")
    assert len(at.dataframe[0].value) == 2


def test_sync_page_dry_run_shows_plan_metrics_and_the_report_files(app, workbench_config, world, m5sim):
    truth = world.truth.head(5)
    LinkStore(workbench_config.parent / "state" / "links.sqlite").record(
        [LinkDecision(r.source, str(r.source_id), str(r.m5_id), "confirmed", 0.9, "anna") for r in truth.itertuples()])
    at = app().run()
    at.switch_page("workbench/pages/sync.py").run()
    assert "Inga rapporter ännu." in [c.value for c in at.caption]
    m5sim.clear_calls()
    at.button(key="pl_sync_preview").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert not m5sim.writes()  # a preview writes nothing to M5
    assert any(i.value.startswith("Provkörningens plan har id") for i in at.info)
    m = metrics(at)
    assert int(m["Skapas"]) + int(m["Till kön"]) > 0 and m["Skrivningar till M5"] == "0"
    situations = next(d.value for d in at.dataframe if "Situation" in d.value.columns)
    assert list(situations.columns) == ["Situation", "Antal"] and len(situations)
    assert not at.code  # no CLI text on the page
    at.run()
    assert at.selectbox(key="pl_sync_report").options  # the dry run's report is listed
    assert at.get("download_button")  # the report files open from the page


def test_optional_password_gate(app, monkeypatch):
    from passerlink.workbench.ui import PASSWORD_ENV

    monkeypatch.setenv(PASSWORD_ENV, "hemligt")
    at = app().run()
    assert not at.exception
    assert not at.title  # nothing shown before login
    at.text_input[0].set_value("fel").run()
    at.button[0].click().run()
    assert not at.title
    at.text_input[0].set_value("hemligt").run()
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Källor"


def test_upload_replaces_a_source_with_the_mapping_prefilled(app, world):
    at = app().run()
    at.switch_page("workbench/pages/sources.py").run()
    staff = world.hr.head(5).rename(columns={"Anställningsnummer": "Anst.nr", "Förnamn": "Förnamn", "Efternamn": "Efternamn"})
    staff = staff.assign(Udda=["x"] * 5)
    data = staff.to_csv(sep=";", index=False).encode("utf-8")
    at.file_uploader(key="pl_upload").set_value(("personal.csv", data, "text/csv")).run()
    assert not at.exception
    at.selectbox(key="pl_upload_target").set_value("hr").run()
    headers = list(staff.columns)
    mapped = {headers[i]: at.selectbox(key=f"pl_map_hr_{i}").value for i in range(len(headers))}
    assert mapped["Förnamn"] == "given_names" and mapped["Efternamn"] == "family_name"
    assert mapped["Personnummer"] == "personnummer" and mapped["Udda"] == ""
    at.selectbox(key="pl_map_hr_0").set_value("employee_number").run()
    at.selectbox(key="pl_id_hr").set_value("Anst.nr").run()
    at.button(key="pl_read_upload").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "Uppladdad fil används: personal.csv" in [i.value for i in at.info]
    rows = [m.value for m in at.metric if m.label == "Rader"]
    assert rows[0] == "5"
    at.button(key="pl_drop_hr").click().run()
    rows = [m.value for m in at.metric if m.label == "Rader"]
    assert rows[0] == str(len(world.hr))


def test_sync_page_approves_and_runs_exactly_the_dry_run_plan(app, workbench_config, world, m5sim):
    truth = world.truth.head(5)
    LinkStore(workbench_config.parent / "state" / "links.sqlite").record(
        [LinkDecision(r.source, str(r.source_id), str(r.m5_id), "confirmed", 0.9, "anna") for r in truth.itertuples()])
    at = app().run()
    at.switch_page("workbench/pages/sync.py").run()
    assert not [b for b in at.button if b.key == "pl_sync_approve"]  # nothing to approve before a dry run
    at.button(key="pl_sync_preview").click().run()
    approve = at.button(key="pl_sync_approve")
    assert not approve.disabled
    m5sim.clear_calls()
    approve.click().run()
    assert not at.exception, at.exception
    assert at.success, [e.value for e in at.error]
    assert at.subheader and "Senaste körningen" in [h.value for h in at.subheader]
    # the linked users were adopted: each now carries the integration's marker
    with m5sim.client() as client:
        for r in truth.itertuples():
            assert client.get_user(int(r.m5_id))["apireference"] == f"passerlink:{r.source}:{r.source_id}"
    assert m5sim.writes()


def test_a_plan_that_changed_since_the_dry_run_stops_and_shows_the_difference(app, workbench_config, world, m5sim):
    truth = world.truth.head(6)
    store = LinkStore(workbench_config.parent / "state" / "links.sqlite")
    store.record([LinkDecision(r.source, str(r.source_id), str(r.m5_id), "confirmed", 0.9, "anna")
                  for r in truth.head(5).itertuples()])
    at = app().run()
    at.switch_page("workbench/pages/sync.py").run()
    at.button(key="pl_sync_preview").click().run()
    r = truth.iloc[5]  # another link after the dry run: the fresh plan is not the approved one
    store.record(LinkDecision(r.source, str(r.source_id), str(r.m5_id), "confirmed", 0.9, "anna"))
    m5sim.clear_calls()
    at.button(key="pl_sync_approve").click().run()
    assert not at.exception, at.exception
    assert not m5sim.writes()  # nothing was written
    assert any("planen har ändrats sedan provkörningen" in e.value for e in at.error), [e.value for e in at.error]
    difference = next(d.value for d in at.dataframe if "Skillnad" in d.value.columns)
    assert len(difference) >= 1 and set(difference["Skillnad"]) <= {"ny i planen", "borta ur planen"}


def test_the_syncs_review_queue_is_answered_on_the_sync_page(app, workbench_config, world, m5sim):
    truth = world.truth.head(5)
    store = LinkStore(workbench_config.parent / "state" / "links.sqlite")
    store.record([LinkDecision(r.source, str(r.source_id), str(r.m5_id), "confirmed", 0.9, "anna")
                  for r in truth.itertuples()])
    at = app().run()
    at.switch_page("workbench/pages/sync.py").run()
    at.button(key="pl_sync_preview").click().run()
    at.button(key="pl_sync_approve").click().run()
    assert not at.exception, at.exception
    header = [h.value for h in at.subheader if h.value.startswith("Granskningskö")]
    assert header, "the first night queues the people an unlinked M5 user may be"
    (editor,) = at.data_editor  # the queue is the page's one editable table
    first = editor.value.iloc[0]
    at.session_state["pl_queue_editor"] = {"edited_rows": {0: {"answer": "ja"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="pl_queue_save").click().run()
    assert not at.exception, at.exception
    assert at.success and any("1 svar sparade" in s.value for s in at.success)
    hist = store.history()
    row = hist[hist["note"] == "sync review queue"]
    assert row[["source", "source_id", "m5_id", "decision"]].values.tolist() == [
        [first["register"], first["source_id"], first["m5_id"], "confirmed"]]
