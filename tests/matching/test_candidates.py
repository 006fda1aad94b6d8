"""Candidate generation: a union of sparse keys that still finds the hard true pairs."""

import numpy as np
from _matchworld import frame, registers

from passerlink.features import add_frequencies, prepare_people
from passerlink.matching import blocking_recall, generate_candidates


def _prepared(left, right):
    L, R = prepare_people(left), prepare_people(right)
    add_frequencies(L, R)
    return L, R


def _truth_idx(left, right, truth):
    lpos = {v: i for i, v in enumerate(left["source_id"])}
    rpos = {v: i for i, v in enumerate(right["source_id"])}
    return (np.array([lpos[a] for a in truth["left_id"]]), np.array([rpos[b] for b in truth["right_id"]]))


def test_every_true_pair_is_a_candidate_and_the_product_is_not():
    hr, m5, truth = registers(300, seed=1)
    L, R = _prepared(hr, m5)
    cand = generate_candidates(L, R)
    il, ir = _truth_idx(hr, m5, truth)
    report = blocking_recall(cand, il, ir, n_right=len(m5))
    assert report["recall"] == 1.0
    assert report["pairs"] < 0.1 * len(hr) * len(m5)
    assert set(cand.per_key) >= {"birth_date", "names", "sorted_names", "personnummer"}
    width = len(m5)
    codes = cand.il * width + cand.ir
    assert len(np.unique(codes)) == len(codes)  # unique pairs


def test_hard_pairs_are_found():
    left = frame([
        {"source_id": "a", "given_names": "Anna", "family_name": "Svensson", "birth_date": "1980-01-02"},
        {"source_id": "b", "given_names": "Maria", "family_name": "Lind", "birth_date": "1975-05-06"},
        {"source_id": "c", "given_names": "Per", "family_name": "Holm", "birth_date": "1990-09-09"},
    ], "hr")
    right = frame([
        {"source_id": "x", "given_names": "Svensson", "family_name": "Anna"},  # swapped, no date
        {"source_id": "y", "given_names": "Maria", "family_name": "Berg", "birth_date": "1975-05-06"},  # married
        {"source_id": "z", "given_names": "Pelle", "family_name": "Holm"},  # nickname, no date
    ], "m5")
    L, R = _prepared(left, right)
    cand = generate_candidates(L, R)
    pairs = set(zip(cand.il.tolist(), cand.ir.tolist(), strict=True))
    assert {(0, 0), (1, 1), (2, 2)} <= pairs


def test_oversized_blocks_are_skipped_not_exploded():
    left = frame([{"source_id": f"l{i}", "given_names": f"N{i}", "family_name": f"F{i}",
                   "birth_date": "1970-01-01"} for i in range(80)], "hr")
    right = frame([{"source_id": f"r{i}", "given_names": f"Q{i}", "family_name": f"G{i}",
                    "birth_date": "1970-01-01"} for i in range(80)], "m5")
    L, R = _prepared(left, right)
    cand = generate_candidates(L, R, max_block_pairs=1000)
    assert cand.skipped_blocks.get("birth_date") == 1
    assert len(cand) < 80 * 80 / 4
