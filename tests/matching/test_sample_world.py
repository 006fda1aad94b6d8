"""End to end on a generated Swedish municipality (HR + pupils vs M5): a quality floor."""

import pytest

from passerlink.matching import ask_operator, evaluate, match_registers, oracle_from_pairs
from passerlink.sampleworld import generate_world
from passerlink.sources import canonicalize


@pytest.fixture(scope="module")
def world():
    w = generate_world(seed=11, staff=300, pupils=400)
    hr = canonicalize(w.hr, source="hr", id_column="Anställningsnummer").people
    pupils = canonicalize(w.students, source="students", id_column="Elev-ID").people
    m5 = w.m5_people()
    return hr, pupils, m5, w.truth.astype(str)


def test_quality_floor_at_fifty_questions(world):
    hr, pupils, m5, truth = world
    joint = match_registers({"hr": hr, "students": pupils}, m5, seed=0)
    s = joint.session
    operator = oracle_from_pairs(zip(truth["source"] + ":" + truth["source_id"], truth["m5_id"], strict=True))
    ask_operator(s, operator, 50, batch=10)
    result = evaluate(joint.links(), truth)
    assert result["precision"] >= 0.99
    assert result["recall"] >= 0.9
    assert joint.links()["m5_id"].is_unique
