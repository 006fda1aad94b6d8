"""AppTest: the Matching and Review pages – answers persisted at once, undo, conflicts, table
mode, and everything still there after a restart of the app."""

from __future__ import annotations

from passerlink.matching import LinkDecision, LinkStore
from passerlink.workbench import state as K


def _store(cfg) -> LinkStore:
    return LinkStore(cfg.parent / "state" / "links.sqlite")


def _review(at):
    at.switch_page("workbench/pages/review.py").run()
    assert not at.exception, at.exception
    return at


OPERATOR_ROWS = ["confirmed", "rejected", "unsure", "manual", "unlinked", "undone"]


def _answers(store):
    """The operator's rows of the store (the model's proposals are stored beside them)."""
    hist = store.history()
    return hist[hist["decision"].isin(OPERATOR_ROWS)].reset_index(drop=True)


def _pair(at) -> tuple[str, str]:
    """(register id, M5 id) of the question on the card (its caption: "hr 12 ↔ M5 7 · ...")."""
    text = next(c.value for c in at.caption if " ↔ M5 " in c.value)
    left, right = text.split(" · ")[0].split(" ↔ M5 ")
    return left.split(" ", 1)[1], right


def _progress_text(at) -> str:
    return next(e.proto.text for e in at.get("progress"))


def test_matching_page_runs_and_reports(app):
    at = app().run()
    at.switch_page("workbench/pages/matching.py").run()
    assert not at.exception
    assert at.info[0].value == "Matchningen har inte körts ännu."
    at.button(key="pl_run_matching").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "Matchningen är klar."
    labels = [m.label for m in at.metric]
    assert labels.count("Kandidatpar") == 2 and "Autolänk" in labels and "Osäkra par" in labels
    candidates = [m.value for m in at.metric if m.label == "Kandidatpar"]
    assert all(int(v.replace("\u202f", "")) > 0 for v in candidates)
    thresholds = [d.value for d in at.dataframe if "Tröskel" in d.value.columns]
    assert len(thresholds) == 2 and list(thresholds[0]["Tröskel"])[:2] == [0.5, 0.6]
    left = next(m.value for m in at.metric if m.label == "Frågor kvar (uppskattning)")
    at = _review(at)  # the Review page plans by the same number
    assert f"ungefär {left} frågor kvar" in _progress_text(at)


def test_review_answers_persist_and_survive_a_restart(app, workbench_config, world, restart):
    truth = {(r.source, str(r.source_id), str(r.m5_id)) for r in world.truth.itertuples()}
    at = _review(app().run())
    assert at.subheader[0].value == "Är det samma person?"
    assert "0 besvarade" in _progress_text(at)
    store = _store(workbench_config)
    answered = []
    for key in ("pl_yes", "pl_no", "pl_unsure"):
        at.button(key=key).click().run()
        assert not at.exception, at.exception
        answered.append(_answers(store).iloc[-1])
    assert [a.decision for a in answered] == ["confirmed", "rejected", "unsure"]
    assert all(a.who == "testare" for a in answered)
    assert len({(a.source, a.source_id, a.m5_id) for a in answered}) == 3
    assert "3 besvarade" in _progress_text(at)
    assert at.success[0].value == "Sparat: osäker."

    at.button(key="pl_undo").click().run()
    assert not at.exception
    assert at.info[0].value == "Ångrat: osäker."
    assert _answers(store).iloc[-1].decision == "undone"
    assert "2 besvarade" in _progress_text(at)
    q = (answered[2].source, answered[2].source_id, answered[2].m5_id)
    # the undone question is on screen again
    assert _pair(at) == (q[1], q[2])

    restart()  # the server restarts: every cached resource is gone, only the link store remains
    at2 = _review(app().run())
    assert "2 besvarade" in _progress_text(at2)
    asked_before = {(a.source_id, a.m5_id) for a in answered[:2]}
    assert _pair(at2) not in asked_before
    at2.switch_page("workbench/pages/links.py").run()
    assert not at2.exception
    table = next(d.value for d in at2.dataframe if "Beslut" in d.value.columns)
    decided = table[table["Beslut"].isin(["bekräftad", "avvisad"])]
    assert sorted(zip(decided["Register-id"], decided["M5-id"], strict=True)) == sorted(asked_before)
    _ = truth


def test_conflict_shown_and_resolved(app, workbench_config, world):
    hr = world.truth[world.truth["source"] == "hr"].head(2)
    (a, ma), (b, _mb) = [(str(r.source_id), str(r.m5_id)) for r in hr.itertuples()]
    store = _store(workbench_config)
    store.record([LinkDecision("hr", a, ma, "manual", None, "anna"), LinkDecision("hr", b, ma, "manual", None, "bo")])
    at = _review(app().run())
    exp = [e for e in at.expander if e.label.startswith("Konflikter")]
    assert exp and exp[0].label != "Konflikter (0)"
    radio = at.radio(key=f"pl_conflict_m5_{ma}")
    assert len(radio.options) == 3  # both people and "none of them"
    keep = next(i for i, label in enumerate(radio.options) if f"hr {a} " in label)
    radio.set_value(keep).run()
    at.button(key=f"pl_resolve_m5_{ma}").click().run()
    assert not at.exception
    cur = store.current().set_index(["source_id", "m5_id"])["decision"]
    assert cur[(b, ma)] == "rejected" and cur[(a, ma)] == "manual"
    assert f"pl_conflict_m5_{ma}" not in [r.key for r in at.radio]


def test_table_mode_confirms_kept_and_rejects_unticked_auto_links(app, workbench_config):
    at = _review(app().run())
    at.radio(key=K.REVIEW_MODE).set_value("table").run()
    assert not at.exception
    at.number_input(key="pl_table_limit").set_value(10).run()
    (editor,) = at.data_editor
    shown = editor.value
    assert len(shown) == 10 and shown["keep"].all()
    assert list(shown["probability"]) == sorted(shown["probability"])  # least sure first
    at.session_state["pl_table_editor"] = {"edited_rows": {1: {"keep": False}}, "added_rows": [], "deleted_rows": []}
    at.button(key="pl_save_table").click().run()
    assert not at.exception, at.exception
    hist = _answers(_store(workbench_config))
    assert len(hist) == 10 and set(hist["note"]) == {"table review"}
    rejected = hist[hist["decision"] == "rejected"]
    assert list(zip(rejected["source_id"], rejected["m5_id"], strict=True)) == [(shown.iloc[1]["source_id"], shown.iloc[1]["m5_id"])]
    assert (hist["decision"] == "confirmed").sum() == 9
    assert at.success[0].value == "9 bekräftade, 1 avvisade."


def test_links_page_manual_link_and_sign_off(app, workbench_config, world):
    at = _review(app().run())  # builds the engine
    at.switch_page("workbench/pages/links.py").run()
    assert not at.exception
    store = _store(workbench_config)
    hr_ids = set(world.hr["Anställningsnummer"].astype(str))
    linked = {str(r.source_id) for r in world.truth[world.truth["source"] == "hr"].itertuples()}
    person = sorted(hr_ids - linked)[0]  # an employee the truth links to nobody
    user = str(world.m5_seed["users"][-1]["id"])
    at.text_input(key="pl_manual_source_id").set_value(person)
    at.text_input(key="pl_manual_m5_id").set_value("nope")
    next(b for b in at.button if b.label == "Länka").click().run()  # the form's submit button
    assert at.error and at.error[0].value == "M5-användare nope finns inte."
    assert _answers(store).empty
    at.text_input(key="pl_manual_m5_id").set_value(user)
    next(b for b in at.button if b.label == "Länka").click().run()
    assert not at.exception
    last = _answers(store).iloc[-1]
    assert (last.source, last.source_id, last.m5_id, last.decision) == ("hr", person, user, "manual")

    assert store.last_signoff() is None
    at.button(key="pl_signoff").click().run()
    assert not at.exception, at.exception
    signoff = store.last_signoff()
    assert signoff is not None and signoff.who == "testare" and signoff.counts["auto"] > 0
    assert signoff.counts["manual"] == 1
    assert any(s.value.startswith("Godkänt av testare") for s in at.success)
    cur = store.current()
    autos = cur[cur["decision"] == "auto"]
    assert len(autos) == signoff.counts["auto"]
    assert user not in set(autos["m5_id"])  # the hand-made link keeps its M5 user
    proposals = store.proposals()
    assert not (proposals["state"] == "proposed").any()  # every standing proposal became a link
    gone = proposals[proposals["state"] == "withdrawn"]
    assert (gone["why"] != "").all()  # nothing the model proposed vanished without a reason
    autos_written = int((store.history()["decision"] == "auto").sum())
    at.button(key="pl_signoff").click().run()
    assert len(store.signoffs()) == 2  # recorded again ...
    assert int((store.history()["decision"] == "auto").sum()) == autos_written  # ... linking nothing new
