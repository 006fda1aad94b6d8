"""Synk / Sync: the signed-off links, a dry run with its plan id, approving and running exactly that
plan, and every report – as tables and metrics, with the report files to open.

The first night is always a mass change, so the safety rules stop a plain run; the way forward is
to approve the plan the operator has just seen (``passerlink sync --approve PLAN_ID`` on the
command line): a fresh plan that differs from it stops again and says how.
"""

from pathlib import Path

import streamlit as st

from passerlink.errors import PasserlinkError
from passerlink.matching.linkstore import LINK_DECISIONS, LinkDecision
from passerlink.workbench import state as K
from passerlink.workbench import ui
from passerlink.workbench.linktable import with_people
from passerlink.workbench.syncview import (
    approve_and_run,
    change_rows,
    difference_rows,
    dry_run,
    kind_counts,
    plan_id_of,
    review_queue,
    rule_rows,
    situation_rows,
)

t = ui.t
ws = ui.workspace_or_stop()
lang = st.session_state.get(K.LANG, "sv")
PLAN = "pl_sync_plan"  # session state: (plan id, json report path) of the dry run on screen
RESULT = "pl_sync_result"  # session state: json report path of the last run started here

st.title(t("sync_title"))
ui.flow_banner(ws, "sync")
st.caption(t("sync_intro"))


@st.cache_data(show_spinner=False, max_entries=16)
def saved_report(path: str, mtime_ns: int) -> dict:
    """A saved report, read once per file version (a go-live report lists every change)."""
    from passerlink.sync import load_report

    return load_report(path)


def file_version(path) -> int:
    """Modification time as the cache key; 0 for a file gone since it was listed (pruned)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def show_report(report: dict, key: str) -> None:
    """Summary first (status, metrics, situations, safety rules), the long list of changes folded
    away and paged by the table itself, and the report files to open."""
    status = str(report.get("status", ""))
    st.markdown(t("sync_report_line", started=ui.local_time(str(report.get("started", ""))),
                  status=t(f"sync_status_{status}") if status in STATUSES else status,
                  plan=plan_id_of(report) or "–"))
    kinds = kind_counts(report)
    cols = st.columns(5)
    for col, (kind, label) in zip(cols, [("create", "sync_creates"), ("update", "sync_updates"),
                                         ("deactivate", "sync_deactivations"), ("queue", "sync_queued"),
                                         ("writes", "sync_writes")], strict=True):
        col.metric(t(label), kinds.get(kind, 0))
    approval = report.get("approval") or {}
    if approval:
        st.caption(t("sync_approved_by", who=approval.get("approved_by", ""), plan=approval.get("plan_id", ""),
                     at=ui.local_time(str(approval.get("approved_at", "")))))
    if report.get("stop_reason") and status != "done":
        st.error(t("sync_stopped_because", reason=ui.sync_text(str(report["stop_reason"]))))
    difference = difference_rows(report, t)
    if len(difference):
        st.dataframe(difference.rename(columns={"change": t("plan_change"), "kind": t("sync_kind"),
                                                "label": t("sync_person")}), hide_index=True, key=f"{key}_difference")
    situations = situation_rows(report, lang)
    if len(situations):
        st.dataframe(situations.rename(columns={"situation": t("sync_situation"), "count": t("sync_count")}),
                     hide_index=True, key=f"{key}_situations")
    rules = rule_rows(report, t)
    if len(rules):
        with st.expander(t("sync_rules", n=int(rules["stops"].sum()))):
            st.dataframe(rules.drop(columns=["stops"]).rename(columns={
                "rule": t("sync_rule"), "result": t("sync_rule_result"), "value": t("sync_rule_value"),
                "limit": t("sync_rule_limit")}), hide_index=True, key=f"{key}_rules")
    changes = change_rows(report, t, lang)
    if len(changes):
        with st.expander(t("sync_changes", n=len(changes))):
            st.dataframe(changes.rename(columns={"kind": t("sync_kind"), "situation": t("sync_situation"),
                                                 "label": t("sync_person"), "m5_id": t("col_m5_id"),
                                                 "status": t("sync_op_status")}),
                         hide_index=True, key=f"{key}_changes", height=360)
    files = report.get("files") or {}
    c = st.columns(3)
    for col, (fmt, mime) in zip(c, [("html", "text/html"), ("xlsx", "application/vnd.openxmlformats-officedocument."
                                                                    "spreadsheetml.sheet"), ("json", "application/json")],
                                strict=True):
        path = files.get(fmt)
        if path:
            try:
                data = Path(path).read_bytes()
            except OSError:
                continue
            col.download_button(t(f"sync_open_{fmt}"), data, file_name=path.replace("\\", "/").rsplit("/", 1)[-1],
                                mime=mime, key=f"{key}_file_{fmt}", on_click="ignore")


STATUSES = ("done", "dry_run", "stopped", "failed")

# ---- the links the sync acts on -------------------------------------------------------------------
links = ws.link_table_with_people(stored_only=True)  # the people loaded so far: never a read here
links = links[links["decision"].isin(LINK_DECISIONS)]
counts = links["decision"].value_counts()
m = st.columns(4)
m[0].metric(t("sync_links"), len(links))
for col, kind in zip(m[1:], ("auto", "confirmed", "manual"), strict=True):
    col.metric(t(f"sync_links_{kind}"), int(counts.get(kind, 0)))
last = ws.store.last_signoff()
st.caption(t("signoff_last", who=last.who, at=ui.local_time(last.at), links=last.links) if last else t("signoff_never"))
if len(links):
    with st.expander(t("sync_links_table")):
        ui.show_people(links, ["register", "source_id", "given_names", "family_name", "m5_id", "m5_given_names",
                               "m5_family_name", "decision", "who", "at"], key="pl_sync_links", height=360)

# ---- dry run -> plan id -> approve and run this plan --------------------------------------------------
st.subheader(t("sync_preview_header"))
if st.button(t("sync_preview_button"), key="pl_sync_preview", help=t("sync_preview_help"), disabled=ws.config.m5 is None):
    with st.spinner(t("sync_preview_running")):
        try:
            st.session_state[PLAN] = dry_run(ws.config)
        except PasserlinkError as exc:
            st.error(t("error_prefix", message=ui.sync_text(str(exc))))
        else:
            st.session_state[RESULT] = None
            st.rerun()  # the banner above now knows of the dry run
plan = st.session_state.get(PLAN)
if plan:
    plan_id, json_path = plan
    st.info(t("sync_plan_shown", plan=plan_id or "–"))
    try:
        show_report(saved_report(json_path, file_version(Path(json_path))), "pl_dry")
    except PasserlinkError as exc:
        ui.error("report_unreadable", exc)
    if st.button(t("sync_approve_button", plan=plan_id), key="pl_sync_approve", type="primary",
                 disabled=not plan_id, help=t("sync_approve_help")):
        with st.spinner(t("sync_run_running")):
            try:
                ran, _exit_code = approve_and_run(ws.config, plan_id)
            except PasserlinkError as exc:
                st.error(t("error_prefix", message=ui.sync_text(str(exc))))
            else:
                st.session_state[RESULT] = ran
                st.session_state[PLAN] = None
                st.rerun()

result_path = st.session_state.get(RESULT)
if result_path:
    st.subheader(t("sync_result_header"))
    try:
        report = saved_report(result_path, file_version(Path(result_path)))
    except PasserlinkError as exc:
        ui.error("report_unreadable", exc)
    else:
        (st.success if report.get("status") == "done" else st.error)(
            t("sync_run_done") if report.get("status") == "done" else t("sync_run_stopped_short"))
        show_report(report, "pl_result")

# ---- the review queue: new people an unlinked M5 user may be -------------------------------------------
queue = review_queue(ws.config)
if len(queue):
    st.subheader(t("queue_header", n=len(queue)))
    st.caption(t("queue_intro"))
    registers, m5_people = ws.people()
    wide = with_people(queue.assign(decision="", who="", at="", model_version=""), registers, m5_people)
    shown = wide.assign(answer=None, person=[f"{a} {b}".strip() for a, b in zip(wide["given_names"], wide["family_name"],
                                                                              strict=True)],
                        m5_person=[f"{a} {b}".strip() for a, b in zip(wide["m5_given_names"], wide["m5_family_name"],
                                                                      strict=True)])
    shown = shown[["answer", "register", "source_id", "person", "m5_id", "m5_person", "probability"]]
    words = {t("answer_yes"): "confirmed", t("answer_no"): "rejected"}
    edited = st.data_editor(
        shown, hide_index=True, key="pl_queue_editor", disabled=[c for c in shown.columns if c != "answer"],
        placeholder="–",  # an unanswered row (the grid would say "None")
        column_config={
            "answer": st.column_config.SelectboxColumn(t("queue_same_person"), options=list(words)),
            "register": t("register"), "source_id": t("col_source_id"), "person": t("sync_person"),
            "m5_id": t("col_m5_id"), "m5_person": t("right_header"),
            "probability": st.column_config.ProgressColumn(t("col_probability"), min_value=0.0, max_value=1.0,
                                                           format="%.2f"),
        })
    answered = edited[edited["answer"].isin(list(words))]
    if st.button(t("queue_save", n=len(answered)), key="pl_queue_save", disabled=not len(answered)):
        decisions = [LinkDecision(r.register, r.source_id, r.m5_id, words[r.answer], float(r.probability),
                                  ui.operator(), "sync review queue") for r in answered.itertuples(index=False)]
        n = ws.engine.apply_decisions(decisions) if ws.engine is not None else ws.store.record(decisions)
        st.success(t("queue_saved", n=n))

# ---- earlier runs ---------------------------------------------------------------------------------
st.subheader(t("sync_reports_header"))
try:
    from passerlink.sync import sync_paths
    from passerlink.sync.report import list_reports

    reports = list_reports(sync_paths(ws.config)[0])
except PasserlinkError as exc:
    ui.error("report_unreadable", exc)
    reports = []
reports = [p for p in reports if p.suffix == ".json"]
if not reports:
    st.caption(t("sync_no_reports"))
else:
    with st.expander(t("sync_reports_count", n=len(reports)), expanded=not (plan or result_path)):
        recent = list(reversed(reports))[:20]
        pick = st.selectbox(t("sync_report_pick"), recent, format_func=lambda p: p.stem, key="pl_sync_report")
        try:
            show_report(saved_report(str(pick), file_version(pick)), "pl_saved")
        except PasserlinkError as exc:
            ui.error("report_unreadable", exc)
