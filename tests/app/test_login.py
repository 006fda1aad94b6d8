"""The shared password's throttle: each wrong password in a row waits twice as long (capped), a
right one resets it, and parallel guesses queue behind one another."""

from __future__ import annotations

import threading

from passerlink.workbench.login import LoginThrottle


def test_wrong_passwords_wait_longer_and_longer_and_a_right_one_resets():
    waits: list[float] = []
    throttle = LoginThrottle(base=0.5, cap=8.0, sleep=waits.append)
    assert [throttle.check("fel", "hemligt") for _ in range(6)] == [False] * 6
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert throttle.check("hemligt", "hemligt") and throttle.failures == 0
    throttle.check("fel", "hemligt")
    assert waits[-1] == 0.5  # after a right password the next wrong one starts over


def test_twenty_guesses_cost_minutes_not_seconds():
    waits: list[float] = []
    throttle = LoginThrottle(sleep=waits.append)
    for i in range(20):
        throttle.check(f"guess{i}", "hemligt")
    assert sum(waits) >= 120


def test_guesses_from_parallel_sessions_wait_in_one_queue():
    inside = threading.Event()
    release = threading.Event()

    def slow_sleep(_seconds: float) -> None:
        inside.set()
        release.wait(5)

    throttle = LoginThrottle(sleep=slow_sleep)
    first = threading.Thread(target=throttle.check, args=("fel", "hemligt"))
    first.start()
    assert inside.wait(5)
    answered: list[bool] = []
    second = threading.Thread(target=lambda: answered.append(throttle.check("hemligt", "hemligt")))
    second.start()
    second.join(0.2)
    assert answered == []  # the right password waits behind the wrong one's delay
    release.set()
    first.join(5)
    second.join(5)
    assert answered == [True]
