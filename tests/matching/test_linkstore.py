"""The link store keeps every decision, refuses rewrites, and survives a reopen."""

import sqlite3

import pytest

from passerlink.errors import InputError
from passerlink.matching import LinkDecision, LinkStore


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
