"""A whole matching run with a simulated operator: what ``passerlink match`` and the benchmarks call.

The operator is any function from a pair to yes/no; with an oracle built from known true links it
answers like a perfect operator, which is how the CLI's ``--oracle`` and the FEBRL benchmark
measure what the questions buy. Questions come in batches of ``batch``; the classifier retrains
after every batch. By default the batches grow: the first answers teach the model most, so they
come ten at a time, and each later batch is half as large again, up to a fifth of the budget (on
FEBRL4 this keeps the recall of ten equal batches with six or seven retrains instead of ten).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import pandas as pd

from passerlink.matching.session import MatchSession, Progress

__all__ = ["MatchRun", "ask_operator", "run_matching", "oracle_from_pairs"]

Operator = Callable[[Sequence[tuple[str, str]]], list[bool]]


@dataclass
class MatchRun:
    links: pd.DataFrame  # left_id, right_id, probability, status
    n_candidates: int
    questions: int
    seconds: float
    session: MatchSession
    stopped_early: bool = False
    timings: dict[str, float] = field(default_factory=dict)


def oracle_from_pairs(pairs: Collection[tuple[str, str]]) -> Operator:
    """A perfect operator: yes exactly for the given (left id, right id) pairs."""
    truth = {(str(a), str(b)) for a, b in pairs}
    return lambda asked: [(str(a), str(b)) in truth for a, b in asked]


def _batch_size(budget: int, asked: int, k: int, batch: int | None) -> int:
    """Size of the ``k``-th question batch: ``batch`` when given, else growing from 10 by half
    each time up to a fifth of the budget (at least 10); never past the budget."""
    size = batch if batch is not None else min(max(10, budget // 5), round(10 * 1.5**k))
    return max(1, min(size, budget - asked))


def ask_operator(session: MatchSession, operator: Operator, budget: int, *, batch: int | None = None,
                 after_batch: Callable[[int], None] | None = None) -> tuple[int, bool]:
    """The simulated operator's loop (CLI ``--oracle``, benchmarks, notebook): ask up to
    ``budget`` questions in batches, retraining after each (then ``after_batch(asked)``), until
    asking stops paying off. Returns (questions asked, whether the session stopped early)."""
    asked, k = 0, 0
    while asked < budget:
        if session.should_stop():
            return asked, True
        pairs = session.uncertain_pairs(_batch_size(budget, asked, k, batch))
        k += 1
        if not pairs:
            return asked, True
        session.mark_pairs(pairs, operator(pairs))
        asked += len(pairs)
        session.retrain()
        if after_batch is not None:
            after_batch(asked)
    return asked, False


def run_matching(
    left: pd.DataFrame,
    right: pd.DataFrame,
    *,
    operator: Operator | None = None,
    budget: int = 0,
    seed: int = 0,
    batch: int | None = None,
    extra_fields: Sequence[str] = (),
    progress: Progress | None = None,
    **session_kw,
) -> MatchRun:
    """Prepare a session, ask up to ``budget`` questions (stopping early when they stop paying
    off), and return the one-to-one links."""
    t0 = time.perf_counter()
    session = MatchSession(left, right, seed=seed, extra_fields=extra_fields, **session_kw).prepare(progress)
    asked, stopped = ask_operator(session, operator, budget, batch=batch) if operator is not None else (0, False)
    links = session.links()
    seconds = time.perf_counter() - t0
    return MatchRun(links, session.n_candidates, asked, seconds, session, stopped, dict(session.timings))
