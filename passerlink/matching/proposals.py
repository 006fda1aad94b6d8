"""The joint matching's proposals, stored: what ``links propose`` and the workbench write.

Proposals are not held in a page. Right after the joint matching (every register against M5 in
one session, ``match_registers``) its auto-links are stored as ``proposed`` and its open questions
as ``question`` decisions, each with its probability and the model version, in the link store;
sign-off (``LinkStore.signoff``) then turns the reviewed set into links in one recorded step.
The store's own rules keep an operator's answer above the model and say why a proposal went.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from passerlink.matching.linkstore import Decision, LinkStore
from passerlink.matching.registers import RegisterMatch, match_registers, split_key

__all__ = ["ProposeResult", "proposals_of", "propose", "model_version_of"]


def model_version_of(match: RegisterMatch) -> str:
    """The model version stored with each proposal (the same spelling the workbench uses)."""
    s = match.session
    return f"seed{s.seed}-r{s.n_retrains}"


def proposals_of(match: RegisterMatch) -> pd.DataFrame:
    """``source, source_id, m5_id, probability, kind``: the auto-links (``proposed``) and every
    pair in the ask band that is not linked and not answered (``question``)."""
    s = match.session
    ln = match.links()
    auto = ln[ln["status"] == "auto"]
    linked = {(f"{a}:{b}", str(m)) for a, b, m in zip(ln["source"], ln["source_id"], ln["m5_id"], strict=True)}
    sc = s.scores()
    ask = sc[(sc["band"] == "ask") & sc["decision"].isna()]
    open_ = np.array([(a, str(b)) not in linked for a, b in zip(ask["left_id"], ask["right_id"], strict=True)],
                     dtype=bool)
    ask = ask.loc[open_] if len(ask) else ask
    parts = [split_key(k) for k in ask["left_id"]]
    questions = pd.DataFrame({
        "source": [p[0] for p in parts], "source_id": [p[1] for p in parts],
        "m5_id": ask["right_id"].astype(str).to_numpy(), "probability": ask["probability"].to_numpy(),
        "kind": Decision.QUESTION.value,
    })
    proposed = pd.DataFrame({
        "source": auto["source"].to_numpy(), "source_id": auto["source_id"].to_numpy(),
        "m5_id": auto["m5_id"].astype(str).to_numpy(), "probability": auto["probability"].to_numpy(),
        "kind": Decision.PROPOSED.value,
    })
    return pd.concat([proposed, questions], ignore_index=True)


@dataclass
class ProposeResult:
    """What ``propose`` found and stored, per register."""

    match: RegisterMatch
    model_version: str
    #: register -> {"people", "candidates", "auto_links", "open_questions", "people_with_questions"}
    per_source: dict[str, dict[str, int]] = field(default_factory=dict)
    #: what the store wrote (``LinkStore.propose``'s counts)
    stored: dict[str, int] = field(default_factory=dict)


def propose(registers: Mapping[str, pd.DataFrame], m5: pd.DataFrame, store: LinkStore, *,
            who: str = "model", **session_kw: object) -> ProposeResult:
    """Run the joint matching, teach it the store's operator answers, store its proposals."""
    match = match_registers(registers, m5, **session_kw)
    current = store.current()
    if len(current):
        match.replay_answers(current)
    version = model_version_of(match)
    props = proposals_of(match)
    stored = store.propose(props, model_version=version, who=who)
    sc = match.session.scores()
    cand_source = pd.Series([split_key(k)[0] for k in sc["left_id"]], dtype=object)
    per_source: dict[str, dict[str, int]] = {}
    for name, people in registers.items():
        mine = props[props["source"] == name]
        q = mine[mine["kind"] == Decision.QUESTION.value]
        per_source[name] = {
            "people": len(people),
            "candidates": int((cand_source == name).sum()),
            "auto_links": int((mine["kind"] == Decision.PROPOSED.value).sum()),
            "open_questions": len(q),
            "people_with_questions": int(q["source_id"].nunique()),
        }
    return ProposeResult(match, version, per_source, stored)
