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
from threadpoolctl import ThreadpoolController

__all__ = ["LinkClassifier", "CONTEXT_COLUMNS", "derived_levels", "logit"]

CONTEXT_COLUMNS = ("prior_logit", "row_logit", "col_logit")
_MISSING_SLOTS = 3  # levels -3 (right missing), -2 (left missing), -1 (both missing)
_THREADS = ThreadpoolController()
# a warm start begins next to the answer: a looser stopping rule there halves the L-BFGS rounds
# of a retrain; on FEBRL4 and the Swedish sample worlds F1 was the same or a little higher
_WARM_TOL = 3.0


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def derived_levels(features: pd.DataFrame) -> dict[str, tuple[np.ndarray, int]]:
    """Interactions a linear model cannot form by itself, as extra categorical columns.

    ``evidence`` counts the identifiers that agree (personnummer, birth date, e-mail, employee
    number): a pair that agrees on names only is a different animal from one that agrees on names
    and a personnummer. ``org_unit_names_only`` is the org unit level for pairs without any such
    evidence (0 otherwise): for a names-only pair a different unit is the hint that the M5 user is
    a namesake, while for a pair with a matching personnummer it is just a stale department.
    """
    n = len(features)
    ev = np.zeros(n, dtype=np.int64)
    for col, bar in (("personnummer", 4), ("birth_date", 5), ("email", 3), ("employee_number", 1)):
        if col in features.columns:
            ev += features[col].to_numpy(dtype=np.int64) >= bar
    out = {"evidence": (np.minimum(ev, 3), 4)}
    if "org_unit" in features.columns:
        org = features["org_unit"].to_numpy(dtype=np.int64)  # -3..3
        out["org_unit_names_only"] = (np.where(ev == 0, org + 4, 0), 8)
    return out


def _append_dense(matrix: sparse.csr_matrix, dense: np.ndarray) -> sparse.csr_matrix:
    """``hstack([matrix, dense])`` built directly in CSR form (scipy's hstack goes through COO,
    which costs more than the logistic regression itself in the operator loop)."""
    n, k = dense.shape
    indptr = matrix.indptr.astype(np.int64)
    lengths = np.diff(indptr)
    new_indptr = indptr + k * np.arange(n + 1)
    nnz = int(indptr[-1]) + n * k
    data = np.empty(nnz, dtype=np.float64)
    indices = np.empty(nnz, dtype=np.int32)
    pos = np.arange(indptr[-1]) + k * np.repeat(np.arange(n), lengths)
    data[pos] = matrix.data
    indices[pos] = matrix.indices
    ctx_pos = (indptr[1:] + k * np.arange(n))[:, None] + np.arange(k)
    data[ctx_pos.ravel()] = dense.ravel()
    indices[ctx_pos.ravel()] = (matrix.shape[1] + np.arange(k))[None, :].repeat(n, axis=0).ravel()
    return sparse.csr_matrix((data, indices, new_indptr), shape=(n, matrix.shape[1] + k))


class LinkClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression on one-hot levels + term frequencies + one-to-one context."""

    def __init__(self, *, C: float = 1.0, max_iter: int = 300, answer_weight: float = 20.0,
                 tol: float = 1e-4) -> None:
        self.C = C
        self.max_iter = max_iter
        self.answer_weight = answer_weight
        self.tol = tol

    # ---- design ----------------------------------------------------------------------------
    def _layout(self, features: pd.DataFrame, level_columns: Sequence[str], n_levels: dict[str, int]) -> None:
        self.level_columns_ = list(level_columns)
        self.n_levels_ = dict(n_levels)
        self.tf_columns_ = [c for c in features.columns if c.endswith("_tf")]
        offsets, names, pos = {}, [], 0
        for c in self.level_columns_:
            offsets[c] = pos
            width = self.n_levels_[c] + _MISSING_SLOTS  # slots 0-2: missing (right, left, both)
            names += [f"{c}={k - _MISSING_SLOTS}" for k in range(width)]
            pos += width
        self.derived_ = {}
        for c, (_, width) in derived_levels(features).items():
            self.derived_[c] = (pos, width)
            names += [f"{c}={k}" for k in range(width)]
            pos += width
        self.offsets_ = offsets
        self.feature_names_ = (names + list(self.tf_columns_) + list(CONTEXT_COLUMNS)
                               + [f"{c}|names_only" for c in CONTEXT_COLUMNS])
        self.n_onehot_ = pos

    def _slot(self, column: str, levels: np.ndarray) -> np.ndarray:
        return self.offsets_[column] + np.clip(levels + _MISSING_SLOTS, 0, self.n_levels_[column] + _MISSING_SLOTS - 1)

    def set_layout(self, features: pd.DataFrame, level_columns: Sequence[str], n_levels: dict[str, int]) -> None:
        """Fix the columns of the design matrix (``fit`` does this too) so ``static_part`` can run first."""
        self._layout(features, level_columns, n_levels)

    def static_part(self, features: pd.DataFrame) -> tuple[sparse.csr_matrix, np.ndarray]:
        """The part of the design that answers never change (levels, term frequencies), and the
        names-only mask; the operator loop computes it once and adds the context per retrain."""
        n = len(features)
        cols = []
        for c in self.level_columns_:
            lv = features[c].to_numpy(dtype=np.int64)
            cols.append(self._slot(c, lv))
        derived = derived_levels(features)
        for c, (start, width) in self.derived_.items():
            cols.append(start + np.clip(derived[c][0], 0, width - 1))
        k = len(cols)
        indices = np.stack(cols, axis=1).ravel().astype(np.int32) if k else np.zeros(0, np.int32)
        onehot = sparse.csr_matrix((np.ones(n * k), indices, np.arange(n + 1, dtype=np.int64) * k),
                                   shape=(n, self.n_onehot_))
        tf = np.nan_to_num(features[self.tf_columns_].to_numpy(dtype=np.float64)) if self.tf_columns_ else np.zeros((n, 0))
        return _append_dense(onehot, tf), derived["evidence"][0] == 0

    def design(self, features: pd.DataFrame | None, context: np.ndarray,
               static: tuple[sparse.csr_matrix, np.ndarray] | None = None) -> sparse.csr_matrix:
        """The sparse design matrix for ``features`` (rows) and their ``(n, 3)`` context."""
        matrix, names_only = static if static is not None else self.static_part(features)
        ctx = self._context_block(names_only, context)
        return _append_dense(matrix, ctx)

    @staticmethod
    def _context_block(names_only: np.ndarray, context: np.ndarray) -> np.ndarray:
        """The context columns, twice: for all pairs, and again for pairs agreeing on names only.

        Rivals (or their absence) mean more when identifiers back a pair than when only the names
        agree: a contractor in M5 with an employee's name has no rival either.
        """
        ctx = np.clip(np.asarray(context, dtype=np.float64), -30, 30) / 10.0
        return np.concatenate([ctx, ctx * np.asarray(names_only, bool)[:, None]], axis=1)

    # ---- estimator -------------------------------------------------------------------------
    def fit(self, features: pd.DataFrame, context: np.ndarray, y: np.ndarray, *, level_columns: Sequence[str],
            n_levels: dict[str, int], sample_weight: np.ndarray | None = None,
            warm_start_from: LinkClassifier | None = None,
            static: tuple[sparse.csr_matrix, np.ndarray] | None = None) -> LinkClassifier:
        """Fit on ``features`` + ``context``; ``warm_start_from`` (a fitted classifier with the same
        layout) starts the solver at its weights, which makes a retrain after a few answers cheap;
        ``static`` is ``static_part(features)`` when the caller has it already."""
        if static is None:
            self._layout(features, level_columns, n_levels)
        y = np.asarray(y, dtype=np.int64)
        if len(np.unique(y)) < 2:
            raise ValueError("training a link classifier needs both links and non-links")
        X = self.design(features, context, static)
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=self.tol)
        prev = getattr(warm_start_from, "model_", None)
        if prev is not None and prev.coef_.shape[1] == X.shape[1]:
            self.model_.set_params(warm_start=True, tol=self.tol * _WARM_TOL)
            self.model_.coef_, self.model_.intercept_ = prev.coef_.copy(), prev.intercept_.copy()
            self.model_.classes_ = prev.classes_
        # L-BFGS works on vectors of a hundred weights: BLAS threads only add hand-overs (twice the
        # wall time of the fit on two busy cores), so the solver runs on one
        with _THREADS.limit(limits=1, user_api="blas"):
            self.model_.fit(X, y, sample_weight=sample_weight)
        return self

    def decision_function(self, features: pd.DataFrame | None, context: np.ndarray, *, chunk_size: int = 500_000,
                          static: tuple[sparse.csr_matrix, np.ndarray] | None = None) -> np.ndarray:
        """Log-odds per row, computed in chunks (the design matrix of millions of pairs is big)."""
        check_is_fitted(self, "model_")
        n = len(context)
        out = np.empty(n)
        coef = self.model_.coef_.ravel()
        intercept = float(self.model_.intercept_[0])
        for k in range(0, max(n, 1), chunk_size):
            sl = slice(k, min(k + chunk_size, n))
            matrix, names_only = (static[0][sl], static[1][sl]) if static is not None else self.static_part(
                features.iloc[sl])
            # the static block times its weights plus the dense context block times its weights:
            # the same product as the design matrix's, without building that matrix every time
            width = matrix.shape[1]
            ctx = self._context_block(names_only, context[sl])
            out[sl] = matrix @ coef[:width] + ctx @ coef[width:] + intercept
        return out

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
            w = coef[self._slot(c, lv)]
            centre = self.level_means_.get(c, 0.0) if hasattr(self, "level_means_") else 0.0
            out[c] = w - centre
            total_base += centre
        derived = derived_levels(features)
        for c, (start, width) in self.derived_.items():
            w = coef[start + np.clip(derived[c][0], 0, width - 1)]
            centre = getattr(self, "level_means_", {}).get(c, 0.0)
            out[c] = w - centre
            total_base += centre
        base = self.n_onehot_
        for k, c in enumerate(self.tf_columns_):
            centre = getattr(self, "level_means_", {}).get(c, 0.0)
            out[c] = coef[base + k] * np.nan_to_num(features[c].to_numpy(dtype=np.float64)) - centre
            total_base += centre
        base += len(self.tf_columns_)
        ctx = self._context_block(derived_levels(features)["evidence"][0] == 0, context)
        n_ctx = len(CONTEXT_COLUMNS)
        for k, c in enumerate(CONTEXT_COLUMNS):  # both copies of a context column in one number
            out[c] = coef[base + k] * ctx[:, k] + coef[base + n_ctx + k] * ctx[:, n_ctx + k]
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
            self.level_means_[c] = float(coef[self._slot(c, lv)].mean())
        derived = derived_levels(features)
        for c, (start, width) in self.derived_.items():
            self.level_means_[c] = float(coef[start + np.clip(derived[c][0], 0, width - 1)].mean())
        base = self.n_onehot_
        for k, c in enumerate(self.tf_columns_):
            v = np.nan_to_num(features[c].to_numpy(dtype=np.float64))
            self.level_means_[c] = float(coef[base + k] * v.mean())
