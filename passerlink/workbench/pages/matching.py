"""Matchning / Matching: candidates, features and model for each register against M5."""

import altair as alt
import pandas as pd
import streamlit as st

from passerlink.errors import PasserlinkError
from passerlink.workbench import ui
from passerlink.workbench.estimates import histogram, threshold_table

t = ui.t
ws = ui.workspace_or_stop()

DONE = "pl_matching_done"  # session state: what the last run stored, shown once after the rerun

st.title(t("matching_title"))
ui.flow_banner(ws, "matching")
st.caption(t("matching_intro"))

ui.sources_or_stop(ws)

label = t("rerun_matching") if ws.engine is not None else t("run_matching")
if st.button(label, key="pl_run_matching", type="primary" if ws.engine is None else "secondary"):
    bar = st.progress(0.0, text=label)
    try:
        ws.build_engine(progress=ui.progress_bar(bar))
    except PasserlinkError as exc:
        st.error(t("error_prefix", message=str(exc)))
        st.stop()
    bar.empty()
    facts = ws.golive_facts()  # the proposals are in the link store now, not held in this page
    st.session_state[DONE] = t("proposals_stored", proposed=facts.proposed, question=facts.questions,
                               withdrawn=facts.withdrawn)
    st.rerun()  # the banner above moves on to the next step
done = st.session_state.pop(DONE, None)
if done:
    st.success(t("matching_done"))
    st.info(done)

engine = ui.engine_or_stop(ws, link=False)
answered, left = engine.progress()  # the same estimate the Review page shows
q1, q2 = st.columns(2)
q1.metric(t("answered_metric"), answered)
q2.metric(t("questions_left_metric"), left, help=t("questions_left_help"))
BANDS = {"auto": t("band_auto"), "ask": t("band_ask"), "none": t("band_none")}


@st.cache_data(show_spinner=False, max_entries=4)
def summaries(_engine, version: int) -> list[tuple[str, int, dict[str, int], pd.DataFrame, pd.DataFrame]]:
    """Per register: candidates, pairs per band, histogram and threshold table – small, so a rerun
    never rebuilds the frame of every candidate pair (``version`` is the engine's, unique per process)."""
    out = []
    for name, scores in _engine.scores().groupby("register", sort=False):
        bands = scores["band"].value_counts()
        prob = scores["probability"].to_numpy(dtype=float)
        out.append((str(name), len(scores), {b: int(bands.get(b, 0)) for b in ("auto", "ask", "none")}, histogram(prob),
                    threshold_table(prob)))
    return out


for name, n_candidates, bands, hist, thresholds in summaries(engine, engine.version):
    with st.container(border=True):
        st.subheader(f"{name} ↔ M5")
        c = st.columns(4)
        c[0].metric(t("candidates"), f"{n_candidates:,}".replace(",", "\u202f"))
        for col, band in zip(c[1:], ("auto", "ask", "none"), strict=True):
            col.metric(BANDS[band], bands[band])
        left, right = st.columns(2)
        with left:
            st.caption(t("score_histogram"))
            # symlog: most candidate pairs are clear non-links and would flatten everything else
            chart = alt.Chart(hist).mark_bar().encode(
                x=alt.X("bin:Q", title=t("probability"), bin=alt.Bin(binned=True, step=0.05)),
                x2="end:Q",
                y=alt.Y("pairs:Q", title=t("pairs"), scale=alt.Scale(type="symlog")),
                tooltip=[alt.Tooltip("bin:Q", title=t("probability")), alt.Tooltip("pairs:Q", title=t("pairs"))],
            ).transform_calculate(end="datum.bin + 0.05")
            st.altair_chart(chart, height=240)
        with right:
            st.caption(t("thresholds"))
            table = thresholds.rename(columns={
                "threshold": t("threshold"), "links": t("links_at_threshold"),
                "precision": t("precision"), "recall": t("recall")})
            st.dataframe(table, hide_index=True, key=f"pl_thresholds_{name}",
                         column_config={t("precision"): st.column_config.NumberColumn(format="percent"),
                                        t("recall"): st.column_config.NumberColumn(format="percent")})
