"""Switchable faults of the M5 simulator: what a flaky network and a busy M5 server do to a client.

A ``Faults`` value says how often each fault happens; ``FaultPlan`` draws, for each request, which
fault (if any) it gets. The kinds, in the order a draw tests them:

    429         answered 429 with ``Retry-After: retry_after`` – not processed
    error500    answered 500 with the M5 error body – not processed (the write is NOT applied)
    timeout     the server sleeps ``timeout_sleep`` seconds, then answers 504 – not processed
    lost_reply  processed (the write IS applied), then the answer is held ``timeout_sleep``
                seconds: a client with a shorter timeout never sees it

plus ``latency`` (seconds added to every request) and ``token_ttl`` (access-token lifetime).
``queue`` forces the fault of the next requests in order (``"ok"`` for none), before the shares
apply: a test can say "the next two requests fail with 500" without relying on chance.

The same settings come from the command line (``--faults latency=0.05,error500=0.1,seed=7``)
and from ``PUT /_sim/faults`` (JSON), so a test can switch faults at run time.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = ["FAULT_KINDS", "Faults", "FaultPlan", "parse_faults"]

#: Faults a request can draw, in the order of the cumulative draw.
FAULT_KINDS = ("429", "error500", "timeout", "lost_reply")
_QUEUE_KINDS = (*FAULT_KINDS, "ok")


class Faults(BaseModel):
    """How often each fault happens (shares in 0..1) and its parameters (seconds)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    latency: float = Field(default=0.0, ge=0, le=60, description="seconds added to every M5 request")
    error500: float = Field(default=0.0, ge=0, le=1, description="share answered 500 before processing")
    timeout: float = Field(default=0.0, ge=0, le=1, description="share held timeout_sleep s, then 504, not processed")
    rate429: float = Field(default=0.0, ge=0, le=1, alias="429", description="share answered 429 with Retry-After")
    lost_reply: float = Field(default=0.0, ge=0, le=1, description="share processed but answered after timeout_sleep s")
    retry_after: float = Field(default=1.0, ge=0, le=3600, description="Retry-After seconds of a 429")
    timeout_sleep: float = Field(default=5.0, ge=0, le=3600, description="how long timeout/lost_reply hold the answer")
    token_ttl: float = Field(default=3600.0, gt=0, description="access-token lifetime in seconds")
    seed: int | None = Field(default=None, description="seed of the fault draws (reproducible runs)")
    methods: list[str] | None = Field(default=None, description="only these HTTP methods draw faults (default all)")
    queue: list[str] = Field(default_factory=list, description="forced faults of the next requests ('ok' = none)")

    @model_validator(mode="after")
    def _consistent(self) -> Faults:
        total = self.rate429 + self.error500 + self.timeout + self.lost_reply
        if total > 1.0 + 1e-9:
            raise ValueError(f"the fault shares add up to {total:g}, more than 1")
        bad = [q for q in self.queue if q not in _QUEUE_KINDS]
        if bad:
            raise ValueError(f"queue entry {bad[0]!r} is not one of {', '.join(_QUEUE_KINDS)}")
        if self.methods is not None:
            self.methods = [m.upper() for m in self.methods]
        return self

    def public(self) -> dict[str, Any]:
        """The settings as the control path shows them (``429`` under its own name)."""
        return self.model_dump(by_alias=True)


def parse_faults(spec: str | None) -> Faults:
    """``'latency=0.05,error500=0.1,429=0.05,seed=7'`` -> ``Faults``; ValueError naming the bad part."""
    raw: dict[str, Any] = {}
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ValueError(f"fault setting {part!r} is not of the form name=value")
        if key == "methods":
            raw[key] = [m for m in value.split("|") if m]
        elif key == "queue":
            raw[key] = [q for q in value.split("|") if q]
        else:
            raw[key] = value
    return faults_from_mapping(raw)


def faults_from_mapping(raw: Mapping[str, Any]) -> Faults:
    """Validate a JSON/CLI mapping; ValueError with one sentence per problem."""
    try:
        return Faults.model_validate(dict(raw))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "faults"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = f"unknown fault setting (known: {', '.join(_known_names())})"
            problems.append(f"{where}: {msg}")
        raise ValueError("; ".join(problems)) from None


def _known_names() -> list[str]:
    return [f.alias or name for name, f in Faults.model_fields.items()]


class FaultPlan:
    """The current ``Faults`` and the random draws made from them (thread-safe)."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self.set(faults or Faults())

    @property
    def faults(self) -> Faults:
        return self._faults

    def set(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults
            self._queue = list(faults.queue)
            self._rng = random.Random(faults.seed)

    def public(self) -> dict[str, Any]:
        with self._lock:
            out = self._faults.public()
            out["queue"] = list(self._queue)
            return out

    def draw(self, method: str) -> str | None:
        """The fault of one request (None for a normal answer)."""
        with self._lock:
            f = self._faults
            if f.methods is not None and method.upper() not in f.methods:
                return None
            if self._queue:
                kind = self._queue.pop(0)
                return None if kind == "ok" else kind
            shares = (f.rate429, f.error500, f.timeout, f.lost_reply)
            if not any(shares):
                return None
            r = self._rng.random()
            acc = 0.0
            for kind, share in zip(FAULT_KINDS, shares, strict=True):
                acc += share
                if r < acc:
                    return kind
            return None
