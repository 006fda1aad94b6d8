"""Active learning, rule by rule, on hand-made conversations (no model: the numbers are set)."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from passerlink.matching.active import (
    expected_errors,
    open_questions,
    pick_questions,
    questions_left,
    questions_to_stop,
    stop_paying_off,
)
from passerlink.matching.answers import Answer


@dataclass
class Conversation:
    """A ``QuestionState``: pairs (il, ir) with probabilities, links, answers and level patterns."""

    il: np.ndarray
    ir: np.ndarray
    probability: np.ndarray
    linked: np.ndarray
    decision: np.ndarray = None
    patterns: list[int] = None
    history: list = field(default_factory=list)
    ask_threshold: float = 0.05
    auto_threshold: float = 0.95
    verify_below: float = 0.99
    fp_cost: float = 5.0
    errors_at_start: float = 0.0
    level_columns: list = field(default_factory=lambda: ["given_name"])

    def __post_init__(self):
        n = len(self.il)
        self.il, self.ir = np.asarray(self.il), np.asarray(self.ir)
        self.probability = np.asarray(self.probability, dtype=float)
        self.linked = np.asarray(self.linked, dtype=bool)
        self.decision = np.zeros(n, np.int8) if self.decision is None else np.asarray(self.decision, np.int8)
        self.features = pd.DataFrame({"given_name": self.patterns if self.patterns is not None else np.arange(n)})
        self.left_ids = np.array([f"l{i}" for i in range(int(self.il.max()) + 1)])
        self.right_ids = np.array([f"r{j}" for j in range(int(self.ir.max()) + 1)])


def chain(probabilities, linked=None, **kw):
    """Pairs (k, k): every pair its own people."""
    n = len(probabilities)
    return Conversation(np.arange(n), np.arange(n), probabilities,
                        np.zeros(n, bool) if linked is None else linked, **kw)


def test_only_pairs_whose_answer_can_change_the_links_are_open():
    s = chain([0.01, 0.05, 0.5, 0.949, 0.95, 0.97, 0.995, 0.97],
              linked=[0, 0, 0, 0, 0, 1, 1, 1], decision=[0, 0, 0, 0, 0, 0, 0, Answer.YES])
    # too unlikely | in band (3) | cleared the bar but lost its person | shaky link | sure link | answered
    assert open_questions(s).tolist() == [False, True, True, True, True, True, False, False]


def test_people_settled_by_a_confirmed_answer_are_not_asked_about_again():
    s = Conversation([0, 0, 1], [0, 1, 1], [0.99, 0.5, 0.5], [1, 0, 0], decision=[Answer.YES, 0, 0])
    assert open_questions(s).tolist() == [False, False, True]  # pair 1 shares l0 with the confirmed pair


@pytest.mark.parametrize("answer", [Answer.NO, Answer.UNSURE])
def test_a_pair_answered_no_or_unsure_is_not_asked_again(answer):
    s = chain([0.5, 0.5], decision=[answer, 0])
    assert open_questions(s).tolist() == [False, True]


def test_the_question_that_changes_the_link_table_most_comes_first():
    # unlinked pairs gain p correct links; a linked one is wrong with 1 - p, a wrong link costs fp_cost
    s = chain([0.3, 0.6, 0.9, 0.97], linked=[0, 0, 0, 1])
    gains = [0.3, 0.6, 0.9, 5.0 * 0.03]
    assert pick_questions(s, 4).tolist() == list(np.argsort(gains)[::-1])
    s.fp_cost = 50.0  # a wrong link costs more: the shaky link goes first
    assert pick_questions(s, 1).tolist() == [3]


def test_one_question_per_person_in_a_batch():
    s = Conversation([0, 0, 1, 2], [0, 1, 1, 2], [0.6, 0.55, 0.5, 0.2], [0, 0, 0, 0])
    assert pick_questions(s, 3).tolist() == [0, 2, 3]  # pair 1 (l0 again) waits for the next batch


def test_a_batch_takes_at_most_a_quarter_from_one_pattern_of_levels_while_others_are_left():
    s = chain([0.9, 0.89, 0.88, 0.87, 0.3, 0.2, 0.1, 0.09], patterns=[7, 7, 7, 7, 7, 5, 3, 1])
    assert pick_questions(s, 4).tolist() == [0, 5, 6, 7]  # one of pattern 7, then the others
    # when the other patterns run out, the batch is still filled rather than asking fewer
    s = chain([0.9, 0.89, 0.88, 0.3], patterns=[7, 7, 7, 5])
    assert pick_questions(s, 4).tolist() == [0, 3, 1, 2]


def test_a_heavy_group_of_alike_pairs_gets_a_question_before_the_lone_likely_pairs():
    # four lone pairs just under auto, then ten alike pairs (same levels, same p) well inside the band
    lone = [0.9, 0.89, 0.88, 0.87]
    s = chain(lone + [0.5] * 10, patterns=[1, 2, 3, 4] + [9] * 10)
    # together the ten hold 5.0, more than the 3.54 of the four best pairs: one of them goes first
    assert pick_questions(s, 4).tolist() == [4, 0, 1, 2]
    # five of them hold 2.5: no heavier than the batch, the order is by each pair's own gain
    s = chain(lone + [0.5] * 5, patterns=[1, 2, 3, 4] + [9] * 5)
    assert pick_questions(s, 4).tolist() == [0, 1, 2, 3]
    # the same levels at probabilities far apart are not alike (an answer tells about one band)
    s = chain(lone + [0.9, 0.7, 0.5, 0.3, 0.15, 0.07] * 2, patterns=[1, 2, 3, 4] + [9] * 12)
    assert pick_questions(s, 4).tolist() == [0, 4, 1, 2]


def test_nothing_to_pick_from_gives_an_empty_batch():
    s = chain([0.01, 0.999], linked=[0, 1])
    assert pick_questions(s, 5).tolist() == [] and questions_left(s) == 0
    assert pick_questions(chain([0.5]), 0).tolist() == []


def test_expected_errors_count_missed_and_wrong_links():
    s = chain([0.3, 0.6, 0.97, 0.9995], linked=[0, 0, 1, 1])
    assert expected_errors(s) == pytest.approx(0.3 + 0.6 + 0.03)  # a link at 0.9995 counts as sure


def test_asking_stops_when_fewer_than_one_wrong_entry_is_expected():
    assert not stop_paying_off(chain([0.5, 0.6]))
    assert stop_paying_off(chain([0.3, 0.2, 0.97], linked=[0, 0, 1]))  # 0.53 expected errors
    assert stop_paying_off(chain([0.001, 0.9999], linked=[0, 1]))  # nothing left to ask


def test_asking_stops_after_a_window_of_unsurprising_answers_when_the_rest_is_near_certain():
    p = [0.5] + [0.96] * 40
    history = [(k, True, 0.96) for k in range(30)]
    calm = chain(p, linked=[0] + [1] * 40, history=history)
    calm.probability[0] = 0.06
    assert expected_errors(calm) >= 1.0 and stop_paying_off(calm)
    surprised = chain(p, linked=[0] + [1] * 40, history=[*history[:-1], (29, False, 0.96)])
    surprised.probability[0] = 0.06
    assert not stop_paying_off(surprised)


def test_questions_to_stop_is_zero_exactly_when_asking_stops():
    stop = chain([0.3, 0.2], linked=[0, 0])
    assert stop_paying_off(stop) and questions_to_stop(stop) == 0
    going = chain([0.5, 0.6, 0.7, 0.2], linked=[0, 0, 0, 0])
    assert not stop_paying_off(going)
    assert questions_to_stop(going) == 4  # four pairs with an expected error of 0.1 or more
    going.probability[3] = 0.06  # below the worth-asking bar: settled by retraining, not asked
    assert questions_to_stop(going) == 3


def test_the_pace_of_answers_so_far_tempers_the_estimate():
    s = chain([0.5] * 16, errors_at_start=64.0, history=[(k, True, 0.5) for k in range(20)])
    on_its_own = 16
    now = expected_errors(s)  # 8: the answers halved the errors three times in 20 answers
    decay = 20 / np.log(64.0 / now) * np.log(now)
    assert questions_to_stop(s) == round(np.sqrt(on_its_own * decay))
