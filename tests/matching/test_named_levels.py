"""Named levels: a comparison may gain a level without moving any rule that reads levels.

A test-local comparison set adds a level just above "different" to the given name, the birth date
and the e-mail: every level rank above it moves up by one (a rule written ``given >= 3`` would now
mean something else). The rules that ask by name — weak labels, the identifiers in agreement, the
names-only mask, term frequencies, the name orientation, the explanation's words — must give the
same answer for every pair.
"""

import numpy as np
import pandas as pd
import pytest
from _matchworld import registers

from passerlink.features import (
    BIRTH_DATE,
    EMAIL,
    GIVEN,
    Comparison,
    ComparisonLevel,
    add_frequencies,
    compare_pairs,
    default_comparisons,
    prepare_people,
)
from passerlink.matching.candidates import generate_candidates
from passerlink.matching.design import LinkDesign, derived_levels
from passerlink.matching.weaklabels import weak_labels


def with_level_above_else(comp: Comparison, level: ComparisonLevel, condition) -> Comparison:
    """``comp`` with ``level`` inserted just above its else level (it takes only "different" pairs)."""

    def compute(L, R, il, ir):
        conditions, score = comp.compute(L, R, il, ir)
        return {**conditions, level.name: condition(L, R, il, ir)}, score

    return Comparison(comp.name, (*comp.levels[:-1], level, comp.levels[-1]), compute, comp.fields)


def _same_initial(L, R, il, ir):
    return np.array([a[:1] == b[:1] and a != "" for a, b in zip(L.in_use[il], R.in_use[ir], strict=True)])


def _same_decade(L, R, il, ir):
    return (L.dob_digits[il][:, :3] == R.dob_digits[ir][:, :3]).all(axis=1)


def _same_domain(L, R, il, ir):
    return L.email_domain[il] == R.email_domain[ir]


EXTRA = {
    GIVEN.name: with_level_above_else(GIVEN, ComparisonLevel("same_initial", "same initial"), _same_initial),
    BIRTH_DATE.name: with_level_above_else(BIRTH_DATE, ComparisonLevel("same_decade", "same decade"), _same_decade),
    EMAIL.name: with_level_above_else(EMAIL, ComparisonLevel("same_domain", "same domain"), _same_domain),
}


@pytest.fixture(scope="module")
def compared():
    hr, m5, _ = registers(200, seed=8)
    L, R = prepare_people(hr), prepare_people(m5)
    add_frequencies(L, R)
    cand = generate_candidates(L, R)
    # every candidate and a few thousand random pairs (the "different" levels the new ones split)
    rng = np.random.default_rng(0)
    il = np.concatenate([cand.il, rng.integers(0, len(L), 3000)])
    ir = np.concatenate([cand.ir, rng.integers(0, len(R), 3000)])
    base = default_comparisons(L, R)
    grown = [EXTRA.get(c.name, c) for c in base]
    return (compare_pairs(L, R, il, ir, base), {c.name: c for c in base},
            compare_pairs(L, R, il, ir, grown), {c.name: c for c in grown})


def test_the_new_levels_shift_the_ranks_and_take_pairs(compared):
    before, old, after, new = compared
    for name, comp in EXTRA.items():
        assert new[name].code("exact") == old[name].code("exact") + 1
        added = comp.levels[-2].name
        assert (after[name] == new[name].code(added)).sum() > 0, name
    # a rule written with numbers would have moved: "given name rank 3 or more" is another set now
    assert ((before["given_name"] >= 3) != (after["given_name"] >= 3)).any()


def test_every_pair_keeps_its_level_name_unless_the_new_level_took_it_from_different(compared):
    before, old, after, new = compared
    for name, comp in EXTRA.items():
        added = comp.levels[-2].name
        was = [old[name].level_name(int(c)) for c in before[name]]
        now = [new[name].level_name(int(c)) for c in after[name]]
        for a, b in zip(was, now, strict=True):
            assert a == b or (a == "different" and b == added), (name, a, b)


def test_weak_labels_do_not_move(compared):
    before, old, after, new = compared
    rng = np.random.default_rng(1)
    for posterior in (rng.random(len(before)), np.full(len(before), 0.995), np.full(len(before), 0.5)):
        assert (weak_labels(before, posterior, old) == weak_labels(after, posterior, new)).all()


def test_identifiers_in_agreement_and_names_only_do_not_move(compared):
    before, old, after, new = compared
    assert (derived_levels(before, old)["evidence"][0] == derived_levels(after, new)["evidence"][0]).all()
    tf = [c for c in before.columns if c.endswith("_tf")]
    assert (LinkDesign(list(old.values()), tf).names_only(before)
            == LinkDesign(list(new.values()), tf).names_only(after)).all()


def test_term_frequencies_and_the_name_order_do_not_move(compared):
    before, _, after, _ = compared
    for col in ("given_tf", "family_tf", "swapped_names", "family_name", "personnummer", "org_unit"):
        pd.testing.assert_series_equal(before[col], after[col])


def test_the_explanations_words_do_not_move(compared):
    before, old, after, new = compared
    for name in EXTRA:
        words_before = [old[name].label_of(int(c)) for c in before[name]]
        words_after = [new[name].label_of(int(c)) for c in after[name]]
        moved = [(a, b) for a, b in zip(words_before, words_after, strict=True) if a != b]
        assert all(b == new[name].levels[-2].label for _, b in moved)
