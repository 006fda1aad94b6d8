"""The questions-left estimate shown to the operator: consistent with ``should_stop`` and falling."""

import pytest

from passerlink.matching import match_registers
from passerlink.matching.driver import oracle_from_pairs
from passerlink.sampleworld import generate_world
from passerlink.sources import canonicalize


@pytest.fixture(scope="module")
def small_world():
    world = generate_world(seed=3, staff=150, pupils=150)
    hr = canonicalize(world.hr, source="hr", id_column="Anställningsnummer").people
    pupils = canonicalize(world.students, source="students", id_column="Elev-ID").people
    m5 = world.m5_people()
    truth = world.truth.astype(str)
    operator = oracle_from_pairs(zip(truth["source"] + ":" + truth["source_id"], truth["m5_id"], strict=True))
    return hr, pupils, m5, operator


def test_estimate_falls_as_answers_come_in_and_is_zero_when_asking_stops(small_world):
    hr, pupils, m5, operator = small_world
    s = match_registers({"hr": hr, "students": pupils}, m5, seed=3).session
    estimates, stops = [s.estimated_questions_left()], [s.should_stop()]
    asked = 0
    while not s.should_stop() and asked < 200:
        pairs = s.uncertain_pairs(5)
        if not pairs:
            break
        s.mark_pairs(pairs, operator(pairs))
        asked += len(pairs)
        s.retrain()
        estimates.append(s.estimated_questions_left())
        stops.append(s.should_stop())
    assert stops[-1], "the simulated operator never reached should_stop()"
    assert asked >= 5, "the world needs some questions for the test to mean anything"
    assert estimates[0] > 0
    for est, stop in zip(estimates, stops, strict=True):
        assert (est == 0) == stop
    assert estimates[-1] == 0 < estimates[0]
    # falls as answers come in: never above the first estimate, and halved halfway through
    assert max(estimates[1:]) <= estimates[0]
    assert estimates[len(estimates) // 2] <= estimates[0] / 2 or len(estimates) <= 3
    # honest: within a factor of three of the answers actually still asked (batches of 5)
    assert estimates[0] <= 3 * asked and asked <= 3 * estimates[0] + 5
