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
