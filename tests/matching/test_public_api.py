"""The names other packages code against are exported, and every export exists."""

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
