"""Session-state keys of the workbench, in one place, and the one function that initialises them.

Pages read and write ``st.session_state`` only through these names, so a typo is an
``AttributeError`` at import time instead of a silently fresh value; ``init_state`` only fills
what is missing, so it is safe to call at the top of every rerun.
"""

from __future__ import annotations

import copy
import getpass
import os
from collections.abc import MutableMapping
from typing import Any, Protocol

__all__ = [
    "LANG",
    "OPERATOR",
    "CONFIG_PATH",
    "SHOW_PERSONNUMMER",
    "REVIEW_MODE",
    "IMPORT_PREVIEW",
    "IMPORT_NAME",
    "EXPORT_BYTES",
    "LINK_FILTER",
    "LINK_SEARCH",
    "LAST_MESSAGE",
    "CONFIG_ENV",
    "defaults",
    "init_state",
]

#: The environment variable that names the configuration file (set by ``passerlink workbench``).
CONFIG_ENV = "PASSERLINK_CONFIG"

LANG = "pl_lang"  # "sv" | "en"
OPERATOR = "pl_operator"  # who answers: written to every decision
CONFIG_PATH = "pl_config_path"  # the configuration file in use
SHOW_PERSONNUMMER = "pl_show_personnummer"  # export unmasked personnummer (operator's choice)
REVIEW_MODE = "pl_review_mode"  # "one" (one question at a time) | "table" (many auto-links)
IMPORT_PREVIEW = "pl_import_preview"  # DataFrame of changes read from an edited workbook
IMPORT_NAME = "pl_import_name"  # file id of the uploaded workbook the preview came from
EXPORT_BYTES = "pl_export_bytes"  # the last exported workbook, ready for download
LINK_FILTER = "pl_link_filter"  # decisions shown on the Links page
LINK_SEARCH = "pl_link_search"  # free-text search on the Links page
LAST_MESSAGE = "pl_last_message"  # (kind, text) shown once after a rerun, e.g. after an undo


def _default_operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name on some Windows services / containers
        return "operator"


def defaults() -> dict[str, Any]:
    """Fresh default values (a new dict every call: nothing mutable is shared between sessions)."""
    return {
        LANG: "sv",
        OPERATOR: _default_operator(),
        CONFIG_PATH: os.environ.get(CONFIG_ENV, ""),
        SHOW_PERSONNUMMER: False,
        REVIEW_MODE: "one",
        IMPORT_PREVIEW: None,
        IMPORT_NAME: "",
        EXPORT_BYTES: None,
        LINK_FILTER: [],
        LINK_SEARCH: "",
        LAST_MESSAGE: None,
    }


class _State(Protocol):
    """What ``init_state`` needs of a mapping (``st.session_state`` is one, without being a
    ``MutableMapping`` to the type checker)."""

    def __contains__(self, key: str) -> bool: ...

    def __setitem__(self, key: str, value: Any) -> None: ...


def init_state(state: _State | MutableMapping[str, Any]) -> None:
    """Fill in every key that is missing; never overwrite what the session already holds."""
    for key, value in defaults().items():
        if key not in state:
            state[key] = copy.deepcopy(value)
