"""The Streamlit side shared by the pages: the cached workspace, the sidebar, login, small widgets.

Pages stay short by calling these. Heavy objects live in ``st.cache_resource`` (one per server
process), never recomputed on a rerun; per-browser choices live in session state under the
keys of ``state``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from passerlink.errors import PasserlinkError
from passerlink.features import mask_personnummer
from passerlink.workbench import state as K
from passerlink.workbench.i18n import LANGUAGES, decision_label, field_label, translator
from passerlink.workbench.login import THROTTLE
from passerlink.workbench.workspace import M5_URL_ENV, Workspace

__all__ = [
    "PAGES",
    "PASSWORD_ENV",
    "config_path",
    "t",
    "frame",
    "workspace",
    "workspace_or_stop",
    "sources_or_stop",
    "ensure_engine",
    "engine_or_stop",
    "operator",
    "show_people",
    "keyboard_shortcuts",
    "column_label",
    "flow_banner",
    "sync_text",
    "error",
    "local_time",
    "progress_text",
]

#: If set, the workbench asks for this password before showing anything (for a wider bind
#: without an OIDC provider; an OIDC login via ``st.login`` is used when ``[auth]`` is configured).
PASSWORD_ENV = "PASSERLINK_WORKBENCH_PASSWORD"

#: (file relative to app.py, url path, i18n key, icon), in menu order.
PAGES = [
    ("workbench/pages/sources.py", "sources", "page_sources", ":material/database:"),
    ("workbench/pages/matching.py", "matching", "page_matching", ":material/join_inner:"),
    ("workbench/pages/review.py", "review", "page_review", ":material/rule:"),
    ("workbench/pages/links.py", "links", "page_links", ":material/link:"),
    ("workbench/pages/sync.py", "sync", "page_sync", ":material/sync:"),
]


def config_path() -> str:
    """``--config F`` after ``streamlit run app.py --``, else ``PASSERLINK_CONFIG``."""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return os.environ.get(K.CONFIG_ENV, "")


def t(key: str, **values: object) -> str:
    return translator(st.session_state.get(K.LANG, "sv"))(key, **values)


def operator() -> str:
    return (st.session_state.get(K.OPERATOR) or "operator").strip() or "operator"


@st.cache_resource(show_spinner=False)
def _workspace(path: str, m5_url: str) -> Workspace:
    return Workspace(path, m5_url=m5_url or None)


def workspace() -> Workspace:
    """The process-wide workspace for the configuration in use (raises the ConfigError)."""
    path = st.session_state.get(K.CONFIG_PATH) or config_path()
    return _workspace(str(Path(path).resolve()), os.environ.get(M5_URL_ENV, ""))


def workspace_or_stop() -> Workspace:
    if not (st.session_state.get(K.CONFIG_PATH) or config_path()):
        st.error(t("no_config"))
        st.stop()
    try:
        return workspace()
    except PasserlinkError as exc:
        st.error(t("error_prefix", message=str(exc)))
        st.stop()


def _page_link(file: str) -> None:
    for path, _url, key, icon in PAGES:
        if path.endswith(file):
            st.page_link(path, label=t("go_to", page=t(key)), icon=icon)


def flow_banner(ws: Workspace, here: str, *, live: bool = False) -> None:
    """Where the go-live day stands, on every page (``sync.golive``'s state): the steps with the
    current one marked, what is left, and the next step with a link to the page that does it.

    ``live``: drawn on every answer (the Review page's fragment): the stored facts are read at
    most every few seconds; the questions left always come from the engine.
    """
    from passerlink.workbench.flow import banner_of

    facts = ws.golive_facts(max_age=LIVE_FACTS_AGE if live else 0.0)
    banner = banner_of(facts, questions_left=ws.engine.progress()[1] if ws.engine is not None else None)
    marks = {"done": "✓ {}", "current": "**▶ {}**", "later": "{}"}
    with st.container(border=True, key="pl_flow"):
        st.markdown(" → ".join(marks[mark].format(t(key)) for key, mark in banner.steps))
        if banner.left:
            st.caption(t("flow_left", items=", ".join(t(line.key, **line.values) for line in banner.left)))
        c1, c2 = st.columns([3, 1])
        c1.markdown(t("flow_next", text=t(banner.next.key, **banner.next.values)))
        if banner.next.page and banner.next.page != here:
            with c2:
                _page_link(f"{banner.next.page}.py")


#: How old the link store's facts under a live banner may be (seconds).
LIVE_FACTS_AGE = 5.0

#: The texts of matching's progress callback (``MatchSession.prepare``), as patterns -> i18n keys.
_PROGRESS = [
    (re.compile(r"^folding"), "progress_folding"),
    (re.compile(r"^generating candidate"), "progress_candidates"),
    (re.compile(r"^comparing (\d+)"), "progress_comparing"),
    (re.compile(r"starting model"), "progress_starting_model"),
    (re.compile(r"^training"), "progress_training"),
    (re.compile(r"^ready"), "progress_ready"),
]


def progress_bar(bar: DeltaGenerator) -> Callable[[float, str], None]:
    """Matching's progress callback drawing on ``bar``, its texts in the operator's language."""

    def show(fraction: float, message: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=progress_text(message))

    return show


def progress_text(message: str) -> str:
    """Matching's progress message in the operator's language: a known one translated, any other
    as a neutral "matching …" (an English text never reaches the page)."""
    for pattern, key in _PROGRESS:
        m = pattern.search(str(message).strip().lower())
        if m:
            return t(key, n=f"{int(m.group(1)):,}".replace(",", "\u202f")) if m.groups() else t(key)
    return t("progress_working")


def error(key: str, detail: object, **values: object) -> None:
    """An error in the operator's words (``key``), the technical sentence below it, folded away:
    the readers, M5 and the sync write theirs in English for logs and the command line, and
    what exactly went wrong is what support needs."""
    st.error(t(key, **values))
    with st.expander(t("technical_details")):
        st.code(str(detail), language=None, wrap_lines=True)


def sources_or_stop(ws: Workspace) -> None:
    """Go on only if every source and M5 could be read; else say why, with a link to Sources."""
    _registers, m5, problems = ws.ready()
    if problems or m5 is None:
        for p in problems:
            error("source_problem", p)
        st.info(t("needs_sources"))
        _page_link("sources.py")
        st.stop()


def ensure_engine(ws: Workspace):
    """The review engine, built (with a progress bar) the first time it is needed in this process;
    after a restart this is where every answer in the link store is replayed."""
    if ws.engine is not None:
        return ws.engine
    sources_or_stop(ws)
    bar = st.progress(0.0, text=t("run_matching"))
    try:
        engine = ws.ensure_engine(progress=progress_bar(bar))
    except PasserlinkError as exc:
        st.error(t("error_prefix", message=str(exc)))
        st.stop()
    bar.empty()
    return engine


def engine_or_stop(ws: Workspace, *, link: bool = True):
    """The engine if matching has run in this process, else a pointer to the Matching page
    (``link=False`` on the Matching page itself, whose run button is right above)."""
    if ws.engine is None:
        st.info(t("needs_matching"))
        if link:
            _page_link("matching.py")
        st.stop()
    return ws.engine


def _login_gate() -> None:
    """OIDC login when ``[auth]`` is configured in secrets, else the optional shared password."""
    try:
        has_auth = st.secrets.load_if_toml_exists() and "auth" in st.secrets
    except Exception:  # a broken secrets file: refuse rather than open up
        st.error("secrets.toml cannot be read")
        st.stop()
    if has_auth:
        if not st.user.is_logged_in:
            st.button("Logga in / Log in", on_click=st.login)
            st.stop()
        name = st.user.get("name") or st.user.get("email")
        if name:
            st.session_state[K.OPERATOR] = str(name)
        return
    secret = os.environ.get(PASSWORD_ENV, "")
    if not secret or st.session_state.get("pl_authenticated"):
        return
    given = st.text_input("Lösenord / Password", type="password", key="pl_password")
    st.button("Logga in / Log in", key="pl_login")
    if given and THROTTLE.check(given, secret):
        st.session_state["pl_authenticated"] = True
        del st.session_state["pl_password"]  # not kept in the session once used
        st.rerun()
    if given:
        st.error("Fel lösenord / Wrong password")
    st.stop()


def frame() -> list:
    """Everything around the pages: state, login, sidebar (language, operator); returns the pages."""
    K.init_state(st.session_state)
    if not st.session_state[K.CONFIG_PATH]:
        st.session_state[K.CONFIG_PATH] = config_path()
    _login_gate()
    with st.sidebar:
        st.selectbox(t("language"), list(LANGUAGES), format_func=lambda code: LANGUAGES[code], key=K.LANG)
        st.text_input(t("operator"), key=K.OPERATOR, help=t("operator_help"))
        if st.session_state[K.CONFIG_PATH]:
            st.caption(t("config_in_use", path=Path(st.session_state[K.CONFIG_PATH]).name))
    return [st.Page(path, title=t(key), icon=icon, url_path=url) for path, url, key, icon in PAGES]


def show_people(frame_: pd.DataFrame, columns: list[str], *, key: str | None = None,
                renames: Callable[[str], str] | None = None, height: int | None = None) -> None:
    """A people table on screen: personnummer masked unless the operator ticked the box."""
    shown = frame_[[c for c in columns if c in frame_.columns]].copy()
    if not st.session_state.get(K.SHOW_PERSONNUMMER):
        for c in shown.columns:
            if c.endswith("personnummer"):
                shown[c] = shown[c].map(mask_personnummer)
    if "decision" in shown.columns:
        lang = st.session_state.get(K.LANG, "sv")
        shown["decision"] = shown["decision"].map(lambda d: decision_label(d, lang))
    shown = shown.rename(columns=renames or column_label)
    st.dataframe(shown, hide_index=True, key=key, height=height or "auto", placeholder="–")


def sync_text(message: str) -> str:
    """A stop reason or error of ``passerlink.sync`` (written in English for logs and the
    terminal) in the operator's words: which rules stopped it, or that the plan changed."""
    text = str(message)
    lowered = text.lower()
    if "plan" in lowered and ("differ" in lowered or "changed" in lowered):
        return t("sync_stop_plan_changed")
    from passerlink.workbench.syncview import RULES, rule_label

    named = [rule_label(r, t) for r in RULES if r in text]
    if named:
        return t("sync_stop_rules", rules=", ".join(named))
    return t("sync_stop_other")


def local_time(stamp: str) -> str:
    """A stored UTC time stamp as the operator's local date and time (to the minute)."""
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


def column_label(column: str) -> str:
    lang = st.session_state.get(K.LANG, "sv")
    fixed = {"register": t("register"), "source_id": t("col_source_id"), "m5_id": t("col_m5_id"),
             "decision": t("col_decision"), "probability": t("col_probability"), "who": t("col_who"), "at": t("col_at")}
    if column in fixed:
        return fixed[column]
    if column.startswith("m5_"):
        return t("col_m5_prefix") + field_label(column[3:], lang)
    return field_label(column, lang)


#: Clicks the Review page's buttons from the keyboard (Streamlit has no key bindings). Runs in the
#: page itself (st.html with JavaScript), registers once per browser tab, ignores typing in fields.
KEYBOARD_JS = """
<script>
(function () {
  if (window.__passerlinkKeys) { return; }
  window.__passerlinkKeys = true;
  var keys = {j: "pl_yes", y: "pl_yes", n: "pl_no", o: "pl_unsure", u: "pl_undo"};
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) { return; }
    var el = e.target, tag = el && el.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (el && el.isContentEditable)) { return; }
    var key = keys[(e.key || "").toLowerCase()];
    if (!key) { return; }
    var button = document.querySelector(".st-key-" + key + " button");
    if (!button || button.disabled) { return; }
    e.preventDefault();
    button.click();
  });
})();
</script>
"""


def keyboard_shortcuts() -> None:
    st.html(KEYBOARD_JS, unsafe_allow_javascript=True)
