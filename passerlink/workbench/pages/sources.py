"""Källor / Sources: is every register (and M5) read as it should be?"""

import pandas as pd
import streamlit as st

from passerlink.errors import PasserlinkError
from passerlink.people import PERSON_FIELDS
from passerlink.workbench import state as K
from passerlink.workbench import ui
from passerlink.workbench.i18n import field_label
from passerlink.workbench.issues import issue_rows
from passerlink.workbench.uploads import header_names

t = ui.t
ws = ui.workspace_or_stop()
lang = st.session_state[K.LANG]

st.title(t("sources_title"))
ui.flow_banner(ws, "sources")
st.caption(t("sources_intro"))
if st.button(t("reload_sources"), key="pl_reload_sources"):
    with st.spinner(t("reload_sources")):
        ws.sources(reload=True)
        ws.m5(reload=True)


def show_profile(state, key: str) -> None:
    p = state.profile
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("rows"), p.get("rows", 0))
    c2.metric(t("invalid_personnummer"), p.get("invalid_personnummer", 0))
    c3.metric(t("duplicate_ids"), p.get("duplicate_ids", 0))
    c4.metric(t("issues"), p.get("issues", 0))
    missing = pd.DataFrame(
        {t("field"): [field_label(f, lang) for f in p.get("missing", {})],
         t("missing_share_column"): list(p.get("missing", {}).values())}
    )
    if len(missing):
        st.caption(t("missing_share"))
        st.bar_chart(missing, x=t("field"), y=t("missing_share_column"), horizontal=True, height=260)
    issues = state.table.issues
    if issues:
        with st.expander(t("issues_list", n=len(issues))):
            rows = issue_rows(issues, t)
            st.dataframe(rows.rename(columns={"row": t("col_row"), "column": t("col_column"),
                                              "problem": t("col_problem")}), hide_index=True, key=f"pl_issues_{key}")
    with st.expander(t("preview")):
        ui.show_people(state.table.people.head(25), PERSON_FIELDS, key=f"pl_preview_{key}")


sources = ws.sources()
for name, src in sources.items():
    with st.container(border=True):
        st.subheader(t("source_header", name=name, kind=src.kind))
        if src.error or src.table is None:
            ui.error("source_unreadable", src.error, name=name)
            continue
        st.caption(t("source_origin", origin=src.table.origin))
        if src.uploaded:
            st.info(t("upload_active", file=src.uploaded))
            if st.button(t("drop_upload"), key=f"pl_drop_{name}"):
                ws.drop_upload(name)
                st.rerun()
        show_profile(src, name)

with st.container(border=True):
    st.subheader(t("m5_header"))
    m5 = ws.m5()
    if ws.config.m5 is None:
        st.warning(t("m5_not_configured"))
    elif m5.error:
        ui.error("m5_unreadable", m5.error)
    elif m5.table is not None:
        st.caption(t("m5_users", n=len(m5.table)))
        show_profile(m5, "m5")

with st.expander(t("upload_header")):
    st.caption(t("upload_help"))
    upload = st.file_uploader(t("upload_file"), type=["csv", "txt", "tsv", "xlsx"], key="pl_upload")
    target = st.selectbox(t("upload_target"), [s.name for s in ws.config.sources], key="pl_upload_target")
    if upload is not None:
        data = upload.getvalue()
        try:
            headers = header_names(data, upload.name)
        except PasserlinkError as exc:
            ui.error("upload_unreadable", exc, file=upload.name)
            st.stop()
        from passerlink.sources import recognise_headers

        guessed = recognise_headers(headers)
        options = ["", *[f for f in PERSON_FIELDS]]
        st.caption(t("mapping"))
        mapping = {}
        cols = st.columns(3)
        for i, header in enumerate(headers):
            guess = guessed.get(header, "")
            choice = cols[i % 3].selectbox(
                header, options, index=options.index(guess) if guess in options else 0,
                format_func=lambda f: field_label(f, lang) if f else t("not_mapped"),
                key=f"pl_map_{target}_{i}",
            )
            if choice:
                mapping[header] = choice
        id_guess = next((h for h, f in mapping.items() if f == "source_id"), "")
        id_column = st.selectbox(t("id_column"), ["", *headers], index=(["", *headers].index(id_guess)),
                                 format_func=lambda h: h or t("not_mapped"), key=f"pl_id_{target}")
        if st.button(t("read_upload"), key="pl_read_upload", type="primary"):
            mapping = {h: f for h, f in mapping.items() if f != "source_id"}
            try:
                state = ws.use_upload(target, data, upload.name, id_column=id_column or None, mapping=mapping)
            except PasserlinkError as exc:
                ui.error("upload_unreadable", exc, file=upload.name)
            else:
                st.success(t("upload_read", name=target, rows=len(state.table.people) if state.table is not None else 0,
                             file=upload.name))
                st.rerun()
