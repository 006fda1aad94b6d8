"""New in a register: every unlinked M5 user who may be the person sends them to the queue.

The judge is the full model (every register against every M5 user); a hand-typed M5 user that
shares no blocking key with the person still counts; rejected pairs never come back; nothing
falls back to a rule silently.
"""

from __future__ import annotations

import pandas as pd
import pytest

from passerlink.config import load_config
from passerlink.errors import PasserlinkError
from passerlink.matching import link_new_people, match_registers
from passerlink.people import CANONICAL_COLUMNS
from passerlink.sampleworld import generate_world
from passerlink.sources import read_source
from passerlink.sync import likely_matches


def frame(rows):
    return pd.DataFrame([{c: r.get(c, "") for c in CANONICAL_COLUMNS} for r in rows], columns=CANONICAL_COLUMNS)


NEW = frame([
    dict(source="hr", source_id="7", given_names="Anna Maria", family_name="Öberg", birth_date="1980-01-01"),
    dict(source="hr", source_id="8", given_names="Bo", family_name="Ek", personnummer="198001011234"),
    dict(source="students", source_id="s1", given_names="Kim", family_name="Lund", birth_date="2012-05-05"),
])
M5 = frame([
    dict(source="m5", source_id="41", given_names="Anna", family_name="Oberg", birth_date="1980-01-01"),
    dict(source="m5", source_id="42", given_names="Robert", family_name="Ek", personnummer="198001011234"),
    dict(source="m5", source_id="43", given_names="Kim", family_name="Lund", birth_date="2011-05-05"),
])


def test_the_strict_rule_only_when_the_policy_asks_for_it():
    found = likely_matches(NEW, M5, use_model=False)
    assert found == {("hr", "7"): ("41", 0.9), ("hr", "8"): ("42", 0.99)}
    assert likely_matches(NEW, M5, use_model=False, rejected={("hr", "8", "42")}) == {("hr", "7"): ("41", 0.9)}
    assert likely_matches(NEW, M5.iloc[:0]) == {}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small municipality read the way the sync reads it: registers and M5 as canonical people."""
    folder = tmp_path_factory.mktemp("newpeople")
    w = generate_world(seed=11, staff=120, pupils=150, former_staff=4)
    w.write(folder)
    (folder / "site.toml").write_text(
        '[[sources]]\nname = "hr"\nkind = "csv"\npath = "hr_export.csv"\nid_column = "Anställningsnummer"\n'
        '[[sources]]\nname = "students"\nkind = "csv"\npath = "students.csv"\nid_column = "Elev-ID"\n',
        encoding="utf-8")
    cfg = load_config(folder / "site.toml")
    registers = {s.name: read_source(s, config_path=cfg.config_path).people for s in cfg.sources}
    return registers, w.m5_people(), w.truth.astype(str)


def _hand_typed(world):
    """A true pair whose M5 user is made a bare hand-typed record: the person's second given name,
    a new family name, nothing else but the org unit (the hardest kind on the sample world)."""
    registers, m5, truth = world
    hr = registers["hr"]
    two_names = hr[hr["given_names"].str.contains(" ")]
    pair = truth[(truth["source"] == "hr") & truth["source_id"].isin(two_names["source_id"])].iloc[0]
    person = hr[hr["source_id"] == pair["source_id"]].iloc[0]
    m5 = m5.copy()
    i = m5.index[m5["source_id"] == pair["m5_id"]][0]
    for col in CANONICAL_COLUMNS:
        if col not in ("source", "source_id", "org_unit"):
            m5.loc[i, col] = ""
    m5.loc[i, "given_names"] = person["given_names"].split()[1]
    m5.loc[i, "family_name"] = "Zetterqvist"
    return person, pair["m5_id"], m5


def test_a_hand_typed_m5_user_without_a_blocking_key_still_sends_the_person_to_the_queue(world):
    registers, _, truth = world
    person, m5_id, m5 = _hand_typed(world)
    key = ("hr", person["source_id"])
    new = registers["hr"][registers["hr"]["source_id"] == key[1]].assign(source="hr")
    linked = set(truth["m5_id"]) - {m5_id}
    free = m5[~m5["source_id"].isin(linked)]
    # the blocked candidates of the go-live session never pair them ...
    joint = match_registers(registers, m5)
    blocked = link_new_people(new, free, joint.session, min_probability=0.0)
    assert m5_id not in set(blocked["right_id"])
    # ... the sync's check scores every unlinked M5 user, so the person is queued, not created
    found = likely_matches(new, free, registers=registers, m5=m5)
    assert found[key][0] == m5_id
    # an operator's "no" for that pair is final: it never comes back
    again = likely_matches(new, free, registers=registers, m5=m5, rejected={("hr", key[1], m5_id)})
    assert again.get(key, ("", 0.0))[0] != m5_id


def test_a_person_every_unlinked_m5_user_contradicts_is_created(world):
    registers, m5, truth = world
    new = frame([dict(source="hr", source_id="x1", given_names="Zbigniew", family_name="Qvarnström-Öhrn",
                      birth_date="1951-02-28", personnummer="195102289876", org_unit="Nytt kontor")])
    strangers = frame([
        dict(source="m5", source_id="s1", given_names="Fredrik", family_name="Nyberg", birth_date="1988-07-01",
             personnummer="198807011235", org_unit="Besökare"),
        dict(source="m5", source_id="s2", given_names="Astrid", family_name="Holm", birth_date="2010-10-10",
             email="astrid.holm@example.se", org_unit="Vena skola"),
    ])
    everyone = pd.concat([m5, strangers], ignore_index=True)
    assert likely_matches(new, strangers, registers=registers, m5=everyone) == {}
    # the same person typed in by hand (half the family name, no number) is a "may be": queued, not created
    typed = frame([dict(source="m5", source_id="s3", given_names="Zbigniew", family_name="Qvarnström",
                        org_unit="Nytt kontor")])
    free = pd.concat([strangers, typed], ignore_index=True)
    found = likely_matches(new, free, registers=registers, m5=pd.concat([everyone, typed], ignore_index=True))
    assert found[("hr", "x1")][0] == "s3"


def test_no_silent_fallback_when_the_model_cannot_run(world):
    _, m5, _ = world
    with pytest.raises(PasserlinkError):
        likely_matches(NEW, m5, registers={}, m5=m5)


def test_an_auto_link_that_would_take_over_a_hand_made_record_of_another_group_is_held():
    from passerlink.policy import SyncPolicy
    from passerlink.sync.current import CurrentState, CurrentUser
    from passerlink.sync.newpeople import hold_model_takeovers

    def user(uid, group, marker=""):
        return CurrentUser(uid, "", {"usergroup": group, "apireference": marker})

    current = CurrentState({"1": user("1", "Vikarie"), "2": user("2", "Personal"),
                            "3": user("3", "Vikarie", "passerlink:hr:3"), "4": user("4", "Entreprenör")})
    links = pd.DataFrame({"source": ["hr"] * 4 + ["students"], "source_id": ["1", "2", "3", "4", "5"],
                          "m5_id": ["1", "2", "3", "4", "1"],
                          "decision": ["auto", "auto", "auto", "confirmed", "manual"]})
    kept, held = hold_model_takeovers(links, current, SyncPolicy(), ["Personal", "Elev"])
    assert held[["source_id", "m5_id"]].values.tolist() == [["1", "1"]]  # the model's word on a substitute
    assert kept["source_id"].tolist() == ["2", "3", "4", "5"]  # a managed group, our marker, an operator's link
