"""The link store keeps every decision, refuses rewrites, and survives a reopen."""

import datetime as _dt
import sqlite3

import pandas as pd
import pytest

from passerlink.errors import InputError
from passerlink.matching import (
    DECISIONS,
    LINK_DECISIONS,
    PROPOSAL_DECISIONS,
    Decision,
    LinkDecision,
    LinkStore,
)


def test_latest_decision_wins_and_history_keeps_all(tmp_path):
    store = LinkStore(tmp_path / "links.sqlite")
    store.record([LinkDecision("hr", "1", "10", "auto", 0.99), LinkDecision("hr", "2", "20", "confirmed", 0.7, "anna")])
    store.record(LinkDecision("hr", "2", "20", "rejected", 0.7, "anna"))
    links = store.links()
    assert links[["source", "source_id", "m5_id"]].values.tolist() == [["hr", "1", "10"]]
    hist = store.history("hr", "2")
    assert hist["decision"].tolist() == ["confirmed", "rejected"]
    assert hist["who"].tolist() == ["anna", "anna"]


def test_reopen_loses_nothing(tmp_path):
    path = tmp_path / "links.sqlite"
    LinkStore(path).record(LinkDecision("students", "s1", "77", "manual", None, "bo", note="seen ID card"))
    again = LinkStore(path)
    row = again.current().iloc[0]
    assert (row["source_id"], row["m5_id"], row["decision"], row["note"]) == ("s1", "77", "manual", "seen ID card")


def test_rows_cannot_be_updated_or_deleted(tmp_path):
    path = tmp_path / "links.sqlite"
    LinkStore(path).record(LinkDecision("hr", "1", "10", "confirmed", 0.9, "anna"))
    con = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE decisions SET decision = 'rejected'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM decisions")
    con.close()


def test_undo_takes_back_the_operators_last_answer_only(tmp_path):
    store = LinkStore(tmp_path / "links.sqlite")
    store.record(LinkDecision("hr", "1", "10", "confirmed", 0.6, "anna"))
    store.record(LinkDecision("hr", "2", "20", "rejected", 0.4, "anna"))
    store.record(LinkDecision("hr", "3", "30", "confirmed", 0.5, "bo"))
    undone = store.undo_last("anna")
    assert (undone.source_id, undone.decision) == ("2", "rejected")
    assert set(store.current()["source_id"]) == {"1", "3"}
    undone = store.undo_last("anna")
    assert undone.source_id == "1"
    assert store.undo_last("anna") is None
    assert store.links()["source_id"].tolist() == ["3"]


def test_unknown_decision_is_refused(tmp_path):
    store = LinkStore(tmp_path / "links.sqlite")
    with pytest.raises(InputError, match="unknown link decision 'maybe'"):
        store.record(LinkDecision("hr", "1", "10", "maybe"))
    assert store.count() == 0


def test_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "links.sqlite"
    bad.write_text("this is not sqlite " * 100)
    with pytest.raises(InputError, match="not a passerlink link store"):
        LinkStore(bad)


# ---- the one Decision enum, proposals, sign-off ---------------------------------------------------
def _proposals(rows):
    return pd.DataFrame(rows, columns=["source", "source_id", "m5_id", "probability", "kind"])


def test_decision_is_one_str_enum_the_old_strings_still_equal():
    assert Decision.AUTO == "auto" and Decision("confirmed") is Decision.CONFIRMED
    assert set(LINK_DECISIONS) == {"auto", "confirmed", "manual"}
    assert set(PROPOSAL_DECISIONS) == {"proposed", "question"}
    assert {d.value for d in Decision} == set(DECISIONS)


def test_proposals_are_stored_and_an_operators_answer_wins(tmp_path):
    store = LinkStore(tmp_path / "links.sqlite")
    store.record(LinkDecision("hr", "3", "30", "rejected", 0.5, "anna"))
    counts = store.propose(_proposals([("hr", "1", "10", 0.99, "proposed"), ("hr", "2", "20", 0.6, "question"),
                                       ("hr", "3", "30", 0.97, "proposed")]), model_version="seed0-r1")
    assert counts == {"proposed": 1, "question": 1, "kept": 1, "unchanged": 0, "withdrawn": 0}
    cur = store.current().set_index("source_id")
    assert cur.loc["1", "decision"] == "proposed" and cur.loc["1", "model_version"] == "seed0-r1"
    assert cur.loc["2", "decision"] == "question" and cur.loc["3", "decision"] == "rejected"
    assert store.links().empty  # a proposal is no link before the sign-off
    again = store.propose(_proposals([("hr", "1", "10", 0.99, "proposed"), ("hr", "2", "20", 0.6, "question")]),
                          model_version="seed0-r1")
    assert again["unchanged"] == 2 and again["proposed"] == again["question"] == 0


def test_a_proposal_removed_by_a_later_answer_or_model_says_why(tmp_path):
    store = LinkStore(tmp_path / "links.sqlite")
    store.propose(_proposals([("hr", "1", "10", 0.99, "proposed"), ("hr", "2", "10", 0.4, "question"),
                              ("hr", "1", "11", 0.3, "question"), ("hr", "5", "50", 0.98, "proposed")]),
                  model_version="v1")
    # an operator links hr:2 to M5 user 10: hr:1's proposal for 10 cannot stand
    store.record(LinkDecision("hr", "2", "10", "confirmed", 0.4, "anna"))
    props = store.proposals().set_index(["source_id", "m5_id"])
    assert props.loc[("1", "10"), "state"] == "withdrawn"
    assert "M5 user 10 was linked to hr:2" in props.loc[("1", "10"), "why"]
    assert props.loc[("1", "11"), "state"] == "question"  # hr:1 may still be M5 user 11
    assert props.loc[("2", "10"), "state"] == "confirmed"
    # the model no longer proposes hr:5 -> 50: withdrawn, and it says so
    store.propose(_proposals([("hr", "1", "11", 0.3, "question")]), model_version="v2")
    props = store.proposals().set_index(["source_id", "m5_id"])
    assert props.loc[("5", "50"), "state"] == "withdrawn"
    assert "no longer proposed by model v2" in props.loc[("5", "50"), "why"]
    assert len(props) == 4  # nothing the model proposed vanishes


def test_links_withdraw_the_same_proposals_one_answer_at_a_time_or_all_at_once(tmp_path):
    # an answer reads only the pairs near its link; a large import reads the whole store once:
    # both must rule out exactly the same proposals (person i: M5 a_i or b_i; person x_i: M5 a_i)
    n = 70
    rows = [(src, sid, m5, 0.5, "question") for i in range(n)
            for src, sid, m5 in (("hr", f"{i}", f"a{i}"), ("hr", f"{i}", f"b{i}"), ("students", f"x{i}", f"a{i}"))]
    links = [LinkDecision("hr", f"{i}", f"a{i}", "confirmed", 0.5, "anna") for i in range(n)]
    one, many = LinkStore(tmp_path / "one.sqlite"), LinkStore(tmp_path / "many.sqlite")
    for store in (one, many):
        store.propose(_proposals(rows), model_version="v1")
    written = sum(one.record(link) for link in links)
    assert many.record(links) == written == n + 2 * n

    def withdrawn(store):
        p = store.proposals()
        return set(map(tuple, p.loc[p["state"] == "withdrawn", ["source", "source_id", "m5_id"]].values))

    expected = {("hr", f"{i}", f"b{i}") for i in range(n)} | {("students", f"x{i}", f"a{i}") for i in range(n)}
    assert withdrawn(one) == withdrawn(many) == expected


def test_signoff_turns_the_reviewed_set_into_links_in_one_recorded_step(tmp_path):
    store = LinkStore(tmp_path / "links.sqlite")
    store.propose(_proposals([("hr", "1", "10", 0.99, "proposed"), ("hr", "2", "20", 0.97, "proposed"),
                              ("hr", "3", "30", 0.5, "question"), ("hr", "4", "40", 0.4, "question")]),
                  model_version="v1")
    store.record([LinkDecision("hr", "3", "30", "confirmed", 0.5, "anna"),
                  LinkDecision("hr", "2", "20", "rejected", 0.97, "anna")])
    when = _dt.datetime(2026, 12, 1, 9, 30, tzinfo=_dt.UTC)
    done = store.signoff("kerstin", at=when, model_version="v1")
    assert (done.id, done.who) == (1, "kerstin") and done.at.startswith("2026-12-01T09:30")
    assert done.counts == {"auto": 1, "confirmed": 1, "manual": 0, "rejected": 1, "unsure": 0, "unlinked": 0,
                           "open_questions": 1, "withdrawn": 0}
    assert done.links == 2
    links = store.links().set_index("source_id")
    assert links["m5_id"].to_dict() == {"1": "10", "3": "30"} and links.loc["1", "decision"] == "auto"
    left = store.proposals().set_index("source_id").loc["4"]
    assert left["state"] == "withdrawn" and "not answered at sign-off #1" in left["why"]
    assert store.signoffs() == [done] and store.last_signoff() == done
    assert LinkStore(tmp_path / "links.sqlite").last_signoff() == done  # recorded, not held in memory


def test_signoff_of_an_empty_store_is_refused(tmp_path):
    with pytest.raises(InputError, match="nothing to sign off"):
        LinkStore(tmp_path / "links.sqlite").signoff("kerstin")


def test_undo_of_an_answer_to_a_question_puts_the_question_back(tmp_path):
    store = LinkStore(tmp_path / "links.sqlite")
    store.propose(_proposals([("hr", "3", "30", 0.5, "question")]), model_version="v1")
    store.record(LinkDecision("hr", "3", "30", "rejected", 0.5, "anna"))
    assert store.undo_last("anna").decision == "rejected"
    assert store.current()["decision"].tolist() == ["question"]


def test_a_store_from_before_the_proposals_is_widened_in_place(tmp_path):
    path = tmp_path / "links.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE decisions (seq INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL,
            source_id TEXT NOT NULL, m5_id TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('auto','confirmed','rejected','unsure','manual','unlinked','undone')),
            probability REAL, who TEXT NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
            model_version TEXT NOT NULL DEFAULT '');
        INSERT INTO decisions (source, source_id, m5_id, decision, probability, who, at)
            VALUES ('hr', '1', '10', 'confirmed', 0.9, 'anna', '2026-01-01T00:00:00');
        CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
            BEGIN SELECT RAISE(ABORT, 'the link store is append-only'); END;
    """)
    con.close()
    store = LinkStore(path)
    store.propose(_proposals([("hr", "2", "20", 0.99, "proposed")]), model_version="v1")
    assert store.history()["decision"].tolist() == ["confirmed", "proposed"]
    con = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM decisions")
    con.close()


def test_proposals_of_a_session_with_no_open_question_are_the_auto_links():
    from passerlink.matching import match_registers
    from passerlink.matching.proposals import proposals_of

    people = pd.DataFrame({"source_id": ["1", "2"], "given_names": ["Anna", "Bo"], "family_name": ["Berg", "Ek"],
                           "birth_date": ["1980-01-01", "1990-02-02"], "personnummer": ["", ""], "email": ["", ""],
                           "org_unit": ["A", "B"], "call_name": ["", ""], "employee_number": ["", ""]})
    match = match_registers({"hr": people}, people.assign(source_id=["10", "20"]))
    props = proposals_of(match)
    assert list(props.columns) == ["source", "source_id", "m5_id", "probability", "kind"]
    assert set(props["kind"]) <= {"proposed", "question"}


def test_undo_of_a_link_puts_back_the_proposals_it_withdrew(tmp_path):
    store = LinkStore(tmp_path / "links.sqlite")
    store.propose(_proposals([("hr", "1", "10", 0.99, "proposed"), ("hr", "2", "10", 0.4, "question"),
                              ("hr", "2", "20", 0.3, "question")]), model_version="v1")
    store.record(LinkDecision("hr", "2", "10", "confirmed", 0.4, "anna"))
    assert store.proposals().set_index(["source_id", "m5_id"]).loc[("1", "10"), "state"] == "withdrawn"
    assert store.undo_last("anna").decision == "confirmed"
    state = store.proposals().set_index(["source_id", "m5_id"])["state"].to_dict()
    assert state == {("1", "10"): "proposed", ("2", "10"): "question", ("2", "20"): "question"}


def test_every_note_the_store_writes_reads_back_as_a_reason(tmp_path):
    from passerlink.matching.linkstore import reason_of_note

    store = LinkStore(tmp_path / "links.sqlite")
    store.record(LinkDecision("hr", "9", "90", "manual", None, "bo"))
    store.propose(_proposals([("hr", "1", "10", 0.99, "proposed"), ("hr", "2", "10", 0.4, "question"),
                              ("hr", "1", "11", 0.3, "question"), ("hr", "5", "50", 0.98, "proposed"),
                              ("hr", "9", "91", 0.9, "proposed"), ("hr", "8", "90", 0.9, "proposed"),
                              ("hr", "7", "70", 0.3, "question")]), model_version="v1")
    store.record(LinkDecision("hr", "2", "10", "confirmed", 0.4, "anna"))
    store.propose(_proposals([("hr", "1", "11", 0.3, "question"), ("hr", "7", "70", 0.3, "question")]),
                  model_version="v2")
    store.signoff("kerstin")
    notes = [n for n in store.history()["note"] if n]
    reasons = {reason_of_note(n)[0] for n in notes}
    assert reasons == {"already_person", "already_m5", "conflict_other_person", "no_longer_proposed",
                       "open_at_signoff"}
    assert reason_of_note("M5 user 10 was linked to hr:2 instead (confirmed by anna)") == (
        "conflict_other_person", {"m5_id": "10", "person": "hr:2", "decision": "confirmed", "who": "anna"})
    assert reason_of_note("seen ID card") == ("", {})
