"""The link model: one scoring path for the session, the explanation and new people at night."""

import numpy as np
import pandas as pd
import pytest
from _matchworld import registers
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from passerlink.matching import MatchSession, evaluate
from passerlink.matching.model import Pairs


@pytest.fixture(scope="module")
def world():
    return registers(150, seed=11)


@pytest.fixture(scope="module")
def session(world):
    hr, m5, _ = world
    return MatchSession(hr, m5, seed=3).prepare()


def test_the_model_scores_the_candidates_as_the_session_does(session):
    pairs = Pairs(session.L, session.R, session.il, session.ir)
    assert np.allclose(session.model.score(pairs), session.probability, atol=1e-9)


def test_the_intermediate_values_are_the_ones_the_session_holds(session):
    scored = session.model.score_pairs(Pairs(session.L, session.R, session.il, session.ir))
    pd.testing.assert_frame_equal(scored.features, session.features)
    assert np.allclose(scored.start_logit, session.z0)
    assert np.allclose(scored.context, session.context, atol=1e-9)
    assert np.allclose(scored.logit, session.z1, atol=1e-9)


def test_contributions_add_up_to_the_log_odds(session):
    scored = session.model.score_pairs(Pairs(session.L, session.R, session.il[:200], session.ir[:200]))
    contrib = session.model.contributions(scored.features, scored.context)
    assert np.allclose(contrib.sum(axis=1) + contrib.attrs["baseline"], scored.logit, atol=1e-9)


def test_the_explanation_reads_the_models_numbers(session):
    sc = session.scores().sort_values("probability")
    a, b = sc.iloc[-1][["left_id", "right_id"]]
    expl = session.explain(a, b)
    scores = session.pair_scores(a, b)
    contrib = session.model.contributions(scores.features, scores.context).iloc[0]
    given = expl.set_index("feature").loc["given name", "contribution"]
    assert given == pytest.approx(contrib["given_name"])
    assert expl.attrs["probability"] == pytest.approx(float(session.probability[session.pair_index(a, b)]))
    assert expl.attrs["level_names"]["given name"] in {lv.name for lv in session.comparisons[0].levels} | {
        "missing_left", "missing_right"}


def test_a_pair_outside_the_candidates_is_explained_with_its_own_scores(session, world):
    hr, m5, _ = world
    cand = set(zip(session.scores()["left_id"], session.scores()["right_id"], strict=True))
    a = hr["source_id"].iloc[0]
    b = next(x for x in m5["source_id"] if (a, x) not in cand)
    scores = session.pair_scores(a, b)
    assert session.pair_index(a, b) == -1 and len(scores.logit) == 1
    expl = session.explain(a, b)
    assert expl.attrs["probability"] == pytest.approx(1 / (1 + np.exp(-scores.logit[0])))
    assert expl.attrs["probability"] < 0.5


def test_scikit_learns_logistic_regression_plugs_in_with_the_same_links(world, session):
    hr, m5, truth = world
    other = MatchSession(hr, m5, seed=3, estimator=lambda: LogisticRegression(warm_start=True)).prepare()
    assert np.abs(other.probability - session.probability).max() < 1e-3
    pd.testing.assert_frame_equal(other.links()[["left_id", "right_id"]], session.links()[["left_id", "right_id"]])


def test_a_non_linear_classifier_plugs_in_and_is_explained_by_the_start(world):
    hr, m5, truth = world
    s = MatchSession(hr, m5, seed=3, estimator=lambda: DecisionTreeClassifier(max_depth=6, random_state=0)).prepare()
    assert evaluate(s.links(), truth)["f1"] > 0.9
    a, b = s.links().iloc[0][["left_id", "right_id"]]
    expl = s.explain(a, b)
    start = s.model.start_contributions(s.pair_scores(a, b).features).iloc[0]
    assert expl.set_index("feature").loc["family name", "contribution"] == pytest.approx(start["family_name"])
    s.mark_pairs([(a, b)], [False])
    s.retrain()
    assert (a, b) not in set(zip(s.links()["left_id"], s.links()["right_id"], strict=True))
