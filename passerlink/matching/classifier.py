"""The link classifier: logistic regression over binned comparison levels and one-to-one context.

It follows the scikit-learn estimator contract (``__init__`` stores hyper-parameters, ``fit``
learns attributes ending in ``_``). The design matrix is the one-hot encoding of every
comparison's level (missing is its own column, never 0), the term-frequency columns, and three
context columns: the starting model's log-odds and its row and column one-to-one posteriors. A
linear model on one-hot levels is a discriminative Fellegi-Sunter: each level gets a weight, but
the weights are learnt jointly, so correlated comparisons are not counted twice. Fitting on a few
hundred thousand rows takes well under a second, which is what lets the operator's answers
retrain it between questions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

__all__ = ["LinkClassifier", "CONTEXT_COLUMNS", "logit"]

CONTEXT_COLUMNS = ("prior_logit", "row_logit", "col_logit")


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


class LinkClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression on one-hot levels + term frequencies + one-to-one context."""

    def __init__(self, *, C: float = 1.0, max_iter: int = 300, answer_weight: float = 20.0) -> None:
        self.C = C
        self.max_iter = max_iter
        self.answer_weight = answer_weight

    # ---- design ----------------------------------------------------------------------------
    def _layout(self, features: pd.DataFrame, level_columns: Sequence[str], n_levels: dict[str, int]) -> None:
        self.level_columns_ = list(level_columns)
        self.n_levels_ = dict(n_levels)
        self.tf_columns_ = [c for c in features.columns if c.endswith("_tf")]
        offsets, names, pos = {}, [], 0
        for c in self.level_columns_:
            offsets[c] = pos
            width = self.n_levels_[c] + 1  # slot 0 = missing, slot k+1 = level k
            names += [f"{c}={'missing' if k == 0 else k - 1}" for k in range(width)]
            pos += width
        self.offsets_ = offsets
        self.feature_names_ = names + list(self.tf_columns_) + list(CONTEXT_COLUMNS)
        self.n_onehot_ = pos

    def design(self, features: pd.DataFrame, context: np.ndarray) -> sparse.csr_matrix:
        """The sparse design matrix for ``features`` (rows) and their ``(n, 3)`` context."""
        n = len(features)
        cols = []
        for c in self.level_columns_:
            lv = features[c].to_numpy(dtype=np.int64)
            cols.append(self.offsets_[c] + np.clip(lv + 1, 0, self.n_levels_[c]))
        k = len(cols)
        indices = np.stack(cols, axis=1).ravel() if k else np.zeros(0, np.int64)
        onehot = sparse.csr_matrix((np.ones(n * k), indices, np.arange(n + 1) * k), shape=(n, self.n_onehot_))
        tf = np.nan_to_num(features[self.tf_columns_].to_numpy(dtype=np.float64)) if self.tf_columns_ else np.zeros((n, 0))
        ctx = np.clip(np.asarray(context, dtype=np.float64), -30, 30) / 10.0
        return sparse.hstack([onehot, sparse.csr_matrix(tf), sparse.csr_matrix(ctx)], format="csr")

    # ---- estimator -------------------------------------------------------------------------
    def fit(self, features: pd.DataFrame, context: np.ndarray, y: np.ndarray, *, level_columns: Sequence[str],
            n_levels: dict[str, int], sample_weight: np.ndarray | None = None) -> LinkClassifier:
        self._layout(features, level_columns, n_levels)
        y = np.asarray(y, dtype=np.int64)
        if len(np.unique(y)) < 2:
            raise ValueError("training a link classifier needs both links and non-links")
        X = self.design(features, context)
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=1e-5)
        self.model_.fit(X, y, sample_weight=sample_weight)
        return self

    def decision_function(self, features: pd.DataFrame, context: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.decision_function(self.design(features, context))

    def predict_proba(self, features: pd.DataFrame, context: np.ndarray) -> np.ndarray:
        z = self.decision_function(features, context)
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))
        return np.stack([1 - p, p], axis=1)

    def contributions(self, features: pd.DataFrame, context: np.ndarray) -> pd.DataFrame:
        """Per row and input (comparison, tf column, context column): its share of the log-odds.

        A level's contribution is its weight minus the average weight of that comparison's levels
        over the training rows, so "missing" sits near zero and the contributions plus the
        ``baseline`` attribute add up to the decision function.
        """
        check_is_fitted(self, "model_")
        coef = self.model_.coef_.ravel()
        out = {}
        total_base = float(self.model_.intercept_[0])
        for c in self.level_columns_:
            lv = features[c].to_numpy(dtype=np.int64)
            w = coef[self.offsets_[c] + np.clip(lv + 1, 0, self.n_levels_[c])]
            centre = self.level_means_.get(c, 0.0) if hasattr(self, "level_means_") else 0.0
            out[c] = w - centre
            total_base += centre
        base = self.n_onehot_
        for k, c in enumerate(self.tf_columns_):
            out[c] = coef[base + k] * np.nan_to_num(features[c].to_numpy(dtype=np.float64))
        base += len(self.tf_columns_)
        ctx = np.clip(np.asarray(context, dtype=np.float64), -30, 30) / 10.0
        for k, c in enumerate(CONTEXT_COLUMNS):
            out[c] = coef[base + k] * ctx[:, k]
        frame = pd.DataFrame(out, index=features.index)
        frame.attrs["baseline"] = total_base
        return frame

    def remember_level_means(self, features: pd.DataFrame) -> None:
        """Store each comparison's average level weight over ``features`` (for contributions)."""
        check_is_fitted(self, "model_")
        coef = self.model_.coef_.ravel()
        self.level_means_ = {}
        for c in self.level_columns_:
            lv = features[c].to_numpy(dtype=np.int64)
            self.level_means_[c] = float(coef[self.offsets_[c] + np.clip(lv + 1, 0, self.n_levels_[c])].mean())
