"""LinkClassifier: scikit-learn's logistic regression, its interface, without importing scikit-learn.

The reference is scikit-learn's own ``LogisticRegression`` (lbfgs) on the same data: weights,
probabilities and predictions must agree to the solver's tolerance.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from passerlink.matching.classifier import LinkClassifier


def data(n=3000, k=12, seed=0, *, sparse_x=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k)) * (rng.random((n, k)) < 0.4)
    true_w = rng.normal(size=k) * 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ true_w - 0.5)))).astype(int)
    w = rng.uniform(0.5, 20.0, n)
    return (sparse.csr_matrix(X) if sparse_x else X), y, w


@pytest.mark.parametrize("sparse_x", [True, False])
@pytest.mark.parametrize("C", [0.1, 1.0])
def test_weights_and_probabilities_are_scikit_learns(sparse_x, C):
    X, y, w = data(sparse_x=sparse_x)
    ours = LinkClassifier(C=C, tol=1e-8, max_iter=1000).fit(X, y, sample_weight=w)
    ref = LogisticRegression(C=C, tol=1e-8, max_iter=1000).fit(X, y, sample_weight=w)
    assert np.allclose(ours.coef_, ref.coef_, atol=1e-5)
    assert np.allclose(ours.intercept_, ref.intercept_, atol=1e-5)
    assert np.allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert np.allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-5)
    assert (ours.predict(X) == ref.predict(X)).mean() > 0.999


def test_the_default_stopping_rule_gives_scikit_learns_answer_too():
    X, y, w = data(seed=1)
    ours = LinkClassifier().fit(X, y, sample_weight=w)
    ref = LogisticRegression().fit(X, y, sample_weight=w)
    assert np.abs(ours.predict_proba(X)[:, 1] - ref.predict_proba(X)[:, 1]).max() < 1e-3


def test_a_warm_start_begins_at_the_last_weights_and_needs_fewer_rounds():
    X, y, w = data(seed=2)
    cold = LinkClassifier(warm_start=True).fit(X, y, sample_weight=w)
    rounds_cold = int(cold.n_iter_[0])
    w2 = w.copy()
    w2[:10] *= 3  # a few new answers
    warm = cold.fit(X, y, sample_weight=w2)
    fresh = LinkClassifier().fit(X, y, sample_weight=w2)
    assert int(warm.n_iter_[0]) < rounds_cold
    assert np.abs(warm.predict_proba(X)[:, 1] - fresh.predict_proba(X)[:, 1]).max() < 5e-3


def test_without_warm_start_a_refit_starts_from_zero():
    X, y, w = data(seed=3)
    clf = LinkClassifier().fit(X, y, sample_weight=w)
    first = int(clf.n_iter_[0])
    assert int(clf.fit(X, y, sample_weight=w).n_iter_[0]) == first


def test_labels_keep_their_own_values_and_the_larger_is_the_link():
    X, y, _ = data(n=400, seed=4)
    names = np.where(y == 1, "same", "other")  # "same" sorts after "other": the positive class
    clf = LinkClassifier().fit(X, names)
    assert list(clf.classes_) == ["other", "same"]
    proba = clf.predict_proba(X)
    assert proba.shape == (400, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= {"same", "other"}
    assert ((proba[:, 1] > 0.5) == (clf.predict(X) == "same")).all()


def test_it_plugs_into_scikit_learns_machinery():
    X, y, _ = data(n=600, seed=5)
    clf = LinkClassifier(C=0.5)
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == {"C": 0.5, "max_iter": 300, "tol": 1e-4, "warm_start": False,
                                                      "warm_tol": 3.0}
    assert cross_val_score(clf, X, y, cv=3).mean() > 0.6
    with pytest.raises(ValueError, match="no parameter 'penalty'"):
        clf.set_params(penalty="l1")


def test_bad_input_is_refused_in_one_sentence():
    X, y, _ = data(n=200, seed=6)
    with pytest.raises(ValueError, match="exactly 2 classes"):
        LinkClassifier().fit(X, np.ones(200))
    with pytest.raises(ValueError, match="Only binary classification"):
        LinkClassifier().fit(X, np.arange(200) % 3)
    with pytest.raises(ValueError, match="NaN or inf"):
        LinkClassifier().fit(np.full((200, 3), np.nan), y)
    with pytest.raises(ValueError, match="not all zero"):
        LinkClassifier().fit(X, y, sample_weight=np.zeros(200))
    with pytest.raises(ValueError, match="not fitted"):
        LinkClassifier().predict_proba(X)
    clf = LinkClassifier().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict_proba(X[:, :5])
    with pytest.raises(ValueError, match="one label per row"):
        LinkClassifier().fit(X, y[:10])


with warnings.catch_warnings():  # by design: it follows the interface without scikit-learn's base class
    warnings.filterwarnings("ignore", message=".*does not inherit from `sklearn.base.BaseEstimator`")
    ESTIMATOR_CHECKS = parametrize_with_checks([LinkClassifier()])


@ESTIMATOR_CHECKS
def test_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def test_importing_the_matching_package_does_not_import_scikit_learn():
    code = "import sys, passerlink.matching; print(any(m.split('.')[0] == 'sklearn' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
