"""The link classifier: an L2-regularised logistic regression with the scikit-learn interface.

``fit(X, y, sample_weight)``, ``decision_function(X)``, ``predict_proba(X)``, ``predict(X)``,
``score(X, y)``, ``classes_``, ``coef_``, ``intercept_``, ``get_params``/``set_params``: what a scikit-learn
binary classifier offers, so the link model (``matching.model``) can take this one or any
scikit-learn classifier in its place. It does not inherit scikit-learn's ``BaseEstimator``:
importing scikit-learn costs more than half a second at every ``passerlink match`` start, for a
model that is twenty lines of L-BFGS. The objective and the solver are scikit-learn's
``LogisticRegression(solver="lbfgs")``'s (mean weighted log-loss + ``||w||² / (2 C Σw)``,
scipy's L-BFGS-B, the same tolerances), so its weights match scikit-learn's to the solver's
tolerance (``tests/matching/test_classifier.py`` holds it to that).

The design matrix it learns from (one-hot comparison levels, term frequencies, one-to-one
context: ``matching.design``) is a discriminative Fellegi-Sunter: each level gets a weight, but
the weights are learnt jointly, so correlated comparisons are not counted twice. Fitting on a
few hundred thousand rows takes well under a second, which is what lets the operator's answers
retrain it between questions. ``warm_start=True`` starts a refit at the last weights (a retrain
after a few answers), with a looser stopping rule there (``warm_tol``): it halves the L-BFGS
rounds of a retrain; on FEBRL4 and the Swedish sample worlds F1 was the same or a little higher.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np
from scipy import sparse

__all__ = ["LinkClassifier", "logit", "sigmoid"]


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(z, dtype=np.float64), -700, 700)))


def _as_matrix(X: Any) -> sparse.csr_matrix | np.ndarray:
    """``X`` as a float64 CSR or 2-d array, refused in one sentence when it cannot be one."""
    if sparse.issparse(X):
        csr = sparse.csr_matrix(X)
        if np.iscomplexobj(csr.data):
            raise ValueError("Complex data not supported")
        out = csr.astype(np.float64, copy=False)
        values = out.data
    else:
        arr = np.asarray(X)
        if np.iscomplexobj(arr):
            raise ValueError("Complex data not supported")
        if arr.ndim != 2:
            raise ValueError(f"expected a 2-d design matrix, got an array of shape {arr.shape}: "
                             "Reshape your data (X.reshape(-1, 1) for one feature, X.reshape(1, -1) for one row)")
        out = arr.astype(np.float64)
        values = out
    if out.shape[0] == 0 or out.shape[1] == 0:
        raise ValueError(f"Found array with {out.shape[0]} sample(s) and {out.shape[1]} feature(s) "
                         f"(shape={out.shape}, 0 feature(s) (shape={out.shape}) while a minimum of 1 is required.")
    if not np.isfinite(values).all():
        raise ValueError("X contains NaN or inf: every design value must be finite")
    return out


def _as_labels(y: Any, n: int) -> np.ndarray:
    if y is None:
        raise ValueError("LinkClassifier requires y to be passed, but the target y is None")
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected: it is read as 1-d",
                      _sklearn_class("DataConversionWarning", UserWarning), stacklevel=3)
        labels = labels.ravel()
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"y needs one label per row of X ({n}), got shape {labels.shape}")
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
        raise ValueError("Unknown label type: continuous (a link classifier needs two classes)")
    return labels


def _sklearn_class(name: str, fallback: type) -> type:
    """scikit-learn's exception or warning class ``name`` when scikit-learn is loaded anyway (its
    tools catch those classes), else ``fallback``: scikit-learn is not imported for an error."""
    if "sklearn" in sys.modules:
        from sklearn import exceptions

        return getattr(exceptions, name)
    return fallback


def _not_fitted() -> Exception:
    return _sklearn_class("NotFittedError", ValueError)("this LinkClassifier is not fitted yet: call fit() first")


class LinkClassifier:
    """Binary logistic regression (L2, L-BFGS) with scikit-learn's estimator interface."""

    _PARAMS = ("C", "max_iter", "tol", "warm_start", "warm_tol")
    # learnt by fit (scikit-learn's convention: absent before it)
    classes_: np.ndarray
    coef_: np.ndarray  # (1, n_features)
    intercept_: np.ndarray  # (1,)
    n_iter_: np.ndarray
    n_features_in_: int

    def __init__(self, *, C: float = 1.0, max_iter: int = 300, tol: float = 1e-4, warm_start: bool = False,
                 warm_tol: float = 3.0) -> None:
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.warm_tol = warm_tol

    # ---- scikit-learn's parameter protocol (clone, grid search) ----------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {p: getattr(self, p) for p in self._PARAMS}

    def set_params(self, **params: Any) -> LinkClassifier:
        for key, value in params.items():
            if key not in self._PARAMS:
                raise ValueError(f"LinkClassifier has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def __sklearn_tags__(self) -> Any:
        """What scikit-learn's tools (``clone``, ``cross_val_score``, the estimator checks) ask of
        an estimator; imported here, when scikit-learn is already loaded by whoever asks."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(multi_class=False), input_tags=InputTags(sparse=True))

    def __repr__(self) -> str:
        return f"LinkClassifier({', '.join(f'{p}={getattr(self, p)!r}' for p in self._PARAMS)})"

    # ---- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinkClassifier:
        """Fit on the design matrix ``X`` and labels ``y`` (two classes; the larger is "link")."""
        from scipy.optimize import minimize  # ~0.25 s of import: only where a model is fitted
        from threadpoolctl import ThreadpoolController

        X = _as_matrix(X)
        y = _as_labels(y, X.shape[0])
        classes = np.unique(y)
        if len(classes) > 2:
            raise ValueError(f"Only binary classification is supported: got {len(classes)} classes")
        if len(classes) < 2:
            raise ValueError(f"a link classifier needs samples of exactly 2 classes, got {len(classes)} class")
        target = (y == classes[1]).astype(np.float64)
        sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if sw.shape != (len(y),):
            raise ValueError("sample_weight needs one weight per row of X")
        if not np.isfinite(sw).all() or (sw < 0).any() or sw.sum() <= 0:
            raise ValueError("sample weights must be finite, non-negative and not all zero")
        sw_sum = float(sw.sum())
        l2 = 1.0 / (self.C * sw_sum)
        n_features = X.shape[1]
        w0 = np.zeros(n_features + 1)
        tol = self.tol
        if self.warm_start and getattr(self, "coef_", None) is not None and self.coef_.shape[1] == n_features:
            w0[:-1], w0[-1] = self.coef_.ravel(), self.intercept_[0]
            tol = self.tol * self.warm_tol

        Xt = X.T.tocsr() if sparse.issparse(X) else X.T  # row-wise products both ways

        def loss_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
            weights, intercept = w[:-1], w[-1]
            raw = X @ weights + intercept
            e = np.exp(-np.abs(raw))  # one exponential serves the loss and the gradient
            log1pexp = np.maximum(raw, 0.0) + np.log1p(e)
            p = np.where(raw >= 0, 1.0, e) / (1.0 + e)
            loss = float(sw @ (log1pexp - target * raw)) / sw_sum + 0.5 * l2 * float(weights @ weights)
            pointwise = sw * (p - target) / sw_sum
            grad = np.empty_like(w)
            grad[:-1] = Xt @ pointwise + l2 * weights
            grad[-1] = pointwise.sum()
            return loss, grad

        # L-BFGS works on vectors of a hundred weights: BLAS threads only add hand-overs (twice
        # the wall time of the fit on two busy cores), so the solver runs on one
        with ThreadpoolController().limit(limits=1, user_api="blas"):
            result = minimize(loss_grad, w0, method="L-BFGS-B", jac=True,
                              options={"maxiter": self.max_iter, "maxls": 50, "gtol": tol,
                                       "ftol": 64 * np.finfo(float).eps})
        self.classes_ = classes
        self.coef_ = result.x[:-1].reshape(1, -1).copy()
        self.intercept_ = np.array([result.x[-1]])
        self.n_iter_ = np.array([min(int(result.nit), self.max_iter)])
        self.n_features_in_ = n_features
        return self

    # ---- predicting ------------------------------------------------------------------------
    def _check_fitted(self, X: Any) -> sparse.csr_matrix | np.ndarray:
        if getattr(self, "coef_", None) is None:
            raise _not_fitted()
        X = _as_matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but LinkClassifier is expecting "
                             f"{self.n_features_in_} features as input")
        return X

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of the link class per row."""
        X = self._check_fitted(X)
        return np.asarray(X @ self.coef_.ravel() + self.intercept_[0]).ravel()

    def predict_proba(self, X: Any) -> np.ndarray:
        p = sigmoid(self.decision_function(X))
        return np.stack([1 - p, p], axis=1)

    def predict(self, X: Any) -> np.ndarray:
        z = self.decision_function(X)  # refuses an unfitted classifier before classes_ is read
        return self.classes_[(z > 0).astype(np.int64)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy (scikit-learn's classifier default score)."""
        hit = (self.predict(X) == np.asarray(y)).astype(np.float64)
        return float(np.average(hit, weights=sample_weight))
