"""Both registers against M5 at once, and the few new people of a nightly run.

Matching the HR register and the student register against M5 separately would let one M5 user be
proposed for an HR person *and* a pupil: two links where there can be at most one. So the
registers are stacked into one left table (ids ``source:source_id``) and matched in one session:
the one-to-one assignment and the rival context then see every register's claim on an M5 user,
and an M5 user that several registers want is reported as a conflict to resolve, not linked twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from passerlink.errors import InputError
from passerlink.features.comparisons import level_in
from passerlink.features.prepare import PreparedPeople, add_frequencies, prepare_people
from passerlink.matching.candidates import generate_candidates
from passerlink.matching.classifier import sigmoid
from passerlink.matching.linkstore import ANSWER_LABELS, Decision
from passerlink.matching.model import Pairs
from passerlink.matching.session import MatchSession

__all__ = ["RegisterMatch", "match_registers", "link_new_people", "may_be_pairs", "NAME_IN_COMMON",
           "stack_registers", "split_key"]

_SEP = ":"


def stack_registers(registers: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One left table from several registers, ``source_id`` made unique as ``source:source_id``."""
    frames = []
    for name, df in registers.items():
        if _SEP in name:
            raise InputError(f"a register name may not contain {_SEP!r}: {name!r}")
        f = df.copy()
        f["source"] = name
        f["source_id"] = name + _SEP + f["source_id"].fillna("").astype(str)
        frames.append(f)
    if not frames:
        raise InputError("match_registers needs at least one register")
    return pd.concat(frames, ignore_index=True)


def split_key(key: str) -> tuple[str, str]:
    """``"hr:123"`` -> ``("hr", "123")``."""
    source, _, source_id = str(key).partition(_SEP)
    return source, source_id


@dataclass
class RegisterMatch:
    """The joint session of every register against M5, with per-register views of its results."""

    session: MatchSession

    def links(self) -> pd.DataFrame:
        """``source, source_id, m5_id, probability, status``: one-to-one across all registers."""
        ln = self.session.links()
        parts = [split_key(k) for k in ln["left_id"]]
        return pd.DataFrame({
            "source": [p[0] for p in parts],
            "source_id": [p[1] for p in parts],
            "m5_id": ln["right_id"].to_numpy(),
            "probability": ln["probability"].to_numpy(),
            "status": ln["status"].to_numpy(),
        })

    def conflicts(self) -> pd.DataFrame:
        """M5 users that people of more than one register could be (probability >= ask threshold).

        One row per (M5 user, register person) claim; ``linked`` says which claim the one-to-one
        assignment kept. These are exactly the pairs an operator should look at together.
        """
        sc = self.session.scores()
        sc = sc[sc["probability"] >= self.session.ask_threshold]
        sc = sc.assign(source=[split_key(k)[0] for k in sc["left_id"]])
        n_sources = sc.groupby("right_id")["source"].transform("nunique")
        hit = sc[n_sources > 1]
        linked = set(zip(*[self.session.links()[c] for c in ("left_id", "right_id")], strict=True))
        return pd.DataFrame({
            "m5_id": hit["right_id"].to_numpy(),
            "source": hit["source"].to_numpy(),
            "source_id": [split_key(k)[1] for k in hit["left_id"]],
            "probability": hit["probability"].to_numpy(),
            "linked": [(a, b) in linked for a, b in zip(hit["left_id"], hit["right_id"], strict=True)],
        }).sort_values(["m5_id", "probability"], ascending=[True, False], ignore_index=True)

    def replay_answers(self, decisions: pd.DataFrame) -> int:
        """Teach the session every operator answer of a link store's ``current()`` table, then
        retrain once; returns how many answers it took. The model's own proposals are no answers,
        and a pair whose person or M5 user is gone from the tables is skipped."""
        s = self.session
        left, right = set(s.left_ids.astype(str)), set(s.right_ids.astype(str))
        pairs: list[tuple[str, str]] = []
        labels: list[bool | None] = []
        for src, sid, mid, decision in zip(decisions["source"], decisions["source_id"], decisions["m5_id"],
                                           decisions["decision"], strict=True):
            key = f"{src}{_SEP}{sid}"
            if decision in ANSWER_LABELS and key in left and str(mid) in right:
                pairs.append((key, str(mid)))
                labels.append(ANSWER_LABELS[Decision(decision)])
        if pairs:
            s.mark_pairs(pairs, labels)
            s.retrain()
        return len(pairs)

    def links_of(self, source: str) -> pd.DataFrame:
        """One register's links as ``left_id, right_id, probability, status``."""
        ln = self.links()
        ln = ln[ln["source"] == source]
        return pd.DataFrame({"left_id": ln["source_id"].to_numpy(), "right_id": ln["m5_id"].to_numpy(),
                             "probability": ln["probability"].to_numpy(), "status": ln["status"].to_numpy()})


def match_registers(registers: Mapping[str, pd.DataFrame], m5: pd.DataFrame, *,
                    progress: Any = None, **session_kw: Any) -> RegisterMatch:
    """Prepare one joint session of every register against M5 (ask and answer through ``.session``)."""
    session = MatchSession(stack_registers(registers), m5, **session_kw)
    session.prepare(progress)
    return RegisterMatch(session)


def _left_ids(people: pd.DataFrame) -> pd.Series:
    sid = people["source_id"].fillna("").astype(str)
    if "source" in people.columns and (people["source"].fillna("") != "").any():
        return people["source"].fillna("").astype(str) + _SEP + sid
    return sid


#: Most pairs scored at once by an exhaustive ``link_new_people`` (bounds memory; whole people per chunk).
EXHAUSTIVE_CHUNK_PAIRS = 400_000


def link_new_people(new_people: pd.DataFrame, unlinked_m5: pd.DataFrame,
                    session_or_model: MatchSession | None = None, *,
                    exhaustive: bool = False, pairwise: bool = False,
                    min_probability: float = 0.01) -> pd.DataFrame:
    """Score a handful of new register people against the M5 users nobody is linked to.

    Returns ``left_id, right_id, probability, band`` for every candidate pair with a probability of
    at least ``min_probability``, best first; ``left_id`` is ``source:source_id`` when the people
    carry a source. With a prepared go-live session, its trained model is reused (a few new people
    are too few to learn from); without one, a fresh session is fitted on these two tables.

    ``exhaustive=True`` (with a session) scores every new person against every unlinked M5 user
    instead of the blocked candidates: an M5 user typed in by hand with a nickname and a new
    family name shares no blocking key with the register person, yet may be that person, and a
    sync that is about to create a user must not miss it. People are scored in chunks of about
    ``EXHAUSTIVE_CHUNK_PAIRS`` pairs; an M5 user's rivals are then counted within its chunk only,
    which can only raise its probability (more people queued, never fewer).

    ``pairwise=True`` gives each pair's own probability (the model's log-odds through a sigmoid)
    instead of the one-to-one posterior: "may this M5 user be this person?" is a question about
    the pair, and a posterior over a handful of unlinked users would spread the prior over them.
    """
    columns = ["left_id", "right_id", "probability", "band"]
    if new_people.empty or unlinked_m5.empty:
        return pd.DataFrame(columns=columns)
    left = new_people.reset_index(drop=True).copy()
    left["source_id"] = _left_ids(left).to_numpy()
    s = session_or_model
    if s is None:
        fresh = MatchSession(left, unlinked_m5).prepare()
        sc = fresh.scores()
        sc = sc[sc["probability"] >= min_probability]
        return sc[columns].sort_values("probability", ascending=False, ignore_index=True)
    if not isinstance(s, MatchSession) or not s.prepared:
        raise InputError("link_new_people needs a prepared MatchSession (or None)")
    right = unlinked_m5.reset_index(drop=True)
    L = prepare_people(left, extra_fields=s.extra_fields)
    R = prepare_people(right, extra_fields=s.extra_fields)
    add_frequencies(L, R)
    if exhaustive:
        per_chunk = max(1, EXHAUSTIVE_CHUNK_PAIRS // max(len(right), 1))
        parts = [_score_new(s, L, R, *_cross(range(a, min(a + per_chunk, len(left))), len(right)),
                            pairwise=pairwise)
                 for a in range(0, len(left), per_chunk)]
        out = pd.concat(parts, ignore_index=True)
    else:
        cand = generate_candidates(L, R)
        if len(cand) == 0:
            return pd.DataFrame(columns=columns)
        out = _score_new(s, L, R, cand.il, cand.ir, pairwise=pairwise)
    out = out[out["probability"] >= min_probability]
    return out.sort_values("probability", ascending=False, ignore_index=True)


#: When two people share a name, for ``may_be_pairs``: any one of these, each a set of comparison
#: levels that must all hold. The given name carries it (a hand-typed M5 user keeps the name the
#: person is called by, while the family name is what changes at marriage or gets mistyped): equal,
#: a nickname or spelling variant, equal to (or a variant of) another given name, nearly equal; or
#: a typo-near given name with the same family name ("Ahnes Håkansson" for Agnes Olivia Håkansson).
NAME_IN_COMMON: tuple[dict[str, tuple[str, ...]], ...] = (
    {"given_name": ("exact", "variant", "equal_to_other", "variant_of_other", "nearly_equal")},
    {"given_name": ("similar", "initial_or_weak"), "family_name": ("exact", "same_sound", "one_typo")},
)


def may_be_pairs(new_people: pd.DataFrame, unlinked_m5: pd.DataFrame, session: MatchSession, *,
                 min_probability: float, sure_probability: float) -> pd.DataFrame:
    """Every unlinked M5 user who may be one of the new people: ``left_id, right_id, probability``.

    Every new person is scored against every unlinked M5 user (no blocking) by the session's
    model, each pair on its own (``probability`` is the model's pair probability, not a
    one-to-one posterior). A pair may be the same person when the model gives it at least
    ``sure_probability``, or at least ``min_probability`` and the two share a given name
    (``NAME_IN_COMMON``): a hand-typed M5 user with a nickname and a new family name has little
    else the model can weigh, while a bare record that shares nothing but the school (or a family
    name that sounds alike) with a new person is no reason to hold back the person's card.
    """
    columns = ["left_id", "right_id", "probability"]
    if new_people.empty or unlinked_m5.empty:
        return pd.DataFrame(columns=columns)
    if not session.prepared:
        raise InputError("may_be_pairs needs a prepared MatchSession")
    left = new_people.reset_index(drop=True).copy()
    left["source_id"] = _left_ids(left).to_numpy()
    L = prepare_people(left, extra_fields=session.extra_fields)
    R = prepare_people(unlinked_m5.reset_index(drop=True), extra_fields=session.extra_fields)
    add_frequencies(L, R)
    comparisons = {c.name: c for c in session.model.comparisons}
    per_chunk = max(1, EXHAUSTIVE_CHUNK_PAIRS // max(len(R), 1))
    parts = []
    for a in range(0, len(left), per_chunk):
        il, ir = _cross(range(a, min(a + per_chunk, len(left))), len(R))
        scores = session.model.score_pairs(Pairs(L, R, il, ir))
        p = sigmoid(scores.logit)
        named = np.zeros(len(il), dtype=bool)
        for alternative in NAME_IN_COMMON:
            holds = np.ones(len(il), dtype=bool)
            for column, levels in alternative.items():
                holds &= level_in(scores.features, comparisons, column, *levels)
            named |= holds
        keep = (p >= sure_probability) | ((p >= min_probability) & named)
        parts.append(pd.DataFrame({"left_id": L.ids[il[keep]].astype(str), "right_id": R.ids[ir[keep]].astype(str),
                                   "probability": p[keep]}))
    return pd.concat(parts, ignore_index=True).sort_values("probability", ascending=False, ignore_index=True)


def _cross(rows: range, n_right: int) -> tuple[np.ndarray, np.ndarray]:
    il = np.repeat(np.arange(rows.start, rows.stop, dtype=np.int64), n_right)
    ir = np.tile(np.arange(n_right, dtype=np.int64), len(rows))
    return il, ir


def _score_new(s: MatchSession, L: PreparedPeople, R: PreparedPeople, il: np.ndarray, ir: np.ndarray, *,
               pairwise: bool = False) -> pd.DataFrame:
    """The session's model on the pairs (il, ir) of two prepared tables: ``left_id, right_id, probability, band``."""
    scores = s.model.score_pairs(Pairs(L, R, il, ir))
    p = sigmoid(scores.logit) if pairwise else scores.probability
    return pd.DataFrame({
        "left_id": L.ids[il].astype(str),
        "right_id": R.ids[ir].astype(str),
        "probability": p,
        "band": s.band_of(p),
    })
