"""M5 users as people: read over real HTTP from the simulator (``m5sim`` fixture)."""

from __future__ import annotations

from passerlink.config import M5Config
from passerlink.features import luhn_ok
from passerlink.sources import profile, read_m5


def pnr(date8: str, serial: str) -> str:
    return next(date8 + serial + c for c in "0123456789" if luhn_ok(date8[2:] + serial + c))


def test_m5_users_become_canonical_rows(m5sim) -> None:
    good = pnr("19800101", "123")
    with m5sim.client() as client:
        dep = client.create_department("Ekonomiavdelningen")
        anna = client.create_user({
            "firstname": " Anna  Maria ", "lastname": "Öberg", "email": "Anna.Oberg@Kommun.se",
            "employmentnumber": 12, "fkdepartment": dep["id"],
            "customfield1": f"{good[2:8]}-{good[8:]}", "customfield2": "",
        })
        bo = client.create_user({"firstname": "Bo", "lastname": "Ek", "customfield1": "800101-9999",
                                 "customfield2": "1975-02-30"})
        table = read_m5(client, M5Config(url=m5sim.url).columns)
    people = table.people.set_index("source_id")
    a, b = str(anna["id"]), str(bo["id"])
    assert set(people.index) == {a, b}
    assert people.loc[a, "source"] == "m5"
    assert people.loc[a, "given_names"] == "Anna Maria"
    assert people.loc[a, "family_name"] == "Öberg"
    assert people.loc[a, "email"] == "anna.oberg@kommun.se"
    assert people.loc[a, "employee_number"] == "12"
    assert people.loc[a, "org_unit"] == "Ekonomiavdelningen"  # the expanded department's name
    assert people.loc[a, "personnummer"] == good
    assert people.loc[a, "birth_date"] == "1980-01-01"  # from the personnummer
    assert (people.loc[b, "personnummer"], people.loc[b, "birth_date"]) == ("", "")
    assert sorted(i.problem.split(" '")[0].split(" (")[0] for i in table.issues) == [
        "impossible date", "invalid personnummer"]
    assert all(f"(M5 user {b})" in i.problem for i in table.issues)
    assert "rastamp" in table.extra.columns and "cards" not in table.extra.columns
    assert profile(table)["id_from"] == "M5 user id"


def test_department_given_as_a_plain_name() -> None:
    class Users:  # read_m5 accepts any object with list_users(); M5 builds may not expand
        def list_users(self) -> list[dict]:
            return [{"id": 7, "firstname": "Cia", "lastname": "Al", "department": "Skola Norr"}]

    table = read_m5(Users(), {"firstname": "given_names", "lastname": "family_name",
                              "department": "org_unit"})
    assert table.people[["source_id", "org_unit"]].values.tolist() == [["7", "Skola Norr"]]


def test_the_day_an_m5_user_was_created_is_read_whatever_the_columns_say(m5sim) -> None:
    """``createddate`` is M5's own stamp (read-only): read as ``created`` even with a site's own
    ``[m5.columns]``, the time of day dropped."""
    import re

    with m5sim.client() as client:
        user = client.create_user({"firstname": "Ronja", "lastname": "Alfors"})
        table = read_m5(client, {"firstname": "given_names", "lastname": "family_name"})
    created = table.people.set_index("source_id").loc[str(user["id"]), "created"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", created), created
    assert str(user["createddate"]).startswith(created)


def test_a_creation_stamp_that_is_no_date_is_a_row_issue_naming_the_user() -> None:
    class Users:
        def list_users(self):
            return [{"id": 7, "firstname": "Bo", "lastname": "Ek", "createddate": "igår"},
                    {"id": 8, "firstname": "Al", "lastname": "Ek", "createddate": "2014-08-11T09:12:13.533"}]

    table = read_m5(Users(), {"firstname": "given_names", "lastname": "family_name"})
    assert table.people["created"].tolist() == ["", "2014-08-11"]
    assert [(i.column, i.problem) for i in table.issues] == [
        ("createddate", "unrecognised date 'igår'; left empty (M5 user 7)")]
