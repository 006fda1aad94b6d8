"""One-to-one assignment: a global optimum that respects every operator decision."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from passerlink.matching import assign_one_to_one


@st.composite
def graphs(draw):
    n_left = draw(st.integers(1, 7))
    n_right = draw(st.integers(1, 7))
    edges = draw(st.lists(st.tuples(st.integers(0, n_left - 1), st.integers(0, n_right - 1)),
                          min_size=1, max_size=25, unique=True))
    il = np.array([e[0] for e in edges])
    ir = np.array([e[1] for e in edges])
    w = np.array(draw(st.lists(st.floats(-5, 5), min_size=len(edges), max_size=len(edges))))
    confirmed = np.array(draw(st.lists(st.booleans(), min_size=len(edges), max_size=len(edges))))
    rejected = np.array(draw(st.lists(st.booleans(), min_size=len(edges), max_size=len(edges))))
    return n_left, n_right, il, ir, w, confirmed & (np.arange(len(edges)) % 3 == 0), rejected


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_one_to_one_and_optimal(g):
    n_left, n_right, il, ir, w, _, _ = g
    chosen = assign_one_to_one(il, ir, w)
    assert len(set(il[chosen])) == chosen.sum() and len(set(ir[chosen])) == chosen.sum()
    assert (w[chosen] > 0).all()
    dense = np.zeros((n_left, n_right))
    dense[il, ir] = np.maximum(w, 0)
    r, c = linear_sum_assignment(dense, maximize=True)
    assert abs(dense[r, c].sum() - w[chosen].sum()) < 1e-9


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_decisions_are_always_respected(g):
    _, _, il, ir, w, confirmed, rejected = g
    confirmed = confirmed & ~rejected
    # the caller never confirms two pairs sharing a person
    seen_l, seen_r, keep = set(), set(), np.zeros_like(confirmed)
    for k in np.nonzero(confirmed)[0]:
        if il[k] not in seen_l and ir[k] not in seen_r:
            keep[k] = True
            seen_l.add(il[k])
            seen_r.add(ir[k])
    chosen = assign_one_to_one(il, ir, w, confirmed=keep, rejected=rejected)
    assert chosen[keep].all()
    assert not chosen[rejected].any()
    assert len(set(il[chosen])) == chosen.sum() and len(set(ir[chosen])) == chosen.sum()


def test_global_not_greedy():
    # greedy would take the 10 and leave 9 + 9 = 18 unused
    il = np.array([0, 0, 1])
    ir = np.array([0, 1, 0])
    w = np.array([10.0, 9.0, 9.0])
    chosen = assign_one_to_one(il, ir, w)
    assert chosen.tolist() == [False, True, True]
