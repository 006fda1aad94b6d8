"""Länkar / Links: the whole link table, manual links, Excel export and re-import."""

import datetime as dt

import streamlit as st

from passerlink.errors import InputError, PasserlinkError
from passerlink.workbench import state as K
from passerlink.workbench import ui
from passerlink.workbench.excel import (
    WorkbookError,
    changes_to_decisions,
    diff_decisions,
    read_workbook,
)
from passerlink.workbench.flow import reason_of
from passerlink.workbench.i18n import DECISION_LABELS, decision_label
from passerlink.workbench.linktable import filter_table, with_people

t = ui.t
ws = ui.workspace_or_stop()
lang = st.session_state[K.LANG]
engine = ws.engine

st.title(t("links_title"))
ui.flow_banner(ws, "links")
if engine is None:
    st.info(t("links_from_store_only"))

wide = ws.link_table_with_people()  # names beside the ids, rebuilt only when something changed

# ---- the table ------------------------------------------------------------------------------------
f1, f2 = st.columns([2, 1])
f1.multiselect(t("filter_decisions"), list(DECISION_LABELS["sv"]), key=K.LINK_FILTER,
               format_func=lambda d: decision_label(d, lang), placeholder=t("all_decisions"))
f2.text_input(t("search"), key=K.LINK_SEARCH)
shown = filter_table(wide, st.session_state[K.LINK_FILTER], st.session_state[K.LINK_SEARCH],
                     columns=["source_id", "m5_id", "given_names", "call_name", "family_name", "email",
                              "m5_given_names", "m5_family_name", "m5_email"])
st.caption(t("n_links", n=len(shown)))
ui.show_people(shown, ["register", "source_id", "given_names", "family_name", "birth_date", "personnummer",
                       "m5_id", "m5_given_names", "m5_family_name", "m5_birth_date", "m5_personnummer",
                       "probability", "decision", "who", "at"], key="pl_links_table", height=560)

# ---- manual link and hand-over (need the engine) --------------------------------------------------
if engine is not None:
    with st.expander(t("manual_header")), st.form("pl_manual_form", clear_on_submit=False):
        c1, c2, c3 = st.columns(3)
        register = c1.selectbox(t("register"), list(engine.registers), key="pl_manual_register")
        source_id = c2.text_input(t("manual_person"), key="pl_manual_source_id")
        m5_id = c3.text_input(t("manual_m5"), key="pl_manual_m5_id")
        if st.form_submit_button(t("manual_link")):
            try:
                if not engine.record(register, source_id.strip()):
                    raise InputError(t("unknown_id", what=t("register") + " " + register, id=source_id.strip()))
                if not engine.m5_record(m5_id.strip()):
                    raise InputError(t("unknown_id", what=t("m5_user"), id=m5_id.strip()))
                engine.manual_link(register, source_id, m5_id, ui.operator())
            except InputError as exc:
                st.error(str(exc))  # the page's own checks, already in the operator's words
            except PasserlinkError as exc:
                ui.error("manual_failed", exc)
            else:
                st.success(t("manual_done", source_id=source_id.strip(), m5_id=m5_id.strip()))

# ---- the model's proposals, what became of them, and the sign-off ------------------------------------
st.subheader(t("proposals_header"))
proposals = ws.proposals()
state = proposals["state"].astype(str) if len(proposals) else proposals.get("state")
count = (lambda k: int((state == k).sum())) if len(proposals) else (lambda k: 0)
st.caption(t("proposals_counts", proposed=count("proposed"), questions=count("question"), withdrawn=count("withdrawn")))
withdrawn = proposals[state == "withdrawn"] if len(proposals) else proposals
if len(withdrawn):
    with st.expander(t("withdrawn_header", n=len(withdrawn))):
        reasons = [reason_of(n) for n in withdrawn["why"]]
        shown_w = withdrawn.assign(why=[t(r.key, **r.values) for r in reasons],
                                   kind=withdrawn["kind"].map(lambda d: decision_label(d, lang)))
        st.dataframe(shown_w[["source", "source_id", "m5_id", "kind", "probability", "why"]].rename(columns={
            "source": t("register"), "source_id": t("col_source_id"), "m5_id": t("col_m5_id"),
            "kind": t("col_decision"), "probability": t("col_probability"), "why": t("col_why")}),
            hide_index=True, key="pl_withdrawn_table", height=300)
with st.container(border=True):
    st.markdown(f"**{t('signoff_header')}**")
    st.caption(t("signoff_help"))
    last = ws.store.last_signoff()
    st.caption(t("signoff_last", who=last.who, at=ui.local_time(last.at), links=last.links) if last else t("signoff_never"))
    if st.button(t("signoff_button"), key="pl_signoff", type="primary"):
        try:
            done = ws.sign_off(ui.operator())
        except PasserlinkError as exc:
            ui.error("signoff_failed", exc)
        else:
            c = done.counts
            st.session_state["pl_signoff_message"] = ("success", t(
                "signoff_done", who=done.who, at=ui.local_time(done.at), auto=c.get("auto", 0),
                confirmed=c.get("confirmed", 0), manual=c.get("manual", 0), rejected=c.get("rejected", 0),
                open=c.get("open_questions", 0), withdrawn=c.get("withdrawn", 0)))
            st.rerun()  # the banner and the counts above now show the signed-off state
    message = st.session_state.pop("pl_signoff_message", None)
    if message:
        st.success(message[1])

# ---- Excel export ---------------------------------------------------------------------------------
st.subheader(t("export_header"))
st.checkbox(t("show_personnummer"), key=K.SHOW_PERSONNUMMER, help=t("show_personnummer_help"))
if st.button(t("make_export"), key="pl_make_export"):
    st.session_state[K.EXPORT_BYTES] = ws.export(
        lang=lang, show_personnummer=bool(st.session_state[K.SHOW_PERSONNUMMER]), exported_by=ui.operator()
    )
if st.session_state.get(K.EXPORT_BYTES):
    name = f"passerlink-links-{dt.date.today().isoformat()}.xlsx"
    st.download_button(t("download", name=name), st.session_state[K.EXPORT_BYTES], file_name=name,
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="pl_download", on_click="ignore")

# ---- Excel re-import ------------------------------------------------------------------------------
st.subheader(t("import_header"))
upload = st.file_uploader(t("import_file"), type=["xlsx"], key="pl_import_file")
if upload is not None and upload.file_id != st.session_state.get(K.IMPORT_NAME):
    try:
        changes = diff_decisions(ws.link_table(), read_workbook(upload.getvalue(), name=upload.name), name=upload.name)
    except WorkbookError as exc:
        st.error(t(exc.key, **exc.values))
        changes = None
    st.session_state[K.IMPORT_PREVIEW] = changes
    st.session_state[K.IMPORT_NAME] = upload.file_id
preview = st.session_state.get(K.IMPORT_PREVIEW)
if upload is not None and preview is not None:
    if not len(preview):
        st.info(t("import_no_changes"))
    else:
        st.markdown(t("import_preview", n=len(preview)))
        registers, m5_people = ws.people()  # names beside the ids: who the changes are about
        named = with_people(preview, registers, m5_people)
        view = named.assign(before=named["before"].map(lambda d: decision_label(d, lang)),
                            after=named["after"].map(lambda d: decision_label(d, lang)),
                            person=(named["given_names"] + " " + named["family_name"]).str.strip(),
                            m5_person=(named["m5_given_names"] + " " + named["m5_family_name"]).str.strip())
        view = view[["register", "source_id", "person", "m5_id", "m5_person", "before", "after", "probability"]]
        st.dataframe(view.rename(columns={"register": t("register"), "source_id": t("col_source_id"),
                                          "person": t("sync_person"), "m5_id": t("col_m5_id"),
                                          "m5_person": t("right_header"), "before": t("before"), "after": t("after"),
                                          "probability": t("col_probability")}),
                     hide_index=True, key="pl_import_table", placeholder="–")
        if st.button(t("apply_import"), key="pl_apply_import", type="primary"):
            decisions = changes_to_decisions(preview, who=ui.operator(), note=f"excel import: {upload.name}",
                                             model_version=engine.model_version if engine is not None else "")
            n = engine.apply_decisions(decisions) if engine is not None else ws.store.record(decisions)
            st.session_state[K.IMPORT_PREVIEW] = preview.iloc[0:0]
            st.success(t("import_applied", n=n))
