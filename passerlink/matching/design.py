"""The classifier's input: comparison levels, term frequencies and one-to-one context as a matrix.

Every comparison's level becomes one-hot columns (missing on the right, on the left and on both
sides are columns of their own, never 0), the term-frequency columns are copied as they are, two
derived categorical columns add the interactions a linear model cannot form by itself, and the
context (the starting model's log-odds and the pair's row and column one-to-one posteriors) comes
last, twice: once for every pair and once for the pairs that agree on names only. The part that
answers never change (everything but the context) is built once per session (``static_part``);
the context is added per retrain (``assemble``). Rules here ask for levels by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from passerlink.features.comparisons import Comparison, level_in

__all__ = ["CONTEXT_COLUMNS", "IDENTIFIER_AGREEMENT", "LinkDesign", "StaticDesign", "derived_levels",
           "identifiers_agreeing"]

CONTEXT_COLUMNS = ("prior_logit", "row_logit", "col_logit")
MISSING_SLOTS = 3  # levels -3 (right missing), -2 (left missing), -1 (both missing)

#: The levels under which an identifier counts as agreeing: what a names-only pair lacks.
IDENTIFIER_AGREEMENT: dict[str, tuple[str, ...]] = {
    "personnummer": ("exact", "one_digit_off"),
    "birth_date": ("exact", "one_digit_off"),
    "email": ("exact", "same_local_part"),
    "employee_number": ("exact", "one_edit"),
}
_EVIDENCE_WIDTH = 4  # 0, 1, 2, 3 or more identifiers in agreement


def identifiers_agreeing(features: pd.DataFrame, comparisons: Mapping[str, Comparison]) -> np.ndarray:
    """Per pair: how many identifiers (``IDENTIFIER_AGREEMENT``) agree."""
    n = np.zeros(len(features), dtype=np.int64)
    for column, names in IDENTIFIER_AGREEMENT.items():
        n += level_in(features, comparisons, column, *names)
    return n


def derived_levels(features: pd.DataFrame,
                   comparisons: Mapping[str, Comparison]) -> dict[str, tuple[np.ndarray, int]]:
    """Interactions a linear model cannot form by itself, as extra categorical columns (value, width).

    ``evidence`` counts the identifiers that agree (personnummer, birth date, e-mail, employee
    number): a pair that agrees on names only is a different animal from one that agrees on names
    and a personnummer. ``org_unit_names_only`` is the org unit level for pairs without any such
    evidence (0 otherwise): for a names-only pair a different unit is the hint that the M5 user is
    a namesake, while for a pair with a matching personnummer it is just a stale department.
    """
    ev = identifiers_agreeing(features, comparisons)
    out = {"evidence": (np.minimum(ev, _EVIDENCE_WIDTH - 1), _EVIDENCE_WIDTH)}
    org = comparisons.get("org_unit")
    if org is not None and org.name in features.columns:
        level = features[org.name].to_numpy(dtype=np.int64)  # -3 .. n_levels - 1; slot 0 = "has evidence"
        out["org_unit_names_only"] = (np.where(ev == 0, level + MISSING_SLOTS + 1, 0),
                                      org.n_levels + MISSING_SLOTS + 1)
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


@dataclass(frozen=True)
class StaticDesign:
    """The answer-independent part of the design for some pairs, and their names-only mask."""

    matrix: sparse.csr_matrix
    names_only: np.ndarray

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def take(self, rows: np.ndarray | slice) -> StaticDesign:
        return StaticDesign(self.matrix[rows], self.names_only[rows])

    @staticmethod
    def stack(parts: Sequence[StaticDesign]) -> StaticDesign:
        return StaticDesign(sparse.vstack([p.matrix for p in parts], format="csr"),
                            np.concatenate([p.names_only for p in parts]))


class LinkDesign:
    """The layout of the design matrix for one set of comparisons and term-frequency columns."""

    def __init__(self, comparisons: Sequence[Comparison], tf_columns: Sequence[str]) -> None:
        self.comparisons = {c.name: c for c in comparisons}
        self.level_columns = [c.name for c in comparisons]
        self.tf_columns = list(tf_columns)
        self.offsets: dict[str, int] = {}
        names: list[str] = []
        pos = 0
        for c in comparisons:
            self.offsets[c.name] = pos
            width = c.n_levels + MISSING_SLOTS  # slots 0-2: missing (right, left, both)
            names += [f"{c.name}={c.level_name(k - MISSING_SLOTS)}" for k in range(width)]
            pos += width
        self.derived: dict[str, tuple[int, int]] = {}
        empty = pd.DataFrame({c: np.zeros(0, np.int8) for c in self.level_columns})
        for name, (_, width) in derived_levels(empty, self.comparisons).items():
            self.derived[name] = (pos, width)
            names += [f"{name}={k}" for k in range(width)]
            pos += width
        self.n_onehot = pos
        self.n_static = pos + len(self.tf_columns)
        self.feature_names = (names + self.tf_columns + list(CONTEXT_COLUMNS)
                              + [f"{c}|names_only" for c in CONTEXT_COLUMNS])

    @property
    def n_columns(self) -> int:
        return len(self.feature_names)

    def slot(self, column: str, levels: np.ndarray) -> np.ndarray:
        """Design column of each pair's level of ``column``."""
        width = self.comparisons[column].n_levels + MISSING_SLOTS
        return self.offsets[column] + np.clip(np.asarray(levels, np.int64) + MISSING_SLOTS, 0, width - 1)

    def derived_slots(self, features: pd.DataFrame) -> dict[str, np.ndarray]:
        derived = derived_levels(features, self.comparisons)
        return {name: start + np.clip(derived[name][0], 0, width - 1)
                for name, (start, width) in self.derived.items()}

    def names_only(self, features: pd.DataFrame) -> np.ndarray:
        """Pairs with no identifier in agreement."""
        return identifiers_agreeing(features, self.comparisons) == 0

    def static_part(self, features: pd.DataFrame) -> StaticDesign:
        """The part of the design that answers never change (levels, term frequencies), and the
        names-only mask; the operator loop computes it once and adds the context per retrain."""
        n = len(features)
        cols = [self.slot(c, features[c].to_numpy(dtype=np.int64)) for c in self.level_columns]
        cols += list(self.derived_slots(features).values())
        k = len(cols)
        indices = np.stack(cols, axis=1).ravel().astype(np.int32) if k else np.zeros(0, np.int32)
        onehot = sparse.csr_matrix((np.ones(n * k), indices, np.arange(n + 1, dtype=np.int64) * k),
                                   shape=(n, self.n_onehot))
        tf = self.tf_values(features)
        return StaticDesign(_append_dense(onehot, tf), self.names_only(features))

    def tf_values(self, features: pd.DataFrame) -> np.ndarray:
        if not self.tf_columns:
            return np.zeros((len(features), 0))
        return np.nan_to_num(features[self.tf_columns].to_numpy(dtype=np.float64))

    @staticmethod
    def context_block(names_only: np.ndarray, context: np.ndarray) -> np.ndarray:
        """The context columns, twice: for all pairs, and again for pairs agreeing on names only.

        Rivals (or their absence) mean more when identifiers back a pair than when only the names
        agree: a contractor in M5 with an employee's name has no rival either.
        """
        ctx = np.clip(np.asarray(context, dtype=np.float64), -30, 30) / 10.0
        return np.concatenate([ctx, ctx * np.asarray(names_only, bool)[:, None]], axis=1)

    def assemble(self, static: StaticDesign, context: np.ndarray) -> sparse.csr_matrix:
        """The full design matrix: the static part and the ``(n, 3)`` context."""
        return _append_dense(static.matrix, self.context_block(static.names_only, context))
