"""New in a register: likely matches among unlinked M5 users go to the queue, rejected pairs never."""

from __future__ import annotations

import pandas as pd

from passerlink.people import CANONICAL_COLUMNS
from passerlink.sync import likely_matches, newpeople


def frame(rows):
    return pd.DataFrame([{c: r.get(c, "") for c in CANONICAL_COLUMNS} for r in rows], columns=CANONICAL_COLUMNS)


NEW = frame([
    dict(source="hr", source_id="7", given_names="Anna Maria", family_name="Öberg", birth_date="1980-01-01"),
    dict(source="hr", source_id="8", given_names="Bo", family_name="Ek", personnummer="198001011234"),
    dict(source="students", source_id="s1", given_names="Kim", family_name="Lund", birth_date="2012-05-05"),
])
M5 = frame([
    dict(source="m5", source_id="41", given_names="Anna", family_name="Oberg", birth_date="1980-01-01"),
    dict(source="m5", source_id="42", given_names="Robert", family_name="Ek", personnummer="198001011234"),
    dict(source="m5", source_id="43", given_names="Kim", family_name="Lund", birth_date="2011-05-05"),
])


def test_strict_rule_when_no_matcher(monkeypatch):
    monkeypatch.setattr(newpeople, "_matcher", lambda: None)
    found = likely_matches(NEW, M5)
    assert found == {("hr", "7"): ("41", 0.9), ("hr", "8"): ("42", 0.99)}
    assert likely_matches(NEW, M5, rejected={("hr", "8", "42")}) == {("hr", "7"): ("41", 0.9)}
    assert likely_matches(NEW, M5.iloc[:0]) == {}


def test_matcher_output_is_filtered_by_band_and_probability(monkeypatch):
    scored = pd.DataFrame({"left_id": ["hr:7", "hr:7", "students:s1", "hr:8"],
                           "right_id": ["41", "43", "43", "42"],
                           "probability": [0.7, 0.95, 0.3, 0.99], "band": ["ask", "auto", "ask", "none"]})
    monkeypatch.setattr(newpeople, "_matcher", lambda: (lambda new, m5, model: scored))
    found = likely_matches(NEW, M5, bands=("auto", "ask"), min_probability=0.5)
    assert found == {("hr", "7"): ("43", 0.95)}
    assert likely_matches(NEW, M5, bands=("auto", "ask"), min_probability=0.5,
                          rejected={("hr", "7", "43")}) == {("hr", "7"): ("41", 0.7)}


def test_a_failing_matcher_falls_back_to_the_rule(monkeypatch):
    def broken(new, m5, model):
        raise ValueError("too few records to fit")

    monkeypatch.setattr(newpeople, "_matcher", lambda: broken)
    assert likely_matches(NEW, M5)[("hr", "8")] == ("42", 0.99)
