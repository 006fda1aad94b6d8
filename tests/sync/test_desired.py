"""Desired state: field mapping, one user per person, protected identity, dates, access rules."""

from __future__ import annotations

import pandas as pd
import pytest

from passerlink.people import CANONICAL_COLUMNS, PeopleTable
from passerlink.policy import AccessRule
from passerlink.sync import SyncPolicy, build_desired
from passerlink.sync.desired import parse_register_date


def table(source: str, rows: list[dict], extra: list[dict] | None = None) -> PeopleTable:
    people = pd.DataFrame([{c: str(r.get(c, "")) for c in CANONICAL_COLUMNS} | {"source": source} for r in rows],
                          columns=CANONICAL_COLUMNS)
    return PeopleTable(source, people, pd.DataFrame(extra if extra is not None else [{} for _ in rows]))


def links(*rows):
    return pd.DataFrame(rows, columns=["source", "source_id", "m5_id"])


def test_fields_from_the_register():
    hr = table("hr", [
        dict(source_id="1", given_names="Anna Maria", call_name="Maria", family_name="Berg",
             email="maria.berg@x.se", employee_number="A-00123", org_unit="Ekonomi"),
        dict(source_id="2", given_names="Lars Erik", family_name="Ek"),
    ], [{"Anställningsdatum": "2020-01-15", "Slutdatum": "31.12.2027"}, {"Anställningsdatum": "", "Slutdatum": ""}])
    d = build_desired({"hr": hr}, None, SyncPolicy(departments={"Ekonomi": "Ekonomiavdelningen"}))
    u1, u2 = d.users
    assert dict(u1.fields) == {
        "firstname": "Maria", "lastname": "Berg", "email": "maria.berg@x.se", "employmentnumber": "123",
        "department": "Ekonomiavdelningen", "usergroup": "Personal", "startdate": "2020-01-15",
        "enddate": "2027-12-31",
    }
    assert u2.fields["firstname"] == "Lars"  # no call name: the first given name
    assert u2.fields["employmentnumber"] == "" and u2.fields["department"] == ""
    assert d.source_counts == {"hr": 2}


def test_unreadable_date_is_an_issue_and_the_field_is_left_alone():
    hr = table("hr", [dict(source_id="1", given_names="A", family_name="B")],
               [{"Anställningsdatum": "snart", "Slutdatum": ""}])
    d = build_desired({"hr": hr}, None, SyncPolicy())
    assert "startdate" not in d.users[0].fields and d.users[0].fields["enddate"] == ""
    assert [(i.key, i.column) for i in d.issues] == [(("hr", "1"), "Anställningsdatum")]


@pytest.mark.parametrize(("text", "iso"), [("2024-03-01", "2024-03-01"), ("2024-03-01 00:00:00", "2024-03-01"),
                                           ("20240301", "2024-03-01"), ("01.03.2024", "2024-03-01"), ("", "")])
def test_register_dates(text, iso):
    assert parse_register_date(text) == iso


def test_protected_identity_gets_only_what_the_access_system_needs():
    st = table("students", [
        dict(source_id="u1", given_names="Kim", family_name="Ek", email="kim@edu.x.se", org_unit="Lindblomskolan",
             personnummer="201001011234"),
        dict(source_id="u2", given_names="Bo", family_name="Al", email="bo@edu.x.se", org_unit="Lindblomskolan"),
    ], [{"Skyddad": "Skyddad folkbokföring"}, {"Skyddad": ""}])
    policy = SyncPolicy(fields={"firstname": "first_name", "lastname": "family_name", "email": "email",
                                "customfield1": "personnummer"})
    d = build_desired({"students": st}, None, policy)
    prot, plain = d.users
    assert prot.protected and not plain.protected
    assert prot.fields["email"] == "" and prot.fields["customfield1"] == "" and prot.fields["department"] == ""
    assert prot.fields["firstname"] == "Kim" and prot.fields["usergroup"] == "Elev"
    assert "Kim" not in prot.label and "Skyddad identitet" in prot.label
    assert plain.fields["email"] == "bo@edu.x.se" and plain.fields["department"] == "Lindblomskolan"


def test_any_unknown_marking_protects():
    st = table("students", [dict(source_id="u1", given_names="Kim", family_name="Ek", email="k@x.se")],
               [{"protected": "1"}])
    assert build_desired({"students": st}, None, SyncPolicy()).users[0].protected
    st = table("students", [dict(source_id="u1", given_names="Kim", family_name="Ek")], [{"protected": "0"}])
    assert not build_desired({"students": st}, None, SyncPolicy()).users[0].protected


def test_person_in_both_registers_is_one_user_and_the_winner_decides():
    pnr = "198001011234"
    hr = table("hr", [dict(source_id="7", given_names="Eva", family_name="Ström", personnummer=pnr,
                           org_unit="Skolan")])
    st = table("students", [dict(source_id="s9", given_names="Eva", family_name="Strom", personnummer=pnr)])
    d = build_desired({"hr": hr, "students": st}, None, SyncPolicy(), source_order=["hr", "students"])
    assert len(d.users) == 1
    assert d.users[0].key == ("hr", "7") and set(d.users[0].keys) == {("hr", "7"), ("students", "s9")}
    assert d.users[0].fields["lastname"] == "Ström" and d.users[0].fields["usergroup"] == "Personal"
    d = build_desired({"hr": hr, "students": st}, None, SyncPolicy(winner=["students"]),
                      source_order=["hr", "students"])
    assert d.users[0].key == ("students", "s9") and d.users[0].fields["lastname"] == "Strom"


def test_linked_to_the_same_m5_user_is_one_person_linked_to_two_is_two():
    hr = table("hr", [dict(source_id="7", given_names="Eva", family_name="Ström", personnummer="198001011234")])
    st = table("students", [dict(source_id="s9", given_names="Eva", family_name="Ström")])
    d = build_desired({"hr": hr, "students": st}, links(("hr", "7", "5"), ("students", "s9", "5")), SyncPolicy())
    assert len(d.users) == 1
    st2 = table("students", [dict(source_id="s9", given_names="Eva", family_name="Ström",
                                  personnummer="198001011234")])
    d = build_desired({"hr": hr, "students": st2}, links(("hr", "7", "5"), ("students", "s9", "6")), SyncPolicy())
    assert len(d.users) == 2


def test_access_rules_by_source_role_and_unit():
    hr = table("hr", [dict(source_id="1", given_names="A", family_name="B", org_unit="Albäcksskolan"),
                      dict(source_id="2", given_names="C", family_name="D", org_unit="Kommunhuset")],
               [{"Befattning": "Lärare"}, {"Befattning": "Ekonom"}])
    policy = SyncPolicy(access_rules=[
        AccessRule(accessgroup="Skola personal", source="hr", org_unit=".*skolan"),
        AccessRule(accessgroup="Kommunhuset", role="ekonom|controller"),
        AccessRule(accessgroup="Elever", source="students"),
    ])
    d = build_desired({"hr": hr}, None, policy)
    assert d.users[0].accessgroups == {"Skola personal"}
    assert d.users[1].accessgroups == {"Kommunhuset"}
    assert d.managed_accessgroups == {"Skola personal", "Kommunhuset", "Elever"}
