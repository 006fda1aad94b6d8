"""Every page in Swedish, in the states an operator meets on go-live day (matching run, questions
answered, a sign-off with removed proposals, a dry run on the Sync page): no text the catalogue
has in English, and no word of a list of English words the UI once leaked (progress texts,
explanation labels, sync reasons), anywhere on screen – charts and table headers included.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa

from passerlink.workbench.i18n import TEXTS

PAGES = ("sources", "matching", "review", "links", "sync")

#: Words that are English and not Swedish (checked case-insensitively, as whole words).
ENGLISH_WORDS = {
    "the", "and", "of", "with", "for", "is", "are", "was", "not", "yes", "no", "please", "error", "warning",
    "comparing", "candidate", "candidates", "pairs", "pair", "training", "classifier", "weak", "labels", "fitting",
    "starting", "folding", "ready", "identifiers", "agreement", "names", "only", "has", "missing", "equal",
    "different", "similar", "nearly", "rivals", "rarity", "overall", "left", "right", "given", "family",
    "birth", "date", "unit", "link", "links", "linked", "proposed", "question", "questions", "withdrawn", "removed",
    "model", "dry", "run", "report", "stopped", "failed", "done", "created", "users", "user", "changes", "sources",
    "situations", "operations", "rule", "rules", "approve", "approved", "sign", "signed", "off", "answer",
    "answered", "unsure", "manual", "automatic", "confirmed", "rejected", "unlinked", "download", "show", "because",
    "instead", "already", "longer",
}  # not "person", "plan", "status", "register", "in": Swedish as well
#: Texts that are the same in both languages (names, codes) are not English leaks.
_SAME = {k for k, v in TEXTS["en"].items() if TEXTS["sv"][k] == v}
#: English catalogue texts long enough to be recognised on their own (placeholders cut out).
_ENGLISH_TEXTS = [part.strip() for k, v in TEXTS["en"].items() if k not in _SAME
                  for part in re.split(r"\{[^}]*\}", v) if len(part.strip()) >= 12]


def _chart_words(spec: str) -> list[str]:
    """The strings a Vega-Lite chart draws: its data values and titles (not its encoding keys)."""
    try:
        data = json.loads(spec)
    except ValueError:
        return []
    out: list[str] = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in ("title", "feature", "level", "text"):
            out.append(node)

    walk(data)
    return out


def screen_texts(at) -> list[str]:
    """Everything an operator reads on the page: texts, labels, options, table headers, charts."""
    texts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "warning", "error", "text",
                 "code", "exception"):
        texts += [str(e.value) for e in getattr(at, kind)]
    for kind in ("button", "checkbox", "text_input", "number_input", "selectbox", "multiselect", "radio", "expander",
                 "metric"):
        texts += [str(e.label) for e in getattr(at, kind)]
    for e in at.radio:
        texts += [str(o) for o in e.options]
    texts += [str(e.label) for e in at.get("download_button")]
    texts += [str(e.proto.label) for e in at.get("page_link")]
    texts += [str(e.proto.text) for e in at.get("progress")]
    for e in at.dataframe:
        texts += [str(c) for c in e.value.columns]
        for c in e.value.columns:  # words in a table: the problem texts and labels, not the people's data
            if str(c) in ("Problem", "Situation", "Åtgärd", "Resultat", "Regel", "Beslut", "Varför", "Skillnad"):
                texts += [str(v) for v in e.value[c]]
    for e in at.get("vega_lite_chart"):
        texts += _chart_words(e.proto.spec)
        for ds in e.proto.datasets:  # the chart's data travels as Arrow beside the spec
            frame = pa.ipc.open_stream(ds.data.data).read_pandas()
            texts += [str(v) for c in frame.columns if frame[c].dtype == object for v in frame[c]]
    return texts


def english_in(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        plain = re.sub(r"`[^`]*`", "", text)  # command lines and ids in code spans are not prose
        plain = re.sub(r"\S*[/\\]\S*", "", plain)  # nor are file paths
        found += [f"{e!r} in {text!r}" for e in _ENGLISH_TEXTS if e in plain]
        words = {w.lower() for w in re.findall(r"[A-Za-zÅÄÖåäö]+", plain)}
        found += [f"{w!r} in {text!r}" for w in sorted(words & ENGLISH_WORDS)]
    return found


def test_every_page_in_swedish_through_the_go_live_day(app):
    at = app("sv").run()
    seen: dict[str, list[str]] = {}
    at.switch_page("workbench/pages/matching.py").run()
    at.button(key="pl_run_matching").click().run()
    assert not at.exception, at.exception
    seen["matching"] = screen_texts(at)
    at.switch_page("workbench/pages/review.py").run()
    for key in ("pl_yes", "pl_no", "pl_yes"):
        at.button(key=key).click().run()
        assert not at.exception, at.exception
    seen["review"] = screen_texts(at)
    assert any("Därför tror modellen så" in t for t in seen["review"])  # the reasons were on screen
    at.switch_page("workbench/pages/links.py").run()
    at.button(key="pl_signoff").click().run()
    assert not at.exception, at.exception
    seen["links"] = screen_texts(at)
    at.switch_page("workbench/pages/sync.py").run()
    at.button(key="pl_sync_preview").click().run()
    assert not at.exception, at.exception
    seen["sync"] = screen_texts(at)
    at.switch_page("workbench/pages/sources.py").run()
    seen["sources"] = screen_texts(at)
    assert set(seen) == set(PAGES)
    for page, texts in seen.items():  # the go-live banner on every page: where, what is left, what next
        assert any(t.startswith("Nästa steg:") for t in texts), page
    leaks = {page: english_in(texts) for page, texts in seen.items()}
    assert not any(leaks.values()), leaks


def test_the_word_list_catches_what_leaked_before():
    assert english_in(["comparing 59482 candidate pairs"]) and english_in(["identifiers in agreement"])
    assert english_in(["Why the model thinks so"])  # a catalogue text in English
    assert not english_in(["Jämför 59 482 kandidatpar", "Kör `passerlink sync --dry-run`"])


def test_every_level_of_every_comparison_has_swedish_words():
    from passerlink.features import comparisons
    from passerlink.workbench.i18n import EXPLAIN_SV

    standard = [v for v in vars(comparisons).values() if isinstance(v, comparisons.Comparison)]
    assert len(standard) >= 8
    words = {lv.label for c in standard for lv in c.levels} | set(comparisons.MISSING_LABELS.values())
    assert not sorted(w for w in words if w not in EXPLAIN_SV)


def test_a_workbook_that_cannot_be_read_back_is_refused_in_swedish(app):
    at = app("sv").run()
    at.switch_page("workbench/pages/links.py").run()
    at.file_uploader(key="pl_import_file").set_value(("trasig.xlsx", b"inte en arbetsbok", "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["trasig.xlsx: inte en Excel-arbetsbok som går att läsa (BadZipFile)."]


def test_matchings_progress_texts_are_said_in_swedish():
    """Every text ``MatchSession.prepare`` reports (read from its source: a new one fails here)."""
    from passerlink.workbench import ui

    source = (Path(__file__).resolve().parents[2] / "passerlink" / "matching" / "session.py").read_text(encoding="utf-8")
    said = [m.replace("{self.n_candidates}", "59482") for m in re.findall(r'say\([\d.]+, f?"([^"]+)"\)', source)]
    assert len(said) >= 4
    for message in said:
        shown = ui.progress_text(message)
        assert shown != TEXTS["sv"]["progress_working"] or message.startswith("ready"), message
        assert not english_in([shown]), (message, shown)


def test_the_readers_row_problems_are_said_in_swedish():
    from passerlink.workbench.i18n import translator
    from passerlink.workbench.issues import problem_text

    t = translator("sv")
    english = ["impossible date '2015-61-15'; left empty", "invalid personnummer '19800101-****'; left out",
               "birth date disagrees with the personnummer; both kept", "not an e-mail address; left out",
               "no name; row kept", "repeats row 7 exactly; left out", "text looks like a spreadsheet formula; kept as text",
               "text in cell C4 looks like a formula; kept as text", "formula in cell B2 kept as text",
               "error value in cell D9; read as empty", "3 values right of the last header column are ignored",
               "unit 17 has no name in the API's organisations",
               "this and 12 more cells of the column look like spreadsheet formulas; kept as text",
               "unrecognised date 'igår'; left empty (M5 user 12)"]
    shown = [problem_text(p, t) for p in english]
    assert shown[0] == "omöjligt datum '2015-61-15'; lämnat tomt"
    assert shown[-1] == "okänt datumformat 'igår'; lämnat tomt (M5-användare 12)"
    assert not english_in(shown), english_in(shown)
