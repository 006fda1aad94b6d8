"""One-to-one context: how a pair's score compares with the other candidates of both people.

A pair with a mediocre score whose two people have no better candidate is much more likely a link
than the same score next to a near-perfect rival. With the hypotheses "left person i is person j
on the right" (one per candidate j) and "i has no counterpart among its candidates" (prior 1-pi),
Bayes gives the row posterior::

    P(i = j) = exp(z_ij) / ((1 - pi) + sum_k exp(z_ik))

for pair log-odds ``z``; the same per right person gives the column posterior. ``pi``, the share
of people that do have a counterpart, is estimated by iterating that formula to a fixed point.
Everything is vectorised over the pair arrays with group sums and maxima (numpy).
"""

from __future__ import annotations

import numpy as np

__all__ = ["Groups", "group_posterior", "rival_posterior", "estimate_coverage", "one_to_one_posterior", "competitor_scores"]

_NEG = -700.0


class Groups:
    """A group-id array with its sort order computed once (the operator loop reuses it)."""

    def __init__(self, groups: np.ndarray) -> None:
        self.ids = np.asarray(groups, dtype=np.int64)
        self.order = np.argsort(self.ids, kind="stable")
        g = self.ids[self.order]
        self.starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.zeros(0, np.int64)
        self.heads = g[self.starts]
        self.size = int(self.ids.max()) + 1 if len(self.ids) else 0

    def max(self, values: np.ndarray) -> np.ndarray:
        out = np.full(self.size, -np.inf)
        if len(self.ids):
            out[self.heads] = np.maximum.reduceat(values[self.order], self.starts)
        return out[self.ids]

    def sum(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.ids, weights=values, minlength=self.size)[self.ids]


def _groups(groups: np.ndarray | Groups) -> Groups:
    return groups if isinstance(groups, Groups) else Groups(groups)


def group_posterior(z: np.ndarray, groups: np.ndarray | Groups, coverage: float) -> np.ndarray:
    """Row (or column) posterior of each pair among the candidates of its group."""
    if len(z) == 0:
        return np.zeros(0)
    g = _groups(groups)
    z = np.clip(np.asarray(z, dtype=np.float64), _NEG, 700.0)
    none = np.log(max(1.0 - coverage, 1e-12))
    top = g.max(z)
    base = np.maximum(top, none)
    e = np.exp(z - base)
    total = g.sum(e)
    return e / (np.exp(none - base) + total)


def rival_posterior(z_own: np.ndarray, z_rivals: np.ndarray, groups: np.ndarray | Groups,
                    coverage: float) -> np.ndarray:
    """Row posterior of each pair from its own score ``z_own`` against the *other* pairs of its
    group scored ``z_rivals`` (the operator's answers applied to the rivals only: a pair's own
    answer must not leak into its own context, or the classifier learns nothing from answers).
    """
    if len(z_own) == 0:
        return np.zeros(0)
    z_own = np.clip(np.asarray(z_own, dtype=np.float64), _NEG, 700.0)
    z_rivals = np.clip(np.asarray(z_rivals, dtype=np.float64), _NEG, 700.0)
    none = np.log(max(1.0 - coverage, 1e-12))
    g = _groups(groups)
    top = g.max(np.maximum(z_rivals, z_own))
    base = np.maximum(top, none)
    e_riv = np.exp(z_rivals - base)
    total = g.sum(e_riv) - e_riv
    e_own = np.exp(z_own - base)
    return e_own / (np.exp(none - base) + np.maximum(total, 0.0) + e_own)


def estimate_coverage(z: np.ndarray, groups: np.ndarray | Groups, n_people: int, *, start: float = 0.5,
                      iterations: int = 40, cap: float = 0.995) -> float:
    """Fixed point of "expected share of people with a counterpart" under the row posterior."""
    if n_people == 0 or len(z) == 0:
        return 0.0
    groups = _groups(groups)
    pi = float(np.clip(start, 0.01, cap))
    for _ in range(iterations):
        new = float(np.clip(group_posterior(z, groups, pi).sum() / n_people, 0.01, cap))
        if abs(new - pi) < 1e-5:
            pi = new
            break
        pi = new
    return pi


def one_to_one_posterior(z: np.ndarray, il: np.ndarray, ir: np.ndarray, coverage_left: float,
                         coverage_right: float) -> tuple[np.ndarray, np.ndarray]:
    """(row posterior, column posterior) of every pair."""
    return group_posterior(z, il, coverage_left), group_posterior(z, ir, coverage_right)


def competitor_scores(z: np.ndarray, groups: np.ndarray, missing: float = -30.0) -> np.ndarray:
    """For each pair, the best score of another pair in the same group (``missing`` if none)."""
    n = len(z)
    if n == 0:
        return np.zeros(0)
    order = np.lexsort((-z, groups))
    g_sorted, z_sorted = groups[order], z[order]
    first = np.ones(n, dtype=bool)
    first[1:] = g_sorted[1:] != g_sorted[:-1]
    start_idx = np.nonzero(first)[0]
    group_id = np.cumsum(first) - 1
    top1 = z_sorted[start_idx][group_id]
    has_second = np.zeros(len(start_idx), dtype=bool)
    second_pos = start_idx + 1
    valid = second_pos < n
    has_second[valid] = ~first[second_pos[valid]]
    top2_vals = np.full(len(start_idx), missing)
    top2_vals[has_second] = z_sorted[second_pos[has_second]]
    top2 = top2_vals[group_id]
    is_first = first
    comp_sorted = np.where(is_first, top2, top1)
    out = np.empty(n)
    out[order] = comp_sorted
    return out
