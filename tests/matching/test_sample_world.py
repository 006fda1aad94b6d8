"""End to end on a generated Swedish municipality (HR + pupils vs M5): a quality floor."""

import pytest

from passerlink.matching import evaluate, match_registers
from passerlink.sampleworld import generate_world
from passerlink.sync.readers import canonicalize


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
    true_pairs = set(zip(truth["source"] + ":" + truth["source_id"], truth["m5_id"], strict=True))
    asked = 0
    while asked < 50 and not s.should_stop():
        pairs = s.uncertain_pairs(min(10, 50 - asked))
        if not pairs:
            break
        s.mark_pairs(pairs, [p in true_pairs for p in pairs])
        asked += len(pairs)
        s.retrain()
    result = evaluate(joint.links(), truth)
    assert result["precision"] >= 0.99
    assert result["recall"] >= 0.9
    assert joint.links()["m5_id"].is_unique
