"""run_matching's question batches: small first (the first answers teach most), then larger."""

from passerlink.matching.driver import _batch_size


def _schedule(budget, batch=None):
    sizes, asked = [], 0
    while asked < budget:
        sizes.append(_batch_size(budget, asked, len(sizes), batch))
        asked += sizes[-1]
    return sizes


def test_batches_grow_to_a_fifth_of_the_budget_and_never_pass_it():
    assert _schedule(50) == [10] * 5
    assert _schedule(200) == [10, 15, 22, 34, 40, 40, 39]
    assert _schedule(5) == [5]
    for budget in (1, 37, 100, 150, 999):
        sizes = _schedule(budget)
        assert sum(sizes) == budget
        assert max(sizes) <= max(10, budget // 5)


def test_a_given_batch_size_is_kept():
    assert _schedule(45, batch=10) == [10, 10, 10, 10, 5]
