"""Both registers against M5 in one go; new people at night; evaluation."""

import pandas as pd
import pytest
from _matchworld import frame, pnr, registers

from passerlink.errors import InputError
from passerlink.matching import evaluate, link_new_people, match_registers


def _renamed(df, prefix_from, prefix_to):
    out = df.copy()
    out["source_id"] = out["source_id"].str.replace(prefix_from, prefix_to, n=1)
    return out


@pytest.fixture(scope="module")
def world():
    hr, m5a, truth_a = registers(150, seed=5)
    pupils, m5b, truth_b = registers(150, seed=6)
    pupils = _renamed(pupils, "h", "p")
    m5b = _renamed(m5b, "m", "q")
    truth_b = truth_b.assign(left_id=truth_b["left_id"].str.replace("h", "p", n=1),
                             right_id=truth_b["right_id"].str.replace("m", "q", n=1))
    kim = {"given_names": "Kim", "family_name": "Forsberg-Hedlund", "org_unit": "Vena skola"}
    hr = pd.concat([hr, frame([{"source_id": "hkim", **kim, "birth_date": "1979-03-03"}], "hr")], ignore_index=True)
    pupils = pd.concat([pupils, frame([{"source_id": "pkim", **kim, "birth_date": "2012-08-08"}], "pupils")],
                       ignore_index=True)
    m5 = pd.concat([m5a, m5b, frame([{"source_id": "mkim", **kim}], "m5")], ignore_index=True)
    truth = pd.concat([truth_a.assign(source="hr"), truth_b.assign(source="pupils")], ignore_index=True)
    return hr, pupils, m5, truth


@pytest.fixture(scope="module")
def joint(world):
    hr, pupils, m5, _ = world
    return match_registers({"hr": hr, "pupils": pupils}, m5, seed=1)


def test_one_m5_user_is_never_linked_to_two_register_people(joint):
    links = joint.links()
    assert list(links.columns) == ["source", "source_id", "m5_id", "probability", "status"]
    assert links["m5_id"].is_unique
    assert not links.duplicated(["source", "source_id"]).any()
    claims = links[links["m5_id"] == "mkim"]
    assert len(claims) <= 1


def test_cross_register_conflicts_are_reported(joint):
    conflicts = joint.conflicts()
    kim = conflicts[conflicts["m5_id"] == "mkim"]
    assert set(kim["source"]) == {"hr", "pupils"}
    assert kim["linked"].sum() <= 1


def test_quality_of_the_joint_match(joint, world):
    truth = world[3].rename(columns={"left_id": "source_id", "right_id": "m5_id"})
    result = evaluate(joint.links(), truth)
    assert result["precision"] >= 0.99 and result["recall"] >= 0.9
    per_register = joint.links_of("hr")
    assert list(per_register.columns) == ["left_id", "right_id", "probability", "status"]


def test_new_people_against_unlinked_m5_users(joint):
    number = pnr("19920214", "417")
    new = frame([{"source_id": "n1", "given_names": "Ebba Karin", "family_name": "Lindqvist",
                  "birth_date": "1992-02-14", "personnummer": number}], "hr")
    unlinked = frame([
        {"source_id": "u1", "given_names": "Ebba", "family_name": "Lindkvist", "personnummer": number},
        {"source_id": "u2", "given_names": "Ebbe", "family_name": "Lund", "birth_date": "1950-01-01"},
    ], "m5")
    found = link_new_people(new, unlinked, joint.session)
    assert list(found.columns) == ["left_id", "right_id", "probability", "band"]
    best = found.iloc[0]
    assert (best["left_id"], best["right_id"], best["band"]) == ("hr:n1", "u1", "auto")
    assert not ((found["right_id"] == "u2") & (found["band"] == "auto")).any()
    fresh = link_new_people(new, unlinked)  # no trained model: a fresh fit on these tables
    assert list(fresh.columns) == ["left_id", "right_id", "probability", "band"]
    assert link_new_people(new.iloc[:0], unlinked).empty


def test_register_names_may_not_contain_the_separator(world):
    hr, _, m5, _ = world
    with pytest.raises(InputError):
        match_registers({"h:r": hr}, m5)


def test_evaluate_counts():
    links = pd.DataFrame({"left_id": ["a", "b", "c"], "right_id": ["1", "2", "9"]})
    truth = pd.DataFrame({"left_id": ["a", "b", "d"], "right_id": ["1", "2", "4"]})
    result = evaluate(links, truth)
    assert (result["tp"], result["fp"], result["fn"]) == (2, 1, 1)
    assert result["precision"] == pytest.approx(2 / 3) and result["recall"] == pytest.approx(2 / 3)
    with pytest.raises(InputError):
        evaluate(links, pd.DataFrame({"x": []}))
