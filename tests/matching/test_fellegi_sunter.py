"""The Fellegi-Sunter start: EM recovers m, u and the share of links from unlabelled levels."""

import numpy as np
import pandas as pd
import pytest
from _matchworld import registers

from passerlink.matching import MatchSession
from passerlink.matching.fellegi_sunter import FellegiSunter, tf_adjustment

# P(level | link) and P(level | non-link); three comparisons or more make the mixture identifiable
M = {"a": [0.05, 0.15, 0.80], "b": [0.05, 0.05, 0.10, 0.80], "c": [0.10, 0.90], "d": [0.05, 0.25, 0.70]}
U = {"a": [0.70, 0.20, 0.10], "b": [0.60, 0.25, 0.10, 0.05], "c": [0.85, 0.15], "d": [0.80, 0.15, 0.05]}
N_LEVELS = {c: len(m) for c, m in M.items()}


def simulate(n=30_000, share=0.1, seed=0):
    rng = np.random.default_rng(seed)
    link = rng.random(n) < share
    cols = {}
    for c in M:
        cols[c] = np.where(link, rng.choice(len(M[c]), n, p=M[c]), rng.choice(len(U[c]), n, p=U[c]))
    return pd.DataFrame(cols).astype(np.int16), link


@pytest.fixture(scope="module")
def fitted():
    levels, link = simulate()
    return FellegiSunter().fit(levels, N_LEVELS), levels, link


def test_em_finds_the_share_of_links(fitted):
    fs, _, link = fitted
    assert fs.lambda_ == pytest.approx(link.mean(), abs=0.01)


@pytest.mark.parametrize("column", list(M))
def test_em_finds_m_and_u(fitted, column):
    fs, _, _ = fitted
    n = N_LEVELS[column]
    m, u = fs.m_[column][:n], fs.u_[column][:n]
    assert np.allclose(m / m.sum(), M[column], atol=0.03)
    assert np.allclose(u / u.sum(), U[column], atol=0.02)


def test_agreement_weighs_for_a_link_and_disagreement_against(fitted):
    fs, _, _ = fitted
    bf = fs.log_bayes_factors(pd.DataFrame({"a": [2, 0], "b": [3, 0], "c": [1, 0], "d": [2, 0]}, dtype=np.int16))
    assert (bf.iloc[0] > 1).all() and (bf.iloc[1] < -1).all()


def test_the_log_odds_are_the_prior_plus_the_bayes_factors_plus_rarity(fitted):
    fs, levels, _ = fitted
    rows = levels.iloc[:50]
    tf = np.where(np.arange(50) % 2 == 0, 0.7, np.nan)
    prior = np.log(fs.lambda_ / (1 - fs.lambda_))
    expected = prior + fs.log_bayes_factors(rows).sum(axis=1).to_numpy() + np.nan_to_num(tf)
    assert np.allclose(fs.logit(rows, tf), expected)
    assert np.allclose(fs.predict_proba(rows), 1 / (1 + np.exp(-fs.logit(rows))))


def test_missing_on_both_sides_is_neutral(fitted):
    fs, _, _ = fitted
    nothing = pd.DataFrame({c: [-1] for c in M}, dtype=np.int16)
    assert fs.log_bayes_factors(nothing).iloc[0].tolist() == [0.0] * len(M)
    assert fs.logit(nothing)[0] == pytest.approx(np.log(fs.lambda_ / (1 - fs.lambda_)))


def test_missing_on_one_side_is_a_level_of_its_own():
    levels, link = simulate(seed=1)
    # an M5 user without the value is typical of non-links only (contractors have no employee number)
    rng = np.random.default_rng(2)
    one_sided = ~link & (rng.random(len(link)) < 0.3)
    levels.loc[one_sided, "b"] = -3
    fs = FellegiSunter().fit(levels, N_LEVELS)
    bf = fs.log_bayes_factors(pd.DataFrame({"a": [2, 2], "b": [-3, -1], "c": [1, 1], "d": [2, 2]}, dtype=np.int16))
    assert bf.at[0, "b"] < -1.0  # learnt: one side missing speaks against a link
    assert bf.at[1, "b"] == 0.0  # both missing: still neutral


def test_answers_pull_their_pattern_towards_the_answer():
    levels, _ = simulate(seed=3)
    pattern = (levels["a"] == 1) & (levels["b"] == 2) & (levels["c"] == 0) & (levels["d"] == 1)
    free = FellegiSunter().fit(levels, N_LEVELS)
    labels = np.full(len(levels), np.nan)
    labels[np.nonzero(pattern.to_numpy())[0][:200]] = 1.0  # the operator says these are links
    taught = FellegiSunter().fit(levels, N_LEVELS, labels=labels)
    row = pd.DataFrame({"a": [1], "b": [2], "c": [0], "d": [1]}, dtype=np.int16)
    assert taught.logit(row)[0] > free.logit(row)[0] + 0.5
    same = FellegiSunter().fit(levels, N_LEVELS, labels=np.full(len(levels), np.nan))  # no answer: no change
    assert same.logit(row)[0] == pytest.approx(free.logit(row)[0])


def test_a_rare_name_weighs_more_than_a_common_one():
    reference = 0.01  # the average share of an agreed name
    adj = tf_adjustment(np.array([-np.log10(0.001), -np.log10(0.1), -np.log10(0.01), np.nan]), reference)
    assert adj[0] == pytest.approx(np.log(10)) and adj[1] == pytest.approx(-np.log(10))
    assert adj[2] == pytest.approx(0.0) and adj[3] == 0.0


def test_the_sessions_start_estimates_who_has_a_counterpart():
    hr, m5, truth = registers(150, seed=5, unmatched_left=30, unmatched_right=10)
    s = MatchSession(hr, m5, seed=0).prepare()
    left_cov, right_cov = s.model.coverage_start
    assert left_cov == pytest.approx(len(truth) / len(hr), abs=0.06)
    assert right_cov == pytest.approx(len(truth) / len(m5), abs=0.06)
    assert left_cov < right_cov  # more register people without an M5 user than the other way round
