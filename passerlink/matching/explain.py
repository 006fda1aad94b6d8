"""Per-pair explanations: which comparisons pushed a pair's probability up or down, and why.

The classifier is linear in its inputs, so a pair's log-odds splits exactly into one contribution
per comparison (its level's weight, centred on that comparison's average), the term-frequency
terms and the one-to-one context (how the pair fares against the other candidates of both
people). Without a classifier the start's ln(m/u) per comparison stands in. The explanation reads
the intermediate values of the model's one scoring path (``PairScores``), never its own copy.

What the workbench reads (``EXPLANATION_COLUMNS``), one row per input:

* ``feature``: English words for the comparison or input ("given name", "rivals of the left
  person", ...): keys of ``workbench.i18n.EXPLAIN_SV``;
* ``left_value``/``right_value``: the values compared (personnummer masked), "" for inputs that
  are not fields;
* ``level``: the level's words (``ComparisonLevel.label``, also keys of ``EXPLAIN_SV``), a number
  for term-frequency and context rows;
* ``contribution``: its share of the pair's log-odds in nats (positive: for a link).

``attrs['probability']`` is the pair's probability, ``attrs['summary']`` one English sentence,
``attrs['level_names']`` maps each comparison row's ``feature`` to its level's *name*
(``ComparisonLevel.name``, e.g. "exact", "missing_left"): what code should test against; the
``level`` words are for people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from passerlink.features.personnummer import mask_personnummer
from passerlink.matching.design import CONTEXT_COLUMNS, derived_levels
from passerlink.matching.model import LinkModel, PairScores

__all__ = ["explain_pair", "EXPLANATION_COLUMNS", "summary_sentence"]

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
    "record_age": "age of the M5 user",
    "family_tf": "rarity of the family name",
    "given_tf": "rarity of the given name",
}
_DERIVED_LABELS = {"evidence": "identifiers in agreement", "org_unit_names_only": "org unit, names-only pair"}


def _value(record: pd.Series, fields: tuple[str, ...]) -> str:
    parts = []
    for f in fields:
        if f in record.index:
            v = record[f]
            v = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            if f == "personnummer":
                v = mask_personnummer(v)
            if v:
                parts.append(v)
    return " / ".join(parts)


def explain_pair(model: LinkModel, scores: PairScores, left: pd.Series, right: pd.Series) -> pd.DataFrame:
    """The explanation of one scored pair (``scores`` of length one) between the records
    ``left`` and ``right`` (canonical fields)."""
    feats = scores.features
    probability = float(scores.probability[0])
    contrib = model.contributions(feats, scores.context).iloc[0]
    rows = []
    level_names: dict[str, str] = {}
    for comp in model.comparisons:
        level = int(feats.at[0, comp.name])
        rows.append((_READABLE.get(comp.name, comp.name), _value(left, comp.fields), _value(right, comp.fields),
                     comp.label_of(level), float(contrib.get(comp.name, 0.0))))
        level_names[_READABLE.get(comp.name, comp.name)] = comp.level_name(level)
    for col, label in _DERIVED_LABELS.items():
        if col in contrib.index and float(contrib[col]) != 0.0:
            level = int(derived_levels(feats, model.design.comparisons)[col][0][0])
            text = str(level) if col == "evidence" else ("pair has identifiers" if level == 0 else "names only")
            rows.append((label, "", "", text, float(contrib[col])))
    for col in ("family_tf", "given_tf"):
        if col in contrib.index and float(contrib[col]) != 0.0:
            rows.append((_READABLE[col], "", "", f"{float(feats.at[0, col]):.1f}", float(contrib[col])))
    for k, col in enumerate(CONTEXT_COLUMNS):
        if col in contrib.index:
            rows.append((_CONTEXT_LABELS[col], "", "", f"{float(scores.context[0, k]):+.1f}",
                         float(contrib[col])))
    frame = pd.DataFrame(rows, columns=EXPLANATION_COLUMNS)
    frame.attrs["probability"] = probability
    frame.attrs["level_names"] = level_names
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

