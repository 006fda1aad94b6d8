import re
from pathlib import Path

import pytest

from passerlink.workbench import i18n, state

ROOT = Path(__file__).resolve().parents[2] / "passerlink"


def test_every_language_has_the_same_keys():
    assert set(i18n.TEXTS["sv"]) == set(i18n.TEXTS["en"])
    assert set(i18n.DECISION_LABELS["sv"]) == set(i18n.DECISION_LABELS["en"])
    assert set(i18n.FIELD_LABELS["sv"]) == set(i18n.FIELD_LABELS["en"])


def test_every_key_the_code_uses_exists():
    used = set()
    for path in [ROOT / "app.py", *(ROOT / "workbench").rglob("*.py")]:
        if path.exists():
            used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']""", path.read_text(encoding="utf-8")))
    assert used, "the pages use t('...')"
    missing = sorted(used - set(i18n.TEXTS["sv"]))
    assert not missing


def test_translator_formats_and_falls_back_to_swedish():
    assert i18n.translator("en")("progress", answered=3, left=7) == "3 answered · about 7 questions left"
    assert i18n.translator("xx")("yes") == i18n.TEXTS["sv"]["yes"]
    with pytest.raises(KeyError):
        i18n.text("no_such_key")


@pytest.mark.parametrize("word,code", [("bekräftad", "confirmed"), ("Rejected", "rejected"), (" osäker ", "unsure"),
                                       ("manual", "manual"), ("automatisk", "auto"), ("kanske", None)])
def test_decision_words_in_either_language(word, code):
    assert i18n.decision_from_label(word) == code


def test_init_state_fills_missing_and_keeps_existing(monkeypatch):
    monkeypatch.setenv(state.CONFIG_ENV, "/tmp/x.toml")
    s = {state.LANG: "en"}
    state.init_state(s)
    assert s[state.LANG] == "en"
    assert s[state.CONFIG_PATH] == "/tmp/x.toml"
    assert s[state.SHOW_PERSONNUMMER] is False
    s[state.LINK_FILTER].append("auto")
    again = {}
    state.init_state(again)  # a fresh session does not share the list
    assert again[state.LINK_FILTER] == []
    state.init_state(s)
    assert s[state.LINK_FILTER] == ["auto"]


def test_public_names_are_exported():
    import passerlink.workbench as wb

    for name in wb.__all__:
        assert getattr(wb, name) is not None
    assert {"ReviewEngine", "Workspace", "export_workbook", "read_workbook", "diff_decisions"} <= set(wb.__all__)


def test_percent_is_written_the_swedish_way_and_never_reads_as_the_threshold_it_is_under():
    from passerlink.workbench.i18n import percent

    assert percent(0.95) == "95 %" and percent(0.95, "en") == "95%"
    assert percent(0.949, below=0.95) == "94,9 %"  # not "95 %" under a threshold of 95 %
    assert percent(0.5, below=0.95) == "50 %"
    assert percent(float("nan")) == "–"
