"""The operator workbench: Streamlit pages over the matching and link-store packages.

The pages are thin; everything they show comes from pure modules here (``linktable``,
``excel``) or from the ``ReviewEngine`` that owns the matching sessions and the link store.
"""

from passerlink.workbench.engine import Question, QuestionView, ReviewEngine
from passerlink.workbench.excel import (
    changes_to_decisions,
    diff_decisions,
    export_workbook,
    guard_text,
    read_workbook,
    unguard_text,
)
from passerlink.workbench.i18n import LANGUAGES, translator
from passerlink.workbench.linktable import conflicts, merge_links, with_people
from passerlink.workbench.state import init_state
from passerlink.workbench.workspace import SourceState, Workspace

__all__ = [
    "LANGUAGES",
    "Question",
    "QuestionView",
    "ReviewEngine",
    "SourceState",
    "Workspace",
    "changes_to_decisions",
    "conflicts",
    "diff_decisions",
    "export_workbook",
    "guard_text",
    "init_state",
    "merge_links",
    "read_workbook",
    "translator",
    "unguard_text",
    "with_people",
]
