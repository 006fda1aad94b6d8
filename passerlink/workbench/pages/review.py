"""Granska / Review: one question at a time (or a table of auto-links), conflicts, undo."""

import re
from functools import partial

import pandas as pd
import streamlit as st

from passerlink.features import mask_personnummer
from passerlink.matching.linkstore import LinkDecision
from passerlink.workbench import state as K
from passerlink.workbench import ui
from passerlink.workbench.engine import DECISION_OF_LABEL
from passerlink.workbench.i18n import decision_label, explain_term, field_label, percent
from passerlink.workbench.linktable import PAIR_FIELDS, conflicts

t = ui.t
ws = ui.workspace_or_stop()
engine = ui.ensure_engine(ws)
lang = st.session_state[K.LANG]

st.title(t("review_title"))
ui.keyboard_shortcuts()
st.radio(t("mode"), ["one", "table"], key=K.REVIEW_MODE, horizontal=True,
         format_func=lambda m: t("mode_one") if m == "one" else t("mode_table"))

message = st.session_state.get(K.LAST_MESSAGE)


def say(kind: str, text: str) -> None:
    st.session_state[K.LAST_MESSAGE] = (kind, text)


def on_answer(question, label) -> None:
    doubts = engine.counters.contradictions
    engine.answer(question, label, ui.operator())
    if engine.counters.contradictions > doubts:  # against a confident model: asked again later
        say("info", t("doubt_noted", p=percent(question.probability, lang)))
    else:
        say("success", t("answered_as", decision=decision_label(DECISION_OF_LABEL[label], lang)))


ANSWER_WORDS = {True: "answer_yes", False: "answer_no", None: "answer_unsure"}


def why_text(why) -> str:
    """Why the pair is asked, in the operator's words (see ``ReviewEngine.view``)."""
    values = dict(why.values)
    if "first" in values:
        values["first"] = t(ANSWER_WORDS[values["first"]])
    if "auto" in values:  # "94,9 % is under the threshold (95 %)", never "95 % ... (95 %)"
        values["p"] = percent(float(values["p"]), lang, below=float(values["auto"]))
        values["auto"] = percent(float(values["auto"]), lang)
    elif "p" in values:
        values["p"] = percent(float(values["p"]), lang)
    return t(why.key, **values)


def on_undo() -> None:
    undone = engine.undo(ui.operator())
    if undone is None:
        say("info", t("nothing_to_undo"))
    else:
        say("info", t("undone", decision=decision_label(undone.decision, lang)))


def full_name(record: dict[str, str]) -> str:
    return " ".join(x for x in (record.get("given_names", ""), record.get("family_name", "")) if x)


def person_line(row) -> str:
    name = full_name(engine.record(row.register, row.source_id))
    m5name = full_name(engine.m5_record(row.m5_id))
    p = "" if pd.isna(row.probability) else f", {row.probability:.0%}"
    decided = decision_label(row.decision, lang) if row.decision else ""
    return f"{row.register} {row.source_id} {name} ↔ M5 {row.m5_id} {m5name} ({decided}{p})".replace("(, ", "(")


def on_resolve(rows: pd.DataFrame, choice_key: str) -> None:
    choice = st.session_state.get(choice_key, -1)
    decisions = []
    for i, row in enumerate(rows.itertuples(index=False)):
        keep = i == choice
        if keep and row.decision in ("confirmed", "manual"):
            continue
        p = None if pd.isna(row.probability) else float(row.probability)
        decisions.append(LinkDecision(row.register, row.source_id, row.m5_id, "confirmed" if keep else "rejected",
                                  p, ui.operator(), "one-to-one conflict", engine.model_version))
    engine.apply_decisions(decisions)
    say("success", t("resolved"))


def all_conflicts() -> list[dict]:
    """Links that break one-to-one, and M5 users that people of several registers could be."""
    found = conflicts(engine.link_table())
    claims = engine.claims()
    for m5_id, rows in claims.groupby("m5_id", sort=True):
        rows = rows.assign(decision=["auto" if x else "" for x in rows["linked"]])
        found.append({"kind": "claim", "key": str(m5_id), "rows": rows.reset_index(drop=True)})
    return found


def choice_label(lines: list[str], i: int) -> str:
    """A conflict's option: the i-th link, or none of them (-1)."""
    return lines[i] if i >= 0 else t("keep_none")


def show_conflicts(*, expanded: bool = True) -> None:
    found = all_conflicts()
    with st.expander(t("conflicts_header", n=len(found)), expanded=expanded and bool(found)):
        if not found:
            st.caption(t("no_conflicts"))
            return
        st.caption(t("conflicts_intro"))
        for c in found[:25]:
            rows = c["rows"]
            key = "-".join(c["key"]) if c["kind"] == "person" else c["key"]
            if c["kind"] in ("m5", "claim"):
                st.markdown(t("conflict_m5", m5_id=c["key"]))
            else:
                st.markdown(t("conflict_person", register=c["key"][0], source_id=c["key"][1]))
            choice_key = f"pl_conflict_{c['kind']}_{key}"
            lines = [person_line(r) for r in rows.itertuples(index=False)]
            options: list[int] = [*range(len(rows)), -1]
            st.radio(t("keep_link"), options, key=choice_key, format_func=partial(choice_label, lines))
            st.button(t("resolve"), key=f"pl_resolve_{c['kind']}_{key}", on_click=on_resolve, args=(rows, choice_key))


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def _md(value: object) -> str:
    """A record's value as literal markdown text (a name is never formatting)."""
    return _MARKDOWN.sub(r"\\\1", str(value)) if value else ""


def compare_markdown(view) -> str:
    """Both records side by side as a markdown table, differing fields marked: light to draw,
    which keeps answer -> next question fast (a data grid per question is not)."""
    show_pnr = st.session_state.get(K.SHOW_PERSONNUMMER)
    lines = [f"| | {_md(t('left_header', register=view.question.register))} | {_md(t('right_header'))} |",
             "|---|---|---|",
             f"| {_md(field_label('source_id', lang))} | {_md(view.question.source_id)} | {_md(view.question.m5_id)} |"]
    for f in PAIR_FIELDS:
        a, b = view.left.get(f, ""), view.right.get(f, "")
        if f == "personnummer" and not show_pnr:
            a, b = mask_personnummer(a), mask_personnummer(b)
        a, b = _md(a), _md(b)
        label = _md(field_label(f, lang))
        if view.differs.get(f):
            label, a, b = (f":orange-background[{x}]" if x else "" for x in (label, a, b))
        lines.append(f"| {label} | {a} | {b} |")
    return "\n".join(lines)


def show_reasons(explanation: pd.DataFrame | None) -> None:
    if explanation is None:  # the model is retraining this very moment: a click shows them
        st.caption(t("reasons_pending"))
        st.button(t("show_reasons"), key="pl_show_reasons")
        return
    if not len(explanation):
        return
    st.caption(t("reasons"))
    e = explanation[["feature", "level", "contribution"]].copy()
    e["feature"] = e["feature"].map(lambda f: explain_term(str(f), lang))
    e["level"] = e["level"].map(lambda v: explain_term(str(v), lang))
    e["contribution"] = e["contribution"].astype(float).round(2)
    e["sign"] = e["contribution"].map(lambda v: "+" if v > 0 else "−")
    # a plain Vega-Lite spec: the same chart as Altair would build, without its validation on
    # every answer (the question card is redrawn once per answer)
    spec = {
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "contribution", "type": "quantitative", "title": t("contribution"),
                  "axis": {"format": "+.1f"}},
            "y": {"field": "feature", "type": "nominal", "sort": "-x", "title": None, "axis": {"labelLimit": 320}},
            "color": {"field": "sign", "type": "nominal", "legend": None,
                      "scale": {"domain": ["+", "−"], "range": ["#2e7d32", "#c62828"]}},
            "tooltip": [{"field": "feature", "type": "nominal"}, {"field": "level", "type": "nominal"},
                        {"field": "contribution", "type": "quantitative", "format": "+.2f"}],
        },
    }
    st.vega_lite_chart(e, spec, height=max(140, 28 * len(e)))
    words = []
    for r in e.reindex(e["contribution"].abs().sort_values(ascending=False).index).head(4).itertuples():
        key = "reason_for" if r.contribution > 0.1 else "reason_against" if r.contribution < -0.1 else "reason_neutral"
        # the number is the bar's own (the chart's scale); a level that is itself a number (a
        # context or rarity score on another scale) is left out rather than shown beside it
        level = "" if _numeric(r.level) or not r.level else f"({r.level})"
        words.append("- " + t(key, feature=r.feature, level=level, value=_signed(r.contribution)))
    st.markdown("\n".join(words))


def _numeric(text: str) -> bool:
    try:
        float(str(text).replace("−", "-"))
    except ValueError:
        return False
    return True


def _signed(value: float) -> str:
    text = f"{value:+.2f}"
    return text.replace(".", ",") if lang == "sv" else text


@st.fragment
def question_panel() -> None:
    """The go-live banner and one question: a fragment, so an answer reruns only this (the
    banner's count of questions left moves with the card's). The conflicts list is outside: it
    merges the whole link table, too slow to redo on every answer."""
    ui.flow_banner(ws, "review", live=True)
    answered, left = engine.progress()
    total = answered + left
    st.progress(answered / total if total else 1.0, text=t("progress", answered=answered, left=left))
    if engine.training:
        st.caption(t("retraining"))
    shown = st.session_state.get(K.LAST_MESSAGE)
    if shown:
        (st.success if shown[0] == "success" else st.info)(shown[1])
        st.session_state[K.LAST_MESSAGE] = None
    q = engine.current()
    if q is None:
        st.success(t("no_questions"))
        c1, c2 = st.columns(2)
        if engine.open_pairs:
            c1.button(t("ask_anyway", n=engine.open_pairs), key="pl_ask_anyway", on_click=engine.ask_anyway)
        c2.button(t("undo"), key="pl_undo", on_click=on_undo)
        return
    view = engine.view(q)
    st.subheader(t("question_header"))
    if q.recheck:
        st.warning(why_text(view.why), icon=":material/help:")
    with st.container(key="pl_pair"):  # the pair's ids: what an operator quotes, what a test reads
        st.caption(t("pair_ids", register=q.register, source_id=q.source_id, m5_id=q.m5_id)
                   + " · " + t("model_probability", p=percent(q.probability, lang)))
    if view.why is not None and not q.recheck:
        st.caption(why_text(view.why))
    with st.container(key="pl_compare"):
        st.markdown(compare_markdown(view))
    b = st.columns(4)
    b[0].button(t("yes"), key="pl_yes", on_click=on_answer, args=(q, True), type="primary", width="stretch")
    b[1].button(t("no"), key="pl_no", on_click=on_answer, args=(q, False), width="stretch")
    b[2].button(t("unsure"), key="pl_unsure", on_click=on_answer, args=(q, None), width="stretch")
    b[3].button(t("undo"), key="pl_undo", on_click=on_undo, width="stretch")
    st.caption(t("shortcuts"))
    show_reasons(view.explanation)


def table_mode() -> None:
    st.caption(t("table_intro"))
    n = st.number_input(t("table_limit"), min_value=10, max_value=2000, value=50, step=10, key="pl_table_limit")
    table = engine.link_table()
    auto = table[table["decision"].isin(["proposed", "auto"])].sort_values("probability", kind="stable").head(int(n))
    rows = []
    for r in auto.itertuples(index=False):
        a, b = engine.record(r.register, r.source_id), engine.m5_record(r.m5_id)
        rows.append({"keep": True, "register": r.register, "source_id": r.source_id, "m5_id": r.m5_id,
                     "probability": r.probability,
                     "left": full_name(a), "right": full_name(b),
                     "birth": a.get("birth_date", ""), "m5_birth": b.get("birth_date", "")})
    frame = pd.DataFrame(rows, columns=["keep", "register", "source_id", "m5_id", "probability", "left", "right", "birth", "m5_birth"])
    edited = st.data_editor(
        frame, hide_index=True, key="pl_table_editor", disabled=[c for c in frame.columns if c != "keep"],
        column_config={
            "keep": st.column_config.CheckboxColumn(t("keep")),
            "register": t("register"), "source_id": t("col_source_id"), "m5_id": t("col_m5_id"),
            "probability": st.column_config.ProgressColumn(t("col_probability"), min_value=0.0, max_value=1.0, format="%.2f"),
            "left": t("left_header", register=""), "right": t("right_header"),
            "birth": field_label("birth_date", lang), "m5_birth": t("col_m5_prefix") + field_label("birth_date", lang),
        },
    )
    if st.button(t("save_table"), key="pl_save_table", type="primary", disabled=not len(frame)):
        decisions = [
            LinkDecision(r.register, r.source_id, r.m5_id, "confirmed" if r.keep else "rejected",
                     float(r.probability), ui.operator(), "table review", engine.model_version)
            for r in edited.itertuples(index=False)
        ]
        engine.apply_decisions(decisions)
        confirmed = sum(d.decision == "confirmed" for d in decisions)
        say("success", t("table_saved", confirmed=confirmed, rejected=len(decisions) - confirmed))
        st.rerun()


if st.session_state[K.REVIEW_MODE] == "table":
    ui.flow_banner(ws, "review")
    show_conflicts()
    if message:
        (st.success if message[0] == "success" else st.info)(message[1])
        st.session_state[K.LAST_MESSAGE] = None
    table_mode()
else:
    question_panel()
    show_conflicts(expanded=False)  # below the card: the question comes first, the count says if any

