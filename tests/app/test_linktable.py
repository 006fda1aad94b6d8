"""The link table laid over the model, conflicts, hand-over, filters, estimates, upload headers."""

import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from passerlink.errors import SourceError
from passerlink.workbench.estimates import histogram, threshold_table
from passerlink.workbench.linktable import (
    LINK_COLUMNS,
    conflicts,
    filter_table,
    merge_links,
    unlinked_people,
    with_people,
)
from passerlink.workbench.uploads import header_names

STORE_COLS = ["seq", "source", "source_id", "m5_id", "decision", "probability", "who", "at", "note", "model_version"]


def store(*rows):
    return pd.DataFrame([(i, *r, "anna", "2025-01-01", "", "m1") for i, r in enumerate(rows)], columns=STORE_COLS)


def model(*rows):
    return pd.DataFrame(rows, columns=["register", "source_id", "m5_id", "probability"])


def test_store_decisions_win_and_colliding_model_links_go():
    m = model(("hr", "1", "10", 0.95), ("hr", "2", "20", 0.97), ("hr", "3", "30", 0.93), ("students", "9", "40", 0.91))
    s = store(("hr", "1", "10", "rejected", 0.95), ("hr", "4", "20", "confirmed", 0.6), ("hr", "3", "31", "manual", None))
    t = merge_links(m, s)
    assert list(t.columns) == LINK_COLUMNS
    got = {(r.register, r.source_id, r.m5_id): r.decision for r in t.itertuples()}
    assert got == {
        ("hr", "1", "10"): "rejected",   # the store's answer, not the model's auto link
        ("hr", "4", "20"): "confirmed",  # M5 user 20 is taken by an answer: the model's 2-20 goes
        ("hr", "3", "31"): "manual",     # person 3 is linked by hand: the model's 3-30 goes
        ("students", "9", "40"): "proposed",  # the model's link, not signed off: a proposal
    }
    assert t.loc[t["decision"] == "proposed", "who"].tolist() == [""]


def test_merge_with_nothing_and_store_only():
    assert merge_links(None, store()).empty
    t = merge_links(None, store(("hr", "1", "10", "unsure", 0.5)))
    assert t.iloc[0]["decision"] == "unsure" and t.iloc[0]["probability"] == 0.5


def test_people_beside_ids_and_unlinked_people():
    people = pd.DataFrame({"source_id": ["1", "2"], "given_names": ["Anna", "Bo"], "call_name": ["", ""],
                           "family_name": ["Berg", "Ek"], "birth_date": ["", ""], "personnummer": ["", ""],
                           "email": ["", ""], "org_unit": ["", ""], "employee_number": ["", ""]})
    m5 = people.assign(source_id=["10", "11"], given_names=["Anna", "Bosse"])
    t = merge_links(model(("hr", "1", "10", 0.99)), store())
    wide = with_people(t, {"hr": people}, m5)
    assert wide.loc[0, ["given_names", "m5_given_names", "m5_family_name"]].tolist() == ["Anna", "Anna", "Berg"]
    rest = unlinked_people(t, {"hr": people})
    assert rest[["register", "source_id", "decision"]].values.tolist() == [["hr", "2", ""]]
    assert np.isnan(rest.loc[0, "probability"])


def test_conflicts_both_ways_and_across_registers():
    t = merge_links(model(("students", "8", "50", 0.95), ("hr", "5", "50", 0.91)),
                    store(("hr", "1", "10", "manual", None), ("students", "7", "10", "confirmed", 0.8),
                          ("hr", "2", "20", "confirmed", 0.9),
                          ("hr", "2", "21", "manual", None), ("hr", "3", "30", "rejected", 0.2)))
    found = conflicts(t)
    kinds = {(c["kind"], c["key"] if c["kind"] == "m5" else tuple(c["key"])) for c in found}
    assert kinds == {("m5", "10"), ("m5", "50"), ("person", ("hr", "2"))}
    m5_rows = next(c for c in found if c["kind"] == "m5")["rows"]
    assert set(m5_rows["register"]) == {"hr", "students"}


def test_filter_by_decision_and_search():
    t = pd.DataFrame({"decision": ["auto", "confirmed", "rejected"], "source_id": ["1", "2", "3"],
                      "given_names": ["Anna", "Åsa", "Bo"], "probability": [0.9, 0.8, 0.1]})
    assert filter_table(t, ["auto", "rejected"], "")["source_id"].tolist() == ["1", "3"]
    assert filter_table(t, [], "åSA")["source_id"].tolist() == ["2"]
    assert filter_table(t, ["auto"], "bo").empty


def test_threshold_estimates_and_histogram():
    p = np.array([0.99, 0.95, 0.6, 0.2, 0.05])
    tt = threshold_table(p, thresholds=(0.5, 0.9))
    assert tt["links"].tolist() == [3, 2]
    assert tt["precision"].tolist() == pytest.approx([(0.99 + 0.95 + 0.6) / 3, 0.97])
    assert tt["recall"].tolist() == pytest.approx([2.54 / 2.79, 1.94 / 2.79])
    h = histogram(p, bins=4)
    assert h["pairs"].tolist() == [2, 0, 1, 2] and h["bin"].tolist() == [0.0, 0.25, 0.5, 0.75]


def test_upload_headers_csv_and_xlsx():
    csv = "Anställningsnummer;Förnamn;Efternamn\r\n1;Anna;Berg\r\n".encode("cp1252")
    assert header_names(csv, "hr.csv") == ["Anställningsnummer", "Förnamn", "Efternamn"]
    assert header_names("\ufeffElev-ID,Förnamn\n".encode(), "s.csv") == ["Elev-ID", "Förnamn"]
    wb = Workbook()
    wb.active.append(["Id", "Namn", None])
    buf = io.BytesIO()
    wb.save(buf)
    assert header_names(buf.getvalue(), "x.xlsx") == ["Id", "Namn"]
    with pytest.raises(SourceError, match="x.csv: no header row found"):
        header_names(b"\n\n", "x.csv")



def test_questions_left_is_steady_after_twenty_answers_unless_the_model_was_contradicted():
    from passerlink.workbench.estimates import QuestionsLeft

    est = QuestionsLeft()
    raw = [276, 601, 476, 1445] + [300] * 16 + [200, 600, 150, 150, 900, 40, 0]
    shown = [est.update(r, n + 1) for n, r in enumerate(raw)]
    assert shown[:4] == [276, 601, 476, 1445]  # before 20 answers it follows the model
    for a, b in zip(shown[19:-2], shown[20:-1], strict=True):
        assert abs(b - a) <= max(0.3 * a, 1), (a, b)
    assert shown[-1] == 0  # the model stopped: nothing left
    est.update(300, 30)
    assert est.update(900, 31, contradicted=True) == 900  # the model was wrong: the raw estimate


def test_a_confident_model_is_contradicted_by_no_at_90_and_yes_at_10_percent():
    from passerlink.workbench.estimates import contradicts

    assert contradicts(0.95, False) and contradicts(0.90, False) and contradicts(0.05, True)
    assert not contradicts(0.89, False) and not contradicts(0.95, True) and not contradicts(0.95, None)
    assert not contradicts(float("nan"), False)
