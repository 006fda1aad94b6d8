"""Names-only staff pairs in another unit, and contractors known by an e-mail local part: asked.

On the sample world, answers about pupils who changed schools (names-only pairs at another
school, confirmed) taught the classifier that equal names in another unit are a link; staff
namesakes (an M5 user with a staff member's names in another unit, without the employee number M5
keeps for staff) then crossed the auto threshold as answers came in. ``staff_namesakes`` finds
them; ``unsettled`` holds them, and a pair in an outside unit whose one agreement beyond the names
is an e-mail local part; ``LinkModel.held_caps`` shows both below 0.9, so a "no" is not doubted.
"""

import numpy as np
import pandas as pd

from passerlink.features import EMAIL, EMPLOYEE, FAMILY, GIVEN, ORG_UNIT, PERSONNUMMER
from passerlink.features.comparisons import MISSING_RIGHT
from passerlink.matching.model import LinkModel
from passerlink.matching.weaklabels import local_part_only, staff_namesakes, unsettled

COMPARISONS = {c.name: c for c in (GIVEN, FAMILY, PERSONNUMMER, EMAIL, EMPLOYEE, ORG_UNIT)}
NOTHING = {name: "missing" for name in COMPARISONS}
SAME_NAMES = {"given_name": "exact", "family_name": "exact"}


def features(*pairs: dict[str, str | int]) -> pd.DataFrame:
    """A features frame from pairs written by level name (or a level code, for a missing side)."""
    def code(name: str, level: str | int) -> int:
        return level if isinstance(level, int) else COMPARISONS[name].code(level)

    rows = [{name: code(name, {**NOTHING, **pair}[name]) for name in COMPARISONS} for pair in pairs]
    return pd.DataFrame(rows, columns=list(COMPARISONS)).astype(np.int8)


STAFF_ELSEWHERE = {**SAME_NAMES, "org_unit": "different", "employee_number": MISSING_RIGHT}


def test_a_staff_member_s_names_in_another_unit_without_the_employee_number_is_a_staff_namesake():
    f = features(STAFF_ELSEWHERE,
                 {**STAFF_ELSEWHERE, "org_unit": "exact"},  # same unit: the namesake rules' business
                 {**STAFF_ELSEWHERE, "employee_number": "missing"},  # a pupil: no number on either side
                 {**STAFF_ELSEWHERE, "email": "exact"})  # an identifier agrees
    assert staff_namesakes(f, COMPARISONS).tolist() == [True, False, False, False]
    held = unsettled(f, COMPARISONS, np.arange(4), np.arange(4))
    assert held.tolist() == [True, False, False, False]


def test_an_e_mail_local_part_in_an_outside_unit_is_the_names_once_more():
    contractor = {**SAME_NAMES, "org_unit": "different", "email": "same_local_part"}
    f = features(contractor, {**contractor, "personnummer": "exact"})
    assert local_part_only(f, COMPARISONS).tolist() == [True, False]
    il = ir = np.arange(2)
    assert unsettled(f, COMPARISONS, il, ir, outside=np.array([True, True])).tolist() == [True, False]
    assert not unsettled(f, COMPARISONS, il, ir, outside=np.array([False, False])).any()


def test_staff_namesakes_and_contractors_show_below_the_doubt_line_other_held_pairs_just_below_auto():
    model = LinkModel(list(COMPARISONS.values()))
    model.outside_units = frozenset({"entreprenorer"})
    contractor = {**SAME_NAMES, "org_unit": "different", "email": "same_local_part"}
    names_only_outside = {**SAME_NAMES, "org_unit": "different"}
    f = features(STAFF_ELSEWHERE, contractor, names_only_outside, {**SAME_NAMES, "org_unit": "exact"})
    units = np.array(["vena skola", "entreprenorer", "entreprenorer", "vena skola"], dtype=object)
    held = model.unsettled(f, np.arange(4), np.arange(4), right_units=units)
    assert held.tolist() == [True, True, True, False]
    caps = model.held_caps(f, held, units)
    assert caps.tolist() == [model.elsewhere_cap, model.elsewhere_cap, model.unsettled_cap, 1.0]
    assert model.elsewhere_cap < 0.9 < model.unsettled_cap
