"""The shared-password gate's throttle: every wrong password costs the guesser an increasing wait.

Without it, twenty guesses took 13 seconds. The throttle is one per workbench process (not per
browser session, which a guesser can open anew), and attempts pass it one at a time, so guessing
in parallel sessions waits in the same queue. A right password resets it.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable

__all__ = ["LoginThrottle", "THROTTLE"]


class LoginThrottle:
    """Checks a password; after the n-th wrong one in a row it waits ``base * 2**(n-1)`` seconds
    (at most ``cap``) before it answers."""

    def __init__(self, *, base: float = 0.5, cap: float = 8.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = base
        self.cap = cap
        self._sleep = sleep
        self._lock = threading.Lock()
        self.failures = 0

    def delay(self) -> float:
        """The wait the last wrong password cost (0 after a right one)."""
        return min(self.cap, self.base * 2 ** (self.failures - 1)) if self.failures else 0.0

    def check(self, given: str, secret: str) -> bool:
        with self._lock:
            if hmac.compare_digest(given.encode(), secret.encode()):
                self.failures = 0
                return True
            self.failures += 1
            self._sleep(self.delay())
            return False


#: The workbench process's one throttle (modules outlive Streamlit's reruns and sessions).
THROTTLE = LoginThrottle()
