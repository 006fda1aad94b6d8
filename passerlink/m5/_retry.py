"""The client's one retry policy: which failures are worth another attempt, and how long to wait.

Written once so that timeouts, dropped connections, 5xx and 429 answers are all retried by the
same rule: exponential backoff with full jitter, or M5's own ``Retry-After`` (capped) for a 429.
Whether a failed attempt may have been applied (and so whether a create may be repeated) is the
caller's knowledge; the policy only says "again, after this long" or "give up".
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RetryPolicy", "retry_after_seconds"]

#: Longest ``Retry-After`` honoured (a server asking for an hour gets five minutes).
MAX_RETRY_AFTER = 300.0


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as seconds to wait, capped; None if absent/bad."""
    if not value:
        return None
    try:
        return max(0.0, min(float(value), MAX_RETRY_AFTER))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min(when.timestamp() - now(), MAX_RETRY_AFTER))


@dataclass
class RetryPolicy:
    """``retries`` more attempts after the first, waiting ``uniform(0, min(max, base * 2**n))``."""

    retries: int = 4
    backoff_base: float = 0.25
    backoff_max: float = 10.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def allows(self, attempt: int) -> bool:
        """Whether attempt number ``attempt`` (0 = the first) may be followed by another."""
        return attempt < self.retries

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before the next attempt: M5's ``Retry-After`` if it gave one, else backoff."""
        if retry_after is not None:
            return retry_after
        return self.rng.uniform(0, min(self.backoff_max, self.backoff_base * (2**attempt)))
