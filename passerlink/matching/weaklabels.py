"""Weak labels: what the classifier learns from before the operator has said anything.

Near-certain links: a valid personnummer, an employee number or an e-mail address in common
*and* a similar name; or a pair the unsupervised model and the one-to-one context both find
overwhelming *and* whose given names agree *and* that agrees on more than names, if only the org
unit (the given names: a pupil who is not in M5 has no rival to the record of a brother at the
same school) (a names-only pair
without rivals may be a namesake: a contractor in M5 who shares a name with an employee who is
not there; only the operator can tell, so such pairs are left for the classifier to learn from
answers). Near-certain non-links: two different valid personnummer (not a samordningsnummer
meeting a personnummer); an M5 user created before the person was old enough for school
(``record_too_old``: an older sibling's, a graduate's record); pairs the starting model finds hopeless; a given name that shares
nothing with the other's (a sibling at the same school) when no identifier agrees and the start
finds the pair unlikely; random pairs of people. (Birth dates years apart were a weak non-link
too, at first: on FEBRL4, where a birth date is often mistyped by years, that cost 0.009 of F1
at 50 answers.)

One names-only rule: a pair whose given and family names are both equal, that is *alone*
(``name_rivals``: no other candidate of either person has a close given *and* family name) and
that has no identifier on both sides short of agreeing (nothing but names is known) is a link. A school office knows most
pupils by name and school only; without this rule the classifier never sees a names-only link
before the operator's answers, and learns from a handful of them (asked because they are
doubtful: namesakes, graduates) that names are weak evidence for everyone. A stale namesake
beside the real one (a graduate under a sibling's name, a Petersson beside a Pettersson) is not
alone, so neither is labelled by it; the school is left out of the rule on purpose: labelling
only same-school pairs taught the classifier that a stale school in M5 rules a pupil out.

``unsettled`` is not a label but the same kind of rule: the pairs the model holds below the auto
threshold, whatever the classifier says (namesakes nothing but the names tells apart,
names-only pairs whose M5 user sits in a unit no register person is in: ``units_outside``, and
names-only pairs in another unit whose M5 user lacks the staff member's employee number:
``staff_namesakes``), so that they are asked about.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from passerlink.features.comparisons import MISSING_RIGHT, Comparison, level_in
from passerlink.matching.context import competitor_scores
from passerlink.matching.design import IDENTIFIER_AGREEMENT

__all__ = ["weak_labels", "name_rivals", "namesake_rivals", "unsettled", "identifiers_disagree", "beyond_names",
           "units_outside", "staff_namesakes", "local_part_only", "record_too_old", "STAFF_KEY",
           "RECORD_TOO_OLD",
           "UNLABELLED",
           "NAME_CLOSE", "NAMESAKE", "TWO_NUMBERS", "MORE_THAN_NAMES", "ALONE_NAMES"]

UNLABELLED = -1

#: A name "close enough" to back an identifier: nearly equal or better (by level name).
NAME_CLOSE: dict[str, tuple[str, ...]] = {
    "given_name": ("exact", "variant", "equal_to_other", "variant_of_other", "nearly_equal"),
    "family_name": ("exact", "same_sound", "one_typo", "part_in_common"),
}
#: Two different valid personnummer (twins share a birth date, not a number); a
#: samordningsnummer meeting a personnummer of the same date is *not* among them.
TWO_NUMBERS = ("different", "same_birth_date")
#: Agreement on more than names, if only the org unit: what a high posterior needs to be a link.
MORE_THAN_NAMES: dict[str, tuple[str, ...]] = {**IDENTIFIER_AGREEMENT, "org_unit": ("exact",)}
#: The levels of a names-only pair that is a link when it is alone: both names equal.
ALONE_NAMES: dict[str, tuple[str, ...]] = {"given_name": ("exact",), "family_name": ("exact",)}
#: Birth dates that still agree in the main (a typo, a swap, a year off): any other pair of
#: dates, both present, is "born years apart" (a level added for such pairs stays outside).
_DATES_ALIKE = ("exact", "one_digit_off", "swapped_digits", "year_off", "partial")
#: Given names with anything in common: both present and none of these is "nothing in common"
#: (a sibling), whatever levels are added for such pairs.
_GIVEN_ALIKE = ("exact", "variant", "equal_to_other", "variant_of_other", "nearly_equal", "similar",
                "initial_or_weak")


def _present_none_of(features: pd.DataFrame, comparisons: Mapping[str, Comparison], column: str,
                     names: tuple[str, ...]) -> np.ndarray:
    """Both sides have ``column`` and its level is none of ``names``."""
    if column not in features.columns or column not in comparisons:
        return np.zeros(len(features), dtype=bool)
    return (features[column].to_numpy() >= 0) & ~level_in(features, comparisons, column, *names)


#: An M5 user created before the person was old enough for school: an older sibling's, a
#: graduate's record (``features.comparisons.RECORD_AGE``).
RECORD_TOO_OLD = ("before_school_age", "before_birth")


def record_too_old(features: pd.DataFrame, comparisons: Mapping[str, Comparison]) -> np.ndarray:
    """Pairs whose M5 user was created before the register person was old enough for school."""
    return level_in(features, comparisons, "record_age", *RECORD_TOO_OLD)


def identifiers_disagree(features: pd.DataFrame, comparisons: Mapping[str, Comparison]) -> np.ndarray:
    """Pairs whose birth dates are years apart, whose personnummer are two different numbers or
    whose M5 user is older than the person's schooling: what tells a namesake apart when both
    sides carry it."""
    return (_present_none_of(features, comparisons, "birth_date", _DATES_ALIKE)
            | level_in(features, comparisons, "personnummer", *TWO_NUMBERS)
            | record_too_old(features, comparisons))


#: A namesake's name: the same given name (or a nickname or spelling of it) and the same family
#: name or one spelt nearly alike (Petersson for Pettersson); a middle name in common is not one.
NAMESAKE: dict[str, tuple[str, ...]] = {
    "given_name": ("exact", "variant"),
    "family_name": ("exact", "same_sound", "one_typo", "part_in_common", "nearly_equal", "similar"),
}


def name_rivals(features: pd.DataFrame, comparisons: Mapping[str, Comparison], il: np.ndarray, ir: np.ndarray,
                ignore: np.ndarray | None = None, names: Mapping[str, tuple[str, ...]] = NAME_CLOSE) -> np.ndarray:
    """Per pair: how many *other* candidates of its two people have close names (``names``, by
    default ``NAME_CLOSE``), not counting the pairs in ``ignore`` (rejected ones: no rival)."""
    close = level_in(features, comparisons, "given_name", *names["given_name"]) & level_in(
        features, comparisons, "family_name", *names["family_name"])
    if ignore is not None:
        close &= ~np.asarray(ignore, dtype=bool)
    count = close.astype(np.int64)
    per_left = np.bincount(il, weights=count, minlength=int(il.max()) + 1 if len(il) else 0)
    per_right = np.bincount(ir, weights=count, minlength=int(ir.max()) + 1 if len(ir) else 0)
    return (per_left[il] + per_right[ir] - 2 * count).astype(np.int64)


def namesake_rivals(features: pd.DataFrame, comparisons: Mapping[str, Comparison], il: np.ndarray,
                    ir: np.ndarray, ignore: np.ndarray | None = None) -> np.ndarray:
    """Pairs with a *namesake rival* nobody else claims: another M5 user of the pair's register
    person with a namesake's name (``NAMESAKE``) whom no other register person has with both
    names equal (a graduate under a pupil's name, a stale Petersson beside the real Pettersson),
    or the same the other way round; not counting the pairs
    in ``ignore``, and only where the rival's org unit agrees at least as well as the pair's own (a
    missing unit tells nothing apart). Two Elsa Andersson at two schools are told apart by the
    school. Two Elsa Andersson at one school with two M5 users Elsa Andersson are not held: each
    rival is claimed by the other Elsa, and which is which is the one-to-one assignment's to say
    (held, each of them would cost a question)."""
    namesake = level_in(features, comparisons, "given_name", *NAMESAKE["given_name"]) & level_in(
        features, comparisons, "family_name", *NAMESAKE["family_name"])
    if ignore is not None:
        namesake &= ~np.asarray(ignore, dtype=bool)
    if "org_unit" not in comparisons or "org_unit" not in features.columns:
        rank = np.zeros(len(features))
    else:
        code = features["org_unit"].to_numpy(dtype=np.float64)
        rank = np.where(code < 0, np.nan, code)  # higher code = closer agreement
    own = np.where(np.isnan(rank), -np.inf, rank)  # a pair without a unit: any rival counts
    strength = np.where(np.isnan(rank), np.inf, rank)
    # a rival is claimed when someone else has it with both names equal (the other Elsa Andersson)
    twin_names = namesake & level_in(features, comparisons, "given_name", "exact") & level_in(
        features, comparisons, "family_name", "exact")
    count = twin_names.astype(np.float64)
    per_left = np.bincount(il, weights=count, minlength=int(il.max()) + 1 if len(il) else 0)
    per_right = np.bincount(ir, weights=count, minlength=int(ir.max()) + 1 if len(ir) else 0)
    unclaimed_user = namesake & (per_right[ir] - count == 0)  # nobody else has this M5 user's name
    unclaimed_person = namesake & (per_left[il] - count == 0)
    best = np.maximum(competitor_scores(np.where(unclaimed_user, strength, -np.inf), il, missing=-np.inf),
                      competitor_scores(np.where(unclaimed_person, strength, -np.inf), ir, missing=-np.inf))
    return best >= own


#: Comparisons of names (and of the unit, which ``namesake_rivals`` weighs on its own), and the
#: record's age, which can only tell people apart, never the same.
_NAME_COLUMNS = ("given_name", "family_name", "swapped_names", "org_unit", "record_age")


def beyond_names(features: pd.DataFrame, comparisons: Mapping[str, Comparison],
                 skip: tuple[str, ...] = ()) -> np.ndarray:
    """Pairs that agree on something besides names and the unit: an identifier
    (``IDENTIFIER_AGREEMENT``) or any other compared field at its strongest level (an address, a
    tax number: the extra fields a site compares); the columns in ``skip`` not counted."""
    out = np.zeros(len(features), dtype=bool)
    for column, comp in comparisons.items():
        if column in _NAME_COLUMNS or column in skip or column not in features.columns:
            continue
        names = IDENTIFIER_AGREEMENT.get(column, (comp.levels[1].name,))
        out |= level_in(features, comparisons, column, *names)
    return out


def units_outside(features: pd.DataFrame, comparisons: Mapping[str, Comparison], units: np.ndarray) -> frozenset[str]:
    """The M5 org units no register person is in: ``units`` holds, per candidate pair, the M5
    user's (folded) unit, and a unit is outside when not one of its candidate pairs agrees on the
    unit at any level short of "different" (levels by name: every level between the null level
    and the last, everything-else, level). Visitors, contractors: an M5 user there who carries a
    staff member's name is a namesake as often as not, and nothing but the names says otherwise."""
    comp = comparisons.get("org_unit")
    units = np.asarray(units, dtype=object)
    if comp is None or "org_unit" not in features.columns or not len(units):
        return frozenset()
    agree = level_in(features, comparisons, "org_unit", *(lv.name for lv in comp.levels[1:-1]))
    present = units != ""
    return frozenset(set(units[present].tolist()) - set(units[present & agree].tolist()))


def local_part_only(features: pd.DataFrame, comparisons: Mapping[str, Comparison]) -> np.ndarray:
    """Pairs whose one agreement beyond the names is an e-mail local part at another domain: a
    contractor's firstname.lastname is the names once more."""
    return level_in(features, comparisons, "email", "same_local_part") & ~beyond_names(
        features, comparisons, skip=("email",))


#: The number M5 keeps for staff (and that pupils have on neither side).
STAFF_KEY = "employee_number"


def _units_apart(features: pd.DataFrame, comparisons: Mapping[str, Comparison]) -> np.ndarray:
    """Both sides have an org unit and the units have nothing in common (the last level)."""
    comp = comparisons.get("org_unit")
    if comp is None:
        return np.zeros(len(features), dtype=bool)
    return level_in(features, comparisons, "org_unit", comp.levels[-1].name)


def staff_namesakes(features: pd.DataFrame, comparisons: Mapping[str, Comparison]) -> np.ndarray:
    """Names-only pairs in units apart whose register person has an employee number
    (``STAFF_KEY``) that the M5 user lacks: an M5 user who carries a staff member's names in
    another unit, without the number M5 keeps for staff. A namesake as often as a move, and
    nothing in the data tells which. Left to the classifier, the lesson of pupils who changed
    schools (names-only pairs at another school, confirmed by the operator at an answer's weight)
    carried over to them: on the sample world, 4 such staff namesakes (two Jan Eriksson, one in
    social services and one in facilities) crossed the auto threshold as answers came in
    (precision 0.9990 with no answers, 0.9978 after 250)."""
    if STAFF_KEY not in features.columns or STAFF_KEY not in comparisons:
        return np.zeros(len(features), dtype=bool)
    m5_lacks = features[STAFF_KEY].to_numpy() == MISSING_RIGHT
    return ~beyond_names(features, comparisons) & _units_apart(features, comparisons) & m5_lacks


def unsettled(features: pd.DataFrame, comparisons: Mapping[str, Comparison], il: np.ndarray, ir: np.ndarray,
              ignore: np.ndarray | None = None, outside: np.ndarray | None = None) -> np.ndarray:
    """Pairs that must be asked about, never auto-linked, however high a classifier puts them:
    pairs that agree on nothing but names (``beyond_names``) and whose identifiers do not
    disagree, with a namesake rival
    (``namesake_rivals``: a graduate under a sibling's name at the same school, a Petersson
    beside a Pettersson) that nothing but the names tells apart. A linear classifier learns them
    from few examples and a rare name can outvote the rival; the data cannot settle them.
    ``ignore``: pairs that are no rivals (rejected by the operator). ``outside``: pairs whose M5
    user is in a unit no register person is in (``units_outside``); a names-only pair there is
    held too, rival or not: on the Swedish worlds, a visitor or contractor with a staff member's
    exact name was auto-linked to that staff member (precision 0.9975 at 150 answers); so is a
    pair there whose only agreement beyond the names is an e-mail local part at another domain
    (a contractor's firstname.lastname: on the sample world a pupil was auto-linked to a
    contractor of the same name). And ``staff_namesakes``: names-only pairs in units apart whose
    M5 user lacks the staff member's employee number.

    (Identifiers that disagree were held too, at first: on FEBRL4 that held 179 true pairs whose
    birth date was mistyped by years, and cost 0.02 of F1 at 50 to 200 answers.)"""
    names_only = ~beyond_names(features, comparisons)
    disagree = identifiers_disagree(features, comparisons)
    namesake = level_in(features, comparisons, "given_name", *NAMESAKE["given_name"])
    skip = disagree if ignore is None else disagree | np.asarray(ignore, dtype=bool)
    rivals = namesake_rivals(features, comparisons, il, ir, ignore=skip)
    held = names_only & namesake & ~disagree & rivals
    if outside is not None:
        held |= (names_only | local_part_only(features, comparisons)) & np.asarray(outside, dtype=bool)
    held |= names_only & record_too_old(features, comparisons)
    return held | staff_namesakes(features, comparisons)


def weak_labels(features: pd.DataFrame, posterior: np.ndarray, comparisons: Mapping[str, Comparison], *,
                high: float = 0.99, low: float = 0.01, alone: np.ndarray | None = None) -> np.ndarray:
    """1 (link), 0 (non-link) or -1 (no idea) per candidate pair.

    ``posterior`` is the starting model's one-to-one posterior (the smaller of row and column);
    ``comparisons`` (name -> comparison) say which level code carries which name: every rule
    asks for levels by name, so a comparison may gain levels without moving a rule.
    ``alone`` (no name rivals: ``name_rivals(...) == 0``) enables the names-only rule.
    """
    def has(column: str, *names: str) -> np.ndarray:
        return level_in(features, comparisons, column, *names)

    given_close = has("given_name", *NAME_CLOSE["given_name"])
    family_close = has("family_name", *NAME_CLOSE["family_name"])
    name_ok = given_close | family_close
    name_close = given_close & family_close
    two_numbers = has("personnummer", *TWO_NUMBERS)
    same_number = has("personnummer", "exact")
    other_id = has("employee_number", "exact") | has("email", "exact")
    strong_yes = name_ok & (same_number | other_id & name_close & ~two_numbers)
    strong_no = two_numbers
    evidence = np.zeros(len(features), dtype=bool)
    for column, names in MORE_THAN_NAMES.items():
        evidence |= has(column, *names)
    y = np.full(len(features), UNLABELLED, dtype=np.int8)
    post = np.asarray(posterior, dtype=np.float64)
    # a high posterior with a unit in common is a link only if the given names agree: a pupil who
    # is not in M5 has no rival to the record of a brother at the same school
    y[(post >= high) & evidence & given_close] = 1
    y[post <= low] = 0
    identifiers = np.zeros(len(features), dtype=bool)
    for column, names in IDENTIFIER_AGREEMENT.items():
        identifiers |= has(column, *names)
    # a brother or sister at the same school: the family name agrees, the given names share nothing
    sibling = _present_none_of(features, comparisons, "given_name", _GIVEN_ALIKE) & family_close
    doubtful = post < 0.5  # the start is not convinced by anything else either
    y[sibling & ~identifiers & doubtful & (y == UNLABELLED)] = 0
    if alone is not None:
        names_alone = np.asarray(alone, dtype=bool).copy()
        for column, names in ALONE_NAMES.items():
            names_alone &= has(column, *names)
        for column, names in IDENTIFIER_AGREEMENT.items():  # nothing on both sides but names
            names_alone &= ~_present_none_of(features, comparisons, column, names)
        y[names_alone & (y == UNLABELLED)] = 1
    y[(strong_no | record_too_old(features, comparisons)) & ~strong_yes] = 0
    y[strong_yes] = 1
    return y
