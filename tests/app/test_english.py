"""Every page in English: no exception, English titles."""

import pytest


@pytest.mark.parametrize("page,title", [("sources", "Sources"), ("matching", "Matching"), ("review", "Review"),
                                        ("links", "Links"), ("sync", "Sync")])
def test_every_page_in_english(app, page, title):
    at = app("en").run()
    at.switch_page(f"workbench/pages/{page}.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == title
    assert "Källor" not in [t.value for t in at.title]


def test_the_sync_page_in_english_names_the_situations_in_english(app, workbench_config, world, m5sim):
    from passerlink.matching import LinkDecision, LinkStore
    from passerlink.workbench.i18n import SITUATIONS_EN

    LinkStore(workbench_config.parent / "state" / "links.sqlite").record(
        [LinkDecision(r.source, str(r.source_id), str(r.m5_id), "confirmed", 0.9, "anna") for r in world.truth.head(3).itertuples()])
    at = app("en").run()
    at.switch_page("workbench/pages/sync.py").run()
    at.button(key="pl_sync_preview").click().run()
    assert not at.exception, at.exception
    situations = next(d.value for d in at.dataframe if "Situation" in d.value.columns)
    assert len(situations) and set(situations["Situation"]) <= set(SITUATIONS_EN.values())
    assert any(i.value.startswith("The dry run's plan has id") for i in at.info)


def test_every_sync_situation_has_english_words():
    from passerlink.sync.report import SITUATION_LABELS
    from passerlink.workbench.i18n import SITUATIONS_EN

    assert set(SITUATIONS_EN) == set(SITUATION_LABELS)
