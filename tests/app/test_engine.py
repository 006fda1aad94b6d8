"""The review engine over a real MatchSession and link store: persistence, undo, replay after a
restart, and answers that never wait for a retrain."""

from __future__ import annotations

import threading
import time

import pytest

from passerlink.errors import InputError
from passerlink.matching import LinkStore
from passerlink.sources import read_file


@pytest.fixture(scope="module")
def people(world, tmp_path_factory):
    folder = tmp_path_factory.mktemp("world")
    world.write(folder)
    hr = read_file(folder / "hr_export.csv", source="hr", id_column="Anställningsnummer").people
    students = read_file(folder / "students.csv", source="students", id_column="Elev-ID").people
    return {"hr": hr, "students": students}


@pytest.fixture(scope="module")
def m5(world):
    return world.m5_people()


@pytest.fixture
def make(people, m5, tmp_path):
    from passerlink.workbench.engine import ReviewEngine

    made = []

    def build(**kw):
        engine = ReviewEngine(people, m5, LinkStore(tmp_path / "links.sqlite"), **kw).prepare()
        made.append(engine)
        return engine

    yield build
    for e in made:
        e.close()


def answers(store):
    """The operator's rows of the store (the model's proposals are stored beside them)."""
    hist = store.history()
    return hist[hist["decision"].isin(["confirmed", "rejected", "unsure", "manual", "unlinked", "undone"])]


def truth_of(world):
    return {(r.source, str(r.source_id), str(r.m5_id)) for r in world.truth.itertuples()}


def test_every_answer_is_in_the_store_at_once_and_a_double_answer_is_ignored(make, world):
    engine = make()
    truth = truth_of(world)
    q = engine.current()
    assert q is not None
    nxt = engine.answer(q, q.key in truth, "anna")
    hist = answers(engine.store)
    assert len(hist) == 1
    row = hist.iloc[0]
    assert (row.source, row.source_id, row.m5_id, row.who) == (*q.key, "anna")
    assert row.decision == ("confirmed" if q.key in truth else "rejected")
    assert row.probability == pytest.approx(q.probability)
    assert engine.answer(q, True, "anna") == engine.current()  # the same question again: ignored
    assert len(answers(engine.store)) == 1
    assert nxt is None or nxt.key != q.key


def test_undo_brings_the_question_back(make):
    engine = make()
    q = engine.current()
    engine.answer(q, None, "anna")
    assert engine.current() != q
    undone = engine.undo("anna")
    assert undone.decision == "unsure"
    assert engine.current() == q
    current = engine.store.current()
    assert not current["decision"].isin(["confirmed", "rejected", "unsure"]).any()
    assert engine.progress()[0] == 0
    assert engine.undo("bo") is None


def test_version_moves_with_the_probabilities_and_is_never_shared_by_two_engines(make, world):
    engine = make(retrain_every=1000)
    before = engine.version
    q = engine.current()
    p_before = engine.scores()["probability"].to_numpy().copy()
    engine.answer(q, q.key in truth_of(world), "anna")
    engine.wait_idle(60)
    assert engine.version != before
    assert (engine.scores()["probability"].to_numpy() != p_before).any()  # what the version stands for
    assert make().version not in (before, engine.version)


def test_a_fresh_engine_replays_the_store_and_does_not_ask_again(make, world):
    engine = make()
    truth = truth_of(world)
    asked = []
    for _ in range(4):
        q = engine.current()
        asked.append(q.key)
        engine.answer(q, q.key in truth, "anna")
    engine.wait_idle(60)
    engine.close()
    again = make()
    assert again.progress()[0] == 4
    seen = set()
    for _ in range(5):
        q = again.current()
        if q is None:
            break
        seen.add(q.key)
        again.answer(q, q.key in truth, "anna")
    assert not seen & set(asked)


def test_answers_do_not_wait_for_training(make, world):
    engine = make(retrain_every=1000)
    truth = truth_of(world)
    q = engine.current()
    hold = threading.Event()
    started = threading.Event()

    def training():  # as the worker does: hold the sessions' lock for a (long) retrain
        with engine.model_lock:
            started.set()
            hold.wait(10)

    t = threading.Thread(target=training)
    t.start()
    started.wait(5)
    t0 = time.perf_counter()
    nxt = engine.answer(q, q.key in truth, "anna")
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, "the answer waited for the training lock"
    assert len(answers(engine.store)) == 1  # stored at once, training or not
    assert engine.pending == 1  # the label waits for the worker
    assert nxt is not None and nxt.key != q.key
    hold.set()
    t.join()
    engine.request_retrain()
    assert engine.wait_idle(60)
    assert engine.pending == 0
    assert engine.counters.retrains >= 1


def test_manual_link_checks_ids(make, people, m5):
    engine = make()
    with pytest.raises(InputError, match="hr has no person with id 'nope'"):
        engine.manual_link("hr", "nope", m5["source_id"].iloc[0], "anna")
    with pytest.raises(InputError, match="M5 has no user with id 'nope'"):
        engine.manual_link("hr", people["hr"]["source_id"].iloc[0], "nope", "anna")
    engine.manual_link("hr", people["hr"]["source_id"].iloc[0], m5["source_id"].iloc[0], "anna")
    table = engine.link_table()
    row = table[(table["register"] == "hr") & (table["source_id"] == people["hr"]["source_id"].iloc[0])]
    assert "manual" in set(row["decision"])


def test_after_the_model_stops_the_operator_can_still_ask_anyway(make, world):
    engine = make()
    truth = truth_of(world)
    for _ in range(100):  # a simulated operator answering from the truth until the model stops
        q = engine.current()
        while q is not None:
            q = engine.answer(q, q.key in truth, "anna")
        engine.request_retrain()
        assert engine.wait_idle(60)
        if engine.current() is None:
            break
    assert engine.current() is None
    assert engine.counters.stop and engine.counters.estimated_left == 0
    open_pairs = engine.open_pairs  # what "ask anyway (n)" offers: a question exactly when some are left
    assert (engine.ask_anyway() is not None) == (open_pairs > 0)
    assert engine.counters.estimated_left == engine.open_pairs == open_pairs
