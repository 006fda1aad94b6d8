"""Per-pair explanations: which comparisons pushed a pair's probability up or down, and why.

The classifier is linear in its inputs, so a pair's log-odds splits exactly into one contribution
per comparison (its level's weight, centred on that comparison's average), the term-frequency
terms and the one-to-one context (how the pair fares against the other candidates of both
people). The workbench shows the table and translates the sentence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from passerlink.features.comparisons import MISSING_LABELS, compare_pairs
from passerlink.features.personnummer import mask_personnummer
from passerlink.matching.classifier import derived_levels

if TYPE_CHECKING:  # pragma: no cover
    from passerlink.matching.session import MatchSession

__all__ = ["explain_pair", "EXPLANATION_COLUMNS"]

EXPLANATION_COLUMNS = ["feature", "left_value", "right_value", "level", "contribution"]

_CONTEXT_LABELS = {
    "prior_logit": "overall agreement (starting model)",
    "row_logit": "rivals of the left person",
    "col_logit": "rivals of the right person",
}
_READABLE = {
    "given_name": "given name",
    "family_name": "family name",
    "swapped_names": "name order",
    "birth_date": "birth date",
    "personnummer": "personnummer",
    "email": "e-mail",
    "employee_number": "employee number",
    "org_unit": "org unit",
    "family_tf": "rarity of the family name",
    "given_tf": "rarity of the given name",
}


def _value(df: pd.DataFrame, row: int, fields: tuple[str, ...]) -> str:
    parts = []
    for f in fields:
        if f in df.columns:
            v = str(df.at[row, f] or "")
            if f == "personnummer":
                v = mask_personnummer(v)
            if v:
                parts.append(v)
    return " / ".join(parts)


def explain_pair(s: MatchSession, left_id: str, right_id: str) -> pd.DataFrame:
    k = s.pair_index(left_id, right_id)
    i, j = s._lpos[left_id], s._rpos[right_id]
    if k >= 0:
        feats = s.features.iloc[[k]].reset_index(drop=True)
        ctx = s.context[[k]] if hasattr(s, "context") and len(s.context) > k else np.zeros((1, 3))
        probability = float(s.probability[k])
    else:
        il, ir = np.array([i]), np.array([j])
        feats = compare_pairs(s.L, s.R, il, ir, s.comparisons)
        z0 = s.fs.logit(feats[s.level_columns], s._tf_adjust(feats)) if s.fs is not None else np.zeros(1)
        ctx = s._context_for_outsiders(z0, il, ir)
        z = s.clf.decision_function(feats, ctx) if s.clf is not None else z0
        probability = float(1 / (1 + np.exp(-z[0])))
    if s.clf is not None:
        contrib = s.clf.contributions(feats, ctx).iloc[0]
    elif s.fs is not None:
        contrib = s.fs.log_bayes_factors(feats[s.level_columns]).iloc[0]
    else:
        contrib = pd.Series(0.0, index=s.level_columns)
    rows = []
    for comp in s.comparisons:
        level = int(feats.at[0, comp.name])
        rows.append((_READABLE.get(comp.name, comp.name), _value(s.left, i, comp.fields),
                     _value(s.right, j, comp.fields), comp.labels.get(level) if level >= 0 else MISSING_LABELS.get(level, "missing"),
                     float(contrib.get(comp.name, 0.0))))
    derived_labels = {"evidence": "identifiers in agreement", "org_unit_names_only": "org unit, names-only pair"}
    for col, label in derived_labels.items():
        if col in contrib.index and float(contrib[col]) != 0.0:
            level = int(derived_levels(feats)[col][0][0])
            text = str(level) if col == "evidence" else ("pair has identifiers" if level == 0 else "names only")
            rows.append((label, "", "", text, float(contrib[col])))
    for col in ("family_tf", "given_tf"):
        if col in contrib.index and float(contrib[col]) != 0.0:
            rows.append((_READABLE[col], "", "", f"{float(feats.at[0, col]):.1f}", float(contrib[col])))
    for col, label in _CONTEXT_LABELS.items():
        if col in contrib.index:
            rows.append((label, "", "", f"{float(ctx[0, list(_CONTEXT_LABELS).index(col)]):+.1f}",
                         float(contrib[col])))
    frame = pd.DataFrame(rows, columns=EXPLANATION_COLUMNS)
    frame.attrs["probability"] = probability
    frame.attrs["summary"] = summary_sentence(frame, probability)
    return frame


def summary_sentence(frame: pd.DataFrame, probability: float) -> str:
    """One English sentence: the verdict and the strongest reasons for and against."""
    if probability >= 0.9:
        verdict = "Very likely the same person"
    elif probability >= 0.5:
        verdict = "Probably the same person"
    elif probability >= 0.1:
        verdict = "Unclear"
    else:
        verdict = "Probably two different people"
    named = frame[frame["left_value"].ne("") | frame["right_value"].ne("")]
    ups = named[named["contribution"] > 0.3].sort_values("contribution", ascending=False).head(2)
    downs = named[named["contribution"] < -0.3].sort_values("contribution").head(2)
    parts = [f"{verdict} ({probability:.0%})"]
    if len(ups):
        parts.append("for: " + ", ".join(f"{r.feature} {r.level}" for r in ups.itertuples()))
    if len(downs):
        parts.append("against: " + ", ".join(f"{r.feature} {r.level}" for r in downs.itertuples()))
    return "; ".join(parts) + "."


__all__ += ["summary_sentence"]
