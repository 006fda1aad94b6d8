"""Active learning: which pairs to ask about next, and when asking stops paying off.

A question is worth asking when its answer can change the link table and the model cannot tell:
the pair's probability is between the ask and auto thresholds (or it clears the auto threshold but
lost its people to a rival in the assignment, or it is an auto link below ``verify_below``: a
wrong link costs a door, so shaky auto links are checked too), it is undecided, and neither of
its people is already settled by a confirmed answer.

Among those, the questions that change the link table most come first: an open pair that is not
linked becomes a link with probability p (the answer gains p correct links), a linked pair turns
out wrong with probability 1 - p, and a wrong link costs ``fp_cost`` (default 5) missed ones,
because it hands one person another's door access. So the order is by ``p`` for unlinked pairs
and ``fp_cost * (1 - p)`` for linked ones. On the Swedish sample worlds this beat plain
uncertainty sampling (probability nearest one half) by one to two points of recall at the same
precision; on FEBRL4 both are far above target. Two diversity rules per batch: one question per
person (answering one resolves the one-to-one conflict of the other) and at most a quarter of the
batch from one pattern of comparison levels (so a batch teaches the classifier several things,
not one thing ten times). Every answer also retrains the classifier (per batch), so the answers
teach more than their own pair.

Because an answer teaches the classifier about every pair like it, the heaviest groups of alike
open pairs (the same pattern of levels and about the same probability, within ``_ALIKE_LOGITS``
nats of log-odds) are asked about first, one question each (the group's best pair), up to a
quarter of the batch: a group counts as heavy when its pairs together hold more gain than the
whole batch of the most informative pairs would on its own. Such a group of alike pairs well
inside the band (each less likely than the lone pairs just under the auto threshold) was
otherwise never asked about, although one answer moves all of it: on FEBRL4's names track, 75
true pairs whose names were replaced but whose birth dates agree (no rival) held 38 of the 74
expected wrong entries after 50 answers, at p 0.65 each, and none was asked (F1 at 50 answers
0.9799; 0.9846 with the rule; pupil worlds unchanged, go-live 80 -> 70 answers to target).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from passerlink.matching.answers import Answer

__all__ = ["QuestionState", "open_questions", "pick_questions", "questions_left", "questions_to_stop",
           "expected_errors", "stop_paying_off"]

_OPEN = Answer.OPEN
_YES = Answer.YES
_WORTH_ASKING = 0.1  # expected error of an open pair that is worth a question of its own
_ALIKE_LOGITS = 1.5  # pairs with the same levels are alike within a band of this many nats of log-odds


class QuestionState(Protocol):
    """What choosing questions reads of a conversation (``MatchSession`` is one): per candidate
    pair its people, comparison levels, probability, link and answer, and the thresholds."""

    left_ids: np.ndarray
    right_ids: np.ndarray
    il: np.ndarray
    ir: np.ndarray
    features: pd.DataFrame
    level_columns: list[str]
    probability: np.ndarray
    linked: np.ndarray
    decision: np.ndarray  # ``Answer`` per pair
    history: list[tuple[int, bool, float]]  # (pair, answer, probability before)
    ask_threshold: float
    auto_threshold: float
    verify_below: float
    fp_cost: float
    errors_at_start: float


def _settled_people(s: QuestionState) -> tuple[np.ndarray, np.ndarray]:
    yes = s.decision == _YES
    left = np.zeros(len(s.left_ids), bool)
    right = np.zeros(len(s.right_ids), bool)
    left[s.il[yes]] = True
    right[s.ir[yes]] = True
    return left, right


def open_questions(s: QuestionState) -> np.ndarray:
    """Mask of the pairs that are worth a question at all."""
    p = s.probability
    if len(p) == 0:
        return np.zeros(0, bool)
    settled_l, settled_r = _settled_people(s)
    undecided = s.decision == _OPEN
    in_band = (p >= s.ask_threshold) & (p < s.auto_threshold)
    lost = (p >= s.auto_threshold) & ~s.linked  # cleared the bar but a rival got its person
    shaky = s.linked & (p < s.verify_below)  # an auto link not sure enough to go unchecked
    return undecided & (in_band | lost | shaky) & ~settled_l[s.il] & ~settled_r[s.ir]


def pick_questions(s: QuestionState, n: int) -> np.ndarray:
    """Indices of up to ``n`` candidate pairs to ask about, most informative first."""
    cand = np.nonzero(open_questions(s))[0]
    if n <= 0 or len(cand) == 0:
        return np.zeros(0, np.int64)
    p = s.probability[cand]
    gain = np.where(s.linked[cand], s.fp_cost * (1 - p), p)
    rank = np.lexsort((cand, -gain))
    order = cand[rank]
    per_pattern = max(1, -(-n // 4))
    levels = s.features[s.level_columns].to_numpy(dtype=np.int16)[cand]
    pattern = np.full(len(s.probability), -1, dtype=np.int64)
    pattern[cand] = _patterns(levels)
    # pairs alike: the same levels and about the same probability (one answer moves them together)
    q = np.clip(p, 1e-6, 1 - 1e-6)
    band = np.floor(np.log(q / (1 - q)) / _ALIKE_LOGITS).astype(np.int64)
    group = _patterns(np.column_stack([levels, band]))
    # the heaviest groups, those whose open pairs together hold more gain than the whole batch of
    # the most informative pairs would on its own: one question each (its best pair) goes first
    mass = np.bincount(group, weights=gain)
    _, first = np.unique(group[rank], return_index=True)  # each group's best pair in ``order``
    heaviest = np.argsort(-mass, kind="stable")[:per_pattern]
    heaviest = heaviest[mass[heaviest] >= gain[rank[:n]].sum()]
    used_l: set[int] = set()
    used_r: set[int] = set()
    patterns: dict[int, int] = {}
    picked: list[int] = []
    for k in np.concatenate([order[first[heaviest]], order]):
        i, j = int(s.il[k]), int(s.ir[k])
        if i in used_l or j in used_r:
            continue
        key = int(pattern[k])
        if patterns.get(key, 0) >= per_pattern:
            continue
        picked.append(int(k))
        used_l.add(i)
        used_r.add(j)
        patterns[key] = patterns.get(key, 0) + 1
        if len(picked) >= n:
            break
    if len(picked) < n:  # relax the pattern rule rather than ask fewer than requested
        for k in order:
            k = int(k)
            i, j = int(s.il[k]), int(s.ir[k])
            if k in picked or i in used_l or j in used_r:
                continue
            picked.append(k)
            used_l.add(i)
            used_r.add(j)
            if len(picked) >= n:
                break
    return np.asarray(picked, dtype=np.int64)


def _patterns(levels: np.ndarray) -> np.ndarray:
    """Per row of comparison levels, the number of its pattern (rows alike, numbers alike)."""
    if levels.shape[1] == 0:
        return np.zeros(len(levels), dtype=np.int64)
    _, inverse = np.unique(levels, axis=0, return_inverse=True)
    return np.asarray(inverse, dtype=np.int64).ravel()


def questions_left(s: QuestionState) -> int:
    """How many questions the open pairs still hold (one per person they involve, at most)."""
    cand = np.nonzero(open_questions(s))[0]
    if len(cand) == 0:
        return 0
    return int(min(len(np.unique(s.il[cand])), len(np.unique(s.ir[cand]))))


def questions_to_stop(s: QuestionState) -> int:
    """About how many more answers before ``stop_paying_off`` says stop: 0 exactly when it does.

    Two views of the same thing, combined by their geometric mean:

    * the questions still worth asking on their own: open pairs whose expected error (p for an
      unlinked pair, 1 - p for a linked one) is at least ``_WORTH_ASKING``, one per person as
      the questions are picked. Most open pairs are far below that and are settled by the
      retraining other answers bring, never by a question of their own, which is why counting
      every open pair (``questions_left``) said several times too many before the first answer.
    * once answers have come in, the decay of the expected errors so far: asking stops when they
      fall below one, and the answers given took them from ``errors_at_start`` to now, so at
      the same pace per e-fold it takes ``answers / ln(start / now) * ln(now)`` more.

    The first view alone says too few in the middle of a session (answers that surprise the
    model raise the errors again), the second too many near the end (the last open pairs settle
    fast). On the Swedish sample worlds the mean is within a factor of two of the answers a
    simulated operator actually gave before ``stop_paying_off``.
    """
    if stop_paying_off(s):
        return 0
    cand = np.nonzero(open_questions(s))[0]
    p = s.probability[cand]
    err = np.where(s.linked[cand], 1 - p, p)
    keep = err >= _WORTH_ASKING
    cand, err = cand[keep], err[keep]
    used_l, used_r = set(), set()
    for k in cand[np.lexsort((cand, -err))]:
        i, j = int(s.il[k]), int(s.ir[k])
        if i not in used_l and j not in used_r:
            used_l.add(i)
            used_r.add(j)
    estimate = float(len(used_l))
    start, now, answers = s.errors_at_start, expected_errors(s), len(s.history)
    if answers and start > now >= 1.0:
        decay = answers / np.log(start / now) * np.log(now)
        estimate = float(np.sqrt(estimate * decay))
    return max(1, round(estimate))


def expected_errors(s: QuestionState) -> float:
    """Expected wrong entries of the link table if we stopped now, among the open pairs.

    An open pair that is not linked is a missed link with probability p; a linked one a wrong
    link with probability 1 - p.
    """
    cand = open_questions(s) | (s.linked & (s.decision == _OPEN) & (s.probability < 0.999))
    p = s.probability[cand]
    linked = s.linked[cand]
    return float(np.where(linked, 1 - p, p).sum())


def stop_paying_off(s: QuestionState, *, window: int = 30) -> bool:
    """True when the next questions are unlikely to change the link table.

    Either nothing is left to ask, the expected number of wrong entries among open pairs is below
    one, or the last ``window`` answers all agreed with what the model already believed and the
    open pairs are, on average, within 5 % of certain.
    """
    if questions_left(s) == 0:
        return True
    if expected_errors(s) < 1.0:
        return True
    recent = s.history[-window:]
    if len(recent) >= window:
        surprises = sum((p >= 0.5) != answer for _, answer, p in recent if not np.isnan(p))
        cand = open_questions(s)
        p = s.probability[cand]
        if surprises == 0 and float(np.minimum(p, 1 - p).mean()) < 0.05:
            return True
    return False
