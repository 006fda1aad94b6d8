"""New in a register: may this person already be in M5 as an unlinked user?

Before the engine creates a user it asks the matcher about every M5 user nobody is linked to –
typed in by hand or not. A duplicate is a second card holder for one person, so the bar is "may
be", not "probably is": an unlinked M5 user the model rates as possibly this person sends the
person to the operator's review queue instead of becoming a new user, and a queued person stays
queued until an operator decides. Pairs the operator already rejected are never proposed again.

The judge is the full model, the same one the workbench uses: every register against every M5
user in one joint session (``matching.match_registers``), taught the operator's answers from the
link store (``RegisterMatch.replay_answers``), then every new person scored against every
unlinked M5 user without blocking (``matching.registers.may_be_pairs``): a hand-typed user with a
nickname and a new family name shares no blocking key with the register, yet may be the person.
A pair counts when the model gives it at least the ask threshold, or at least ``MAY_BE`` and the
two share a given name (a bare record in the same school with another name does not hold a new
person's card back). Nothing falls back silently: if the model cannot run, the run fails.

``new_person_matcher = "rule"`` in the policy asks for the strict deterministic rule instead
(same valid personnummer; or same birth date, family name and first name, folded): a choice a
site makes on purpose, never a fallback.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import pandas as pd

from passerlink.features import fold_name
from passerlink.matching import Decision, match_registers
from passerlink.matching.registers import may_be_pairs
from passerlink.policy import SyncPolicy
from passerlink.sync.current import CurrentState
from passerlink.sync.desired import PersonKey

__all__ = ["MAY_BE", "hold_model_takeovers", "likely_matches", "model_matches", "rule_matches", "still_queued"]

#: The lowest pair probability at which an unlinked M5 user who shares a given name with a new
#: person may be them. On the sample world, the hardest true pairs the auto-links leave (a
#: nickname or second given name, a new or mistyped family name, nothing else but the school)
#: score from 0.00018 up; all 287 of them are kept at this floor.
MAY_BE = 0.0001


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


def model_matches(new_people: pd.DataFrame, unlinked_m5: pd.DataFrame, *,
                  registers: Mapping[str, pd.DataFrame], m5: pd.DataFrame,
                  answers: pd.DataFrame | None = None, min_probability: float = MAY_BE) -> pd.DataFrame:
    """Every (new person, unlinked M5 user) pair the full model gives at least ``min_probability``.

    ``registers`` (name -> canonical people) and ``m5`` (every M5 user as canonical people) are
    what the joint session learns from; ``answers`` is a link store's ``current()`` table, whose
    operator answers the session is taught before it scores. Returns ``left_id`` (=
    "source:source_id"), ``right_id``, ``probability``, ``band``, best first.
    """
    joint = match_registers(registers, m5)
    if answers is not None and len(answers):
        joint.replay_answers(answers)
    found = may_be_pairs(new_people, unlinked_m5, joint.session, min_probability=min_probability,
                         sure_probability=joint.session.ask_threshold)
    return found.assign(band=joint.session.band_of(found["probability"].to_numpy()))


def likely_matches(
    new_people: pd.DataFrame,
    unlinked_m5: pd.DataFrame,
    *,
    registers: Mapping[str, pd.DataFrame] | None = None,
    m5: pd.DataFrame | None = None,
    answers: pd.DataFrame | None = None,
    rejected: Collection[tuple[str, str, str]] = (),
    min_probability: float = MAY_BE,
    use_model: bool = True,
    rule_bands: Collection[str] = ("likely",),
) -> dict[PersonKey, tuple[str, float]]:
    """New person -> (M5 user id, probability) of the unlinked M5 user most likely to be them.

    ``new_people`` and ``unlinked_m5`` are canonical tables (``source``/``source_id``; for M5 the
    source id is the M5 user id); ``rejected`` holds (source, source_id, m5_id) pairs the operator
    said no to. With the model (the default), ``registers`` and ``m5`` are the whole registers and
    every M5 user the joint session learns from (without them, the session is fitted on the two
    tables given); ``use_model=False`` applies the strict rule, keeping its ``rule_bands``.
    """
    if new_people.empty or unlinked_m5.empty:
        return {}
    if use_model:
        everyone = registers if registers is not None else _by_source(new_people)
        found = model_matches(new_people, unlinked_m5, registers=everyone,
                              m5=m5 if m5 is not None else unlinked_m5, answers=answers,
                              min_probability=min_probability)
    else:
        found = rule_matches(new_people, unlinked_m5)
        found = found[found["band"].isin(list(rule_bands))]
    return _best_per_person(found, new_people, unlinked_m5, rejected)


def _by_source(people: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {str(name): part for name, part in people.groupby("source", sort=True)}


def _best_per_person(found: pd.DataFrame, new_people: pd.DataFrame, unlinked_m5: pd.DataFrame,
                     rejected: Collection[tuple[str, str, str]]) -> dict[PersonKey, tuple[str, float]]:
    keys = {f"{s}:{sid}": (str(s), str(sid)) for s, sid in zip(new_people["source"], new_people["source_id"],
                                                                   strict=True)}
    m5_ids = {str(i) for i in unlinked_m5["source_id"]}
    best: dict[PersonKey, tuple[str, float]] = {}
    for left, right, prob in zip(found["left_id"], found["right_id"], found["probability"], strict=True):
        key = keys.get(str(left))
        m5 = str(right)
        if key is None or m5 not in m5_ids or (key[0], key[1], m5) in rejected:
            continue
        if key not in best or float(prob) > best[key][1]:
            best[key] = (m5, float(prob))
    return best


def still_queued(found: Mapping[PersonKey, tuple[str, float]], pending: pd.DataFrame,
                 new_keys: Collection[PersonKey], free: Collection[str],
                 rejected: Collection[tuple[str, str, str]]) -> dict[PersonKey, tuple[str, float]]:
    """``found`` plus every person the review queue still holds for the operator.

    Once queued, a person stays queued until an operator decides: links them (they are no longer
    new), or rejects the pair (then the next plausible user, or a create). Without this, a
    retrained model on a later night could let the person through to a create while the
    operator has not looked yet. ``pending`` is ``SyncState.review_queue()``.
    """
    out = dict(found)
    free_ids = {str(m) for m in free}
    wanted = set(new_keys)
    for src, sid, m5, prob in zip(pending["source"], pending["source_id"], pending["m5_id"], pending["probability"],
                                  strict=True):
        key = (str(src), str(sid))
        if key in wanted and key not in out and str(m5) in free_ids and (key[0], key[1], str(m5)) not in rejected:
            out[key] = (str(m5), float(prob))
    return out


def hold_model_takeovers(links: pd.DataFrame, current: CurrentState, policy: SyncPolicy,
                         managed_groups: Collection[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(links the sync may act on, auto-links it holds back for an operator).

    An auto-link (the model's word, signed off in bulk) to an M5 user that no register feeds – one
    without our marker in a user group the sync does not manage (a substitute, a contractor, a
    visitor typed in by hand) – would move that hand-made record into a register's group and
    overwrite it. The model cannot tell a namesake in the same school from the person, so such a
    link waits for an operator: the person is left out of the links, and the sync's check for new
    people then finds that M5 user and puts the person in the review queue. An operator's
    ``confirmed`` or ``manual`` link goes through as before.
    """
    managed = {g.casefold() for g in managed_groups if g}
    held = []
    for i, (decision, m5_id) in enumerate(zip(links["decision"], links["m5_id"], strict=True)):
        user = current.users.get(str(m5_id))
        if decision != Decision.AUTO or user is None:
            continue
        group = user.get("usergroup").casefold()
        if group and group not in managed and policy.parse_marker(user.get(current.marker_field)) is None:
            held.append(i)
    mask = links.index.isin(links.index[held])
    return links[~mask].reset_index(drop=True), links[mask].reset_index(drop=True)
