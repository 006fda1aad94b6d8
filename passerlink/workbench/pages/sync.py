"""Synk / Sync: the links handed to the link store, a dry run of the nightly sync, earlier runs.

Kept on its own so the sync engine's views can grow here; it only calls ``passerlink.sync``.
"""

import pandas as pd
import streamlit as st

from passerlink.errors import PasserlinkError
from passerlink.matching.linkstore import LINK_DECISIONS
from passerlink.workbench import ui

t = ui.t
ws = ui.workspace_or_stop()

st.title(t("sync_title"))
st.caption(t("sync_intro"))


def summary(report: dict) -> tuple[str, dict]:
    """What the page shows of a report: its summary text and its counts."""
    from passerlink.sync.report import summary_text

    return summary_text(report), dict(report.get("counts") or {})


@st.cache_data(show_spinner=False, max_entries=16)
def saved_summary(path: str, mtime_ns: int) -> tuple[str, dict]:
    """A saved report's summary, read once per file version: a go-live report lists every change."""
    from passerlink.sync import load_report

    return summary(load_report(path))


def file_version(path) -> int:
    """Modification time as the cache key; 0 for a file gone since it was listed (pruned), so
    reading it says so in load_report's own words."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def show_report(report: dict | tuple[str, dict]) -> None:
    from passerlink.sync.report import SITUATION_LABELS

    text, counts = report if isinstance(report, tuple) else summary(report)
    st.code(text, language=None)
    if counts:
        frame = pd.DataFrame(
            [(SITUATION_LABELS.get(k, k), v) for k, v in sorted(counts.items())],
            columns=[t("sync_situation"), t("sync_count")],
        )
        st.dataframe(frame, hide_index=True)


# ---- the links the sync acts on -------------------------------------------------------------------
links = ws.link_table_with_people(stored_only=True)  # the people loaded so far: never a read here
links = links[links["decision"].isin(LINK_DECISIONS)]
if not len(links):
    st.info(t("sync_empty"))
else:
    counts = links["decision"].value_counts()
    st.markdown(t("sync_counts", links=len(links), confirmed=int(counts.get("confirmed", 0)),
                  manual=int(counts.get("manual", 0)), auto=int(counts.get("auto", 0))))
    ui.show_people(links,
                   ["register", "source_id", "given_names", "family_name", "m5_id", "m5_given_names",
                    "m5_family_name", "decision", "who", "at"], key="pl_sync_links", height=360)

# ---- dry run --------------------------------------------------------------------------------------
st.subheader(t("sync_preview_header"))
if st.button(t("sync_preview_button"), key="pl_sync_preview", help=t("sync_preview_help"), disabled=ws.config.m5 is None):
    from passerlink.sync import load_report, run_sync

    with st.spinner(t("sync_preview_button")):
        try:
            result = run_sync(ws.config, dry_run=True)
        except PasserlinkError as exc:
            st.error(str(exc))
        else:
            json_path = result.paths.get("json")
            # the report as written to disk: personnummer masked, protected identities hidden
            show_report(load_report(json_path) if json_path else result.report)

# ---- a real run -------------------------------------------------------------------------------------
st.subheader(t("sync_run_header"))
sure = st.checkbox(t("sync_run_confirm"), key="pl_sync_run_confirm")
if st.button(t("sync_run_button"), key="pl_sync_run", type="primary", disabled=ws.config.m5 is None or not sure):
    from passerlink.sync import load_report, run_sync

    with st.spinner(t("sync_run_button")):
        try:
            # same safety rules as the nightly run: a plan too large stops before its first write
            result = run_sync(ws.config)
        except PasserlinkError as exc:
            st.error(str(exc))
        else:
            json_path = result.paths.get("json")
            report = load_report(json_path) if json_path else result.report
            if result.exit_code == 0:
                st.success(t("sync_run_done"))
            else:
                st.error(t("sync_run_stopped", reason=report.get("stop_reason") or result.status))
            show_report(report)

# ---- earlier runs ---------------------------------------------------------------------------------
st.subheader(t("sync_reports_header"))
try:
    from passerlink.sync import sync_paths
    from passerlink.sync.report import list_reports

    reports = list_reports(sync_paths(ws.config)[0])
except PasserlinkError as exc:
    st.error(str(exc))
    reports = []
if not reports:
    st.caption(t("sync_no_reports"))
else:
    recent = list(reversed(reports))[:20]
    pick = st.selectbox(t("sync_report_pick"), recent, format_func=lambda p: p.stem, key="pl_sync_report")
    try:
        show_report(saved_summary(str(pick), file_version(pick)))
    except PasserlinkError as exc:
        st.error(str(exc))
