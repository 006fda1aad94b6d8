"""Source readers, the M5 Admin API client and the nightly sync engine.

Exports are resolved lazily (PEP 562): ``passerlink.config`` imports
``passerlink.sync.policy``, and several modules of this package import ``passerlink.config``;
an eager import here would make that a circular import. Add a public name by adding one line to
``_EXPORTS`` (name -> module); ``__all__`` follows from it.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # M5 Admin API client
    "M5Client": "passerlink.sync.m5client",
    # sync engine (policy, desired state, plan, apply, journal, lock, reports)
    "SyncPolicy": "passerlink.sync.policy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'passerlink.sync' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
