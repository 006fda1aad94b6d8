"""MatchSession: the operator loop, twins and namesakes, decisions respected, explanations."""

import numpy as np
import pandas as pd
import pytest
from _matchworld import frame, pnr, registers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passerlink.errors import InputError
from passerlink.matching import MatchSession, evaluate
from passerlink.matching.driver import oracle_from_pairs, run_matching

SPECIAL_LEFT = [
    {"source_id": "tw1", "given_names": "Anna", "family_name": "Wahlqvist", "birth_date": "2001-04-05",
     "personnummer": pnr("20010405", "242"), "org_unit": "Vena skola"},
    {"source_id": "tw2", "given_names": "Emma", "family_name": "Wahlqvist", "birth_date": "2001-04-05",
     "personnummer": pnr("20010405", "264"), "org_unit": "Vena skola"},
    {"source_id": "ns", "given_names": "Lars", "family_name": "Sjöström", "birth_date": "1961-02-03",
     "personnummer": pnr("19610203", "355"), "org_unit": "Kansliet"},
]
SPECIAL_RIGHT = [
    {"source_id": "mtw", "given_names": "Anna", "family_name": "Wahlqvist", "birth_date": "2001-04-05",
     "org_unit": "Vena skola"},
    {"source_id": "mns", "given_names": "Lars", "family_name": "Sjöström", "birth_date": "1988-07-09",
     "org_unit": "Kansliet"},
]


@pytest.fixture(scope="module")
def world():
    hr, m5, truth = registers(300, seed=3)
    hr = pd.concat([hr, frame(SPECIAL_LEFT, "hr")], ignore_index=True)
    m5 = pd.concat([m5, frame(SPECIAL_RIGHT, "m5")], ignore_index=True)
    truth = pd.concat([truth, pd.DataFrame([("tw1", "mtw")], columns=truth.columns)], ignore_index=True)
    return hr, m5, truth


@pytest.fixture(scope="module")
def session(world):
    hr, m5, _ = world
    return MatchSession(hr, m5, seed=1).prepare()


def _pairs(frame_):
    return set(zip(frame_["left_id"], frame_["right_id"], strict=True))


def test_quality_without_questions(session, world):
    result = evaluate(session.links(), world[2])
    assert result["precision"] >= 0.99
    assert result["recall"] >= 0.9


def test_twins_and_namesakes_are_not_linked(session):
    links = _pairs(session.links())
    assert ("tw2", "mtw") not in links  # the twin sister: same family name and birth date
    assert ("ns", "mns") not in links  # a namesake born 27 years later
    assert ("tw1", "mtw") in links


def test_links_are_one_to_one(session):
    links = session.links()
    assert links["left_id"].is_unique and links["right_id"].is_unique
    assert set(links["status"]) <= {"auto", "confirmed", "manual"}
    assert list(links.columns) == ["left_id", "right_id", "probability", "status"]


def test_scores_cover_every_candidate(session):
    sc = session.scores()
    assert len(sc) == session.n_candidates
    assert list(sc.columns) == ["left_id", "right_id", "probability", "band", "decision"]
    assert set(sc["band"]) <= {"auto", "ask", "none"}
    assert sc["probability"].between(0, 1).all()


@st.composite
def decisions(draw, n_candidates):
    ks = draw(st.lists(st.integers(0, n_candidates - 1), min_size=1, max_size=12, unique=True))
    answers = draw(st.lists(st.booleans(), min_size=len(ks), max_size=len(ks)))
    return ks, answers


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_confirmed_and_rejected_pairs_are_always_respected(session, data):
    sc = session.scores()
    ks, answers = data.draw(decisions(len(sc)))
    pairs, labels, used_l, used_r = [], [], set(), set()
    for k, yes in zip(ks, answers, strict=True):
        a, b = sc.at[k, "left_id"], sc.at[k, "right_id"]
        if yes and (a in used_l or b in used_r):
            continue  # an operator does not confirm two partners for one person
        if yes:
            used_l.add(a)
            used_r.add(b)
        pairs.append((a, b))
        labels.append(yes)
    try:
        session.mark_pairs(pairs, labels)
        links = session.links()
        linked = _pairs(links)
        for pair, yes in zip(pairs, labels, strict=True):
            assert (pair in linked) == yes
        assert links["left_id"].is_unique and links["right_id"].is_unique
        confirmed = links[links["status"] == "confirmed"]
        assert _pairs(confirmed) == {p for p, y in zip(pairs, labels, strict=True) if y}
    finally:
        session.forget(pairs)


def test_questions_are_distinct_undecided_and_not_repeated(world):
    hr, m5, truth = world
    s = MatchSession(hr, m5, seed=2).prepare()
    assert not s.should_stop() and s.estimated_questions_left() >= 1 and s.open_questions() >= 5
    q = s.uncertain_pairs(5)
    assert len({a for a, _ in q}) == len(q) and len({b for _, b in q}) == len(q)
    oracle = oracle_from_pairs(_pairs(truth))
    answers = oracle(q)
    s.mark_pairs(q, answers)
    assert not set(q) & set(s.uncertain_pairs(50))
    s.retrain()
    assert not set(q) & set(s.uncertain_pairs(50))  # still not, after the retrain
    decided = s.scores().set_index(["left_id", "right_id"])["decision"]
    assert [decided[p] for p in q] == ["confirmed" if a else "rejected" for a in answers]
    assert (s.estimated_questions_left() == 0) == s.should_stop()  # 0 exactly when asking stops


def test_unsure_answers_are_recorded_and_teach_nothing(world):
    hr, m5, _ = world
    s = MatchSession(hr, m5, seed=2).prepare()
    q = s.uncertain_pairs(1)
    s.mark_pairs(q, [None])
    sc = s.scores()
    row = sc[(sc["left_id"] == q[0][0]) & (sc["right_id"] == q[0][1])]
    assert row["decision"].iloc[0] == "unsure"
    assert s.history == []


def test_a_pair_outside_the_candidates_can_be_linked_by_hand(world):
    hr, m5, _ = world
    s = MatchSession(hr, m5, seed=2).prepare()
    sc = s.scores()
    cand = set(zip(sc["left_id"], sc["right_id"], strict=True))
    left = next(x for x in hr["source_id"] if x.startswith("h"))
    right = next(y for y in m5["source_id"] if (left, y) not in cand)
    s.mark_pairs([(left, right)], [True])
    links = s.links().set_index("left_id")
    assert links.at[left, "right_id"] == right
    assert links.at[left, "status"] == "manual"


def test_explanation_names_the_reasons_and_masks_personnummer(session):
    expl = session.explain("tw2", "mtw")
    assert list(expl.columns) == ["feature", "left_value", "right_value", "level", "contribution"]
    given = expl[expl["feature"] == "given name"].iloc[0]
    assert given["level"] == "different" and given["contribution"] < 0
    assert not expl["left_value"].str.contains(r"\d{12}").any()
    assert "****" in "".join(expl["left_value"])
    assert isinstance(expl.attrs["summary"], str) and expl.attrs["summary"].endswith(".")
    assert expl.attrs["probability"] < 0.5


def test_the_operator_loop_improves_and_stops(world):
    hr, m5, truth = world
    run = run_matching(hr, m5, operator=oracle_from_pairs(_pairs(truth)), budget=40, seed=4)
    result = evaluate(run.links, truth)
    assert result["precision"] >= 0.99 and result["recall"] >= 0.97
    assert run.questions <= 40
    statuses = set(run.links["status"])
    assert statuses <= {"auto", "confirmed"}


def test_bad_tables_are_refused_with_one_sentence():
    hr, m5, _ = registers(5, seed=0)
    with pytest.raises(InputError, match="more than once"):
        MatchSession(pd.concat([hr, hr.iloc[:1]]), m5)
    with pytest.raises(InputError, match="source_id"):
        MatchSession(hr.drop(columns=["source_id"]), m5)
    s = MatchSession(hr, m5).prepare()
    with pytest.raises(InputError, match="unknown left id"):
        s.mark_pairs([("nobody", m5["source_id"].iloc[0])], [True])


def test_empty_right_table_gives_no_links():
    hr, m5, _ = registers(5, seed=0)
    s = MatchSession(hr, m5.iloc[:0]).prepare()
    assert s.n_candidates == 0
    assert s.links().empty and s.uncertain_pairs(3) == [] and s.should_stop()


def test_probabilities_are_higher_for_links(session, world):
    sc = session.scores()
    truth = _pairs(world[2])
    is_true = np.array([(a, b) in truth for a, b in zip(sc["left_id"], sc["right_id"], strict=True)])
    assert sc["probability"][is_true].median() > 0.9
    assert sc["probability"][~is_true].median() < 0.05


def test_large_table_path_gives_the_same_links(world):
    hr, m5, _ = world
    cached = MatchSession(hr, m5, seed=5).prepare()
    chunked = MatchSession(hr, m5, seed=5, design_cache_limit=0).prepare()
    assert np.allclose(cached.probability, chunked.probability, atol=1e-6)
    pd.testing.assert_frame_equal(cached.links(), chunked.links())
