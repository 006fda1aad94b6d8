"""New in a register: is this person already in M5 as an unlinked (manual) user?

Before the engine creates a user it asks the matcher about the M5 users nobody linked. A likely
match goes to the operator's review queue instead of becoming a duplicate. Pairs the operator
already rejected are never proposed again.

``likely_matches`` is the one seam: it uses ``passerlink.matching.link_new_people`` (the trained
matcher) when that is available, and otherwise a strict deterministic rule (same valid
personnummer; or same birth date, family name and first name, folded).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

import pandas as pd

from passerlink.errors import PasserlinkError
from passerlink.features import fold_name
from passerlink.sync.desired import PersonKey

__all__ = ["likely_matches", "rule_matches"]

log = logging.getLogger(__name__)

def _fold(text: str) -> str:
    return fold_name(str(text or ""))


def _first(text: str) -> str:
    parts = _fold(text).split()
    return parts[0] if parts else ""


def rule_matches(new_people: pd.DataFrame, unlinked_m5: pd.DataFrame) -> pd.DataFrame:
    """``left_id, right_id, probability, band`` by a strict rule (``left_id`` = "source:source_id")."""
    rows: list[tuple[str, str, float, str]] = []
    if new_people.empty or unlinked_m5.empty:
        return pd.DataFrame(rows, columns=["left_id", "right_id", "probability", "band"])
    by_pnr: dict[str, list[str]] = {}
    by_name: dict[tuple[str, str, str], list[str]] = {}
    for r in unlinked_m5.to_dict("records"):
        pnr = str(r.get("personnummer") or "")
        if len(pnr) == 12 and pnr.isdigit():
            by_pnr.setdefault(pnr, []).append(str(r["source_id"]))
        first = _first(r.get("call_name") or "") or _first(r.get("given_names") or "")
        fam = _fold(r.get("family_name") or "")
        bd = str(r.get("birth_date") or "")
        if bd and fam and first:
            by_name.setdefault((bd, fam, first), []).append(str(r["source_id"]))
    for r in new_people.to_dict("records"):
        left = f"{r['source']}:{r['source_id']}"
        pnr = str(r.get("personnummer") or "")
        hits = by_pnr.get(pnr, []) if len(pnr) == 12 else []
        if len(hits) == 1:
            rows.append((left, hits[0], 0.99, "likely"))
            continue
        fam = _fold(r.get("family_name") or "")
        bd = str(r.get("birth_date") or "")
        firsts = {_first(r.get("call_name") or ""), _first(r.get("given_names") or "")} - {""}
        cands = {m for f in firsts for m in by_name.get((bd, fam, f), [])} if bd and fam else set()
        if len(cands) == 1:
            rows.append((left, next(iter(cands)), 0.9, "likely"))
    return pd.DataFrame(rows, columns=["left_id", "right_id", "probability", "band"])


def _matcher() -> Callable[..., pd.DataFrame] | None:
    try:
        from passerlink.matching import link_new_people  # type: ignore[attr-defined]
    except ImportError:
        return None
    return link_new_people


def likely_matches(
    new_people: pd.DataFrame,
    unlinked_m5: pd.DataFrame,
    *,
    rejected: Collection[tuple[str, str, str]] = (),
    bands: Collection[str] = ("auto", "ask", "likely"),
    min_probability: float = 0.0,
    model: Any = None,
    use_model: bool = True,
) -> dict[PersonKey, tuple[str, float]]:
    """New person -> (M5 user id, probability) of its likely match, if any.

    ``new_people`` and ``unlinked_m5`` are canonical tables (``source``/``source_id``; for M5
    the source id is the M5 user id); ``rejected`` holds (source, source_id, m5_id) pairs the
    operator said no to; ``use_model=False`` uses the strict rule only.
    """
    if new_people.empty or unlinked_m5.empty:
        return {}
    matcher = _matcher() if use_model else None
    found = None
    if matcher is not None:
        try:
            found = matcher(new_people, unlinked_m5, model)
        except (PasserlinkError, ValueError) as exc:
            # too few people to fit a model on, say: the strict rule still keeps duplicates out
            log.warning("the matcher could not score the new people (%s); using the strict rule", exc)
    if found is None:
        found = rule_matches(new_people, unlinked_m5)
    keys = {f"{s}:{sid}": (str(s), str(sid)) for s, sid in zip(new_people["source"], new_people["source_id"],
                                                                   strict=True)}
    by_index = {str(i): (str(s), str(sid)) for i, s, sid in zip(new_people.index, new_people["source"],
                                                                   new_people["source_id"], strict=True)}
    m5_by_index = {str(i): str(sid) for i, sid in zip(unlinked_m5.index, unlinked_m5["source_id"], strict=True)}
    m5_ids = set(m5_by_index.values())
    best: dict[PersonKey, tuple[str, float]] = {}
    for left, right, prob, band in zip(found["left_id"], found["right_id"], found["probability"], found["band"],
                                       strict=True):
        key = keys.get(str(left)) or by_index.get(str(left))
        m5 = str(right) if str(right) in m5_ids else m5_by_index.get(str(right))
        if key is None or m5 is None:
            continue
        if str(band) not in bands or float(prob) < min_probability:
            continue
        if (key[0], key[1], m5) in rejected:
            continue
        if key not in best or float(prob) > best[key][1]:
            best[key] = (m5, float(prob))
    return best
