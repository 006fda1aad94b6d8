"""The names other packages code against are exported, and every export exists."""

import subprocess
import sys

import passerlink.features as features
import passerlink.matching as matching


def test_matching_exports_the_contract():
    for name in ("MatchSession", "match_registers", "link_new_people", "evaluate", "LinkStore", "Decision",
                 "DECISIONS", "LINK_DECISIONS"):
        assert name in matching.__all__
    for name in matching.__all__:
        assert hasattr(matching, name), name
    for method in ("prepare", "scores", "uncertain_pairs", "mark_pairs", "retrain", "links", "explain",
                   "estimated_questions_left", "should_stop"):
        assert callable(getattr(matching.MatchSession, method))


def test_features_exports_exist():
    for name in features.__all__:
        assert hasattr(features, name), name
    assert "mask_personnummer" in features.__all__


def test_the_link_store_alone_loads_no_matching_machinery():
    # commands that only read or write links (``passerlink links``) start without it
    code = ("import sys; from passerlink.matching import LinkStore, Decision;"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'rapidfuzz', 'sklearn'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
