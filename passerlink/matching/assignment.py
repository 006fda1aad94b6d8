"""One-to-one links as a global optimum over the candidate graph, not a greedy pick.

Maximise the summed weight of the chosen pairs, each person used at most once. Pairs with a weight
of zero or less are never worth choosing; confirmed pairs are forced in (their people are taken
off the market) and rejected pairs are never chosen. The optimum comes from scipy's sparse
bipartite matching on the standard doubled graph (every person may stay unmatched through a dummy
partner, and the dummies of two matched people pair up with each other at no cost); components
of a single candidate pair are taken directly.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

__all__ = ["assign_one_to_one"]


def assign_one_to_one(
    il: np.ndarray,
    ir: np.ndarray,
    weight: np.ndarray,
    *,
    confirmed: np.ndarray | None = None,
    rejected: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask over the pairs: the chosen one-to-one set.

    ``confirmed``/``rejected`` are boolean masks over the same pairs. Two confirmed pairs that share
    a person are a contradiction the caller must resolve; here the later one (in pair order) wins.
    """
    il = np.asarray(il, dtype=np.int64)
    ir = np.asarray(ir, dtype=np.int64)
    w = np.asarray(weight, dtype=np.float64)
    n = len(il)
    chosen = np.zeros(n, dtype=bool)
    if n == 0:
        return chosen
    confirmed = np.zeros(n, bool) if confirmed is None else np.asarray(confirmed, bool)
    rejected = np.zeros(n, bool) if rejected is None else np.asarray(rejected, bool)
    confirmed = confirmed & ~rejected

    taken_l: dict[int, int] = {}
    taken_r: dict[int, int] = {}
    for k in np.nonzero(confirmed)[0]:  # few: one per operator answer
        old = taken_l.get(int(il[k]))
        if old is not None:
            chosen[old] = False
        old = taken_r.get(int(ir[k]))
        if old is not None:
            chosen[old] = False
            taken_l.pop(int(il[old]), None)
        taken_l[int(il[k])] = int(k)
        taken_r[int(ir[k])] = int(k)
        chosen[k] = True
    chosen_confirmed = np.zeros(n, bool)
    chosen_confirmed[list(taken_l.values())] = True
    chosen = chosen_confirmed

    blocked_l = np.zeros(int(il.max()) + 1, bool)
    blocked_r = np.zeros(int(ir.max()) + 1, bool)
    blocked_l[il[chosen]] = True
    blocked_r[ir[chosen]] = True
    open_pairs = (w > 0) & ~rejected & ~chosen & ~blocked_l[il] & ~blocked_r[ir] & np.isfinite(w)
    idx = np.nonzero(open_pairs)[0]
    if len(idx) == 0:
        return chosen
    chosen[idx[_max_weight_matching(il[idx], ir[idx], w[idx])]] = True
    return chosen


def _max_weight_matching(il: np.ndarray, ir: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mask of a maximum-weight matching among positive-weight edges."""
    ul, li = np.unique(il, return_inverse=True)
    ur, ri = np.unique(ir, return_inverse=True)
    nl, nr = len(ul), len(ur)
    # components of the bipartite graph (right nodes offset by nl)
    g = coo_matrix((np.ones(len(li)), (li, ri + nl)), shape=(nl + nr, nl + nr))
    n_comp, labels = connected_components(g, directed=False)
    edge_comp = labels[li]
    out = np.zeros(len(il), dtype=bool)
    trivial = np.bincount(edge_comp, minlength=n_comp) == 1
    out[trivial[edge_comp]] = True  # a component with one edge: take it
    rest = np.nonzero(~trivial[edge_comp])[0]
    if len(rest):  # one sparse solve over all larger components together
        out[rest[_solve_component(li[rest], ri[rest], w[rest])]] = True
    return out


def _solve_component(li: np.ndarray, ri: np.ndarray, w: np.ndarray) -> np.ndarray:
    ul, a = np.unique(li, return_inverse=True)
    ur, b = np.unique(ri, return_inverse=True)
    nl, nr, m = len(ul), len(ur), len(w)
    # rows: left people (0..nl-1) then right dummies (nl..nl+nr-1)
    # cols: right people (0..nr-1) then left dummies (nr..nr+nl-1)
    big = float(w.max()) + 1.0  # all costs positive (explicit zeros would vanish from the matrix)
    rows = np.concatenate([a, np.arange(nl), nl + b])
    cols = np.concatenate([b, nr + np.arange(nl), nr + a])
    cost = np.concatenate([big - w, np.full(nl, big), np.full(m, big)])
    # every right person may also stay unmatched: its dummy row takes it at no gain
    rows = np.concatenate([rows, nl + np.arange(nr)])
    cols = np.concatenate([cols, np.arange(nr)])
    cost = np.concatenate([cost, np.full(nr, big)])
    mat = coo_matrix((cost, (rows, cols)), shape=(nl + nr, nr + nl)).tocsr()
    rows_m, cols_m = min_weight_full_bipartite_matching(mat)
    real = (rows_m < nl) & (cols_m < nr)
    matched = rows_m[real].astype(np.int64) * nr + cols_m[real]
    return np.isin(a.astype(np.int64) * nr + b, matched)
