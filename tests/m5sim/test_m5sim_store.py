"""The simulator's SQLite store on its own: filters, rastamps, validation, seed loading."""

from __future__ import annotations

import threading

import pytest

from passerlink.m5sim import USER_WRITABLE, SimError, Store, parse_filter
from passerlink.m5sim.models import UserCreate, UserOut


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "m5.sqlite")
    yield s
    s.close()


def test_parse_filter_quoted_bare_and_escaped():
    assert parse_filter("firstname:'anna'¤lastname:'berg'") == [("firstname", "anna"), ("lastname", "berg")]
    assert parse_filter("lastname:'O''Brien'¤fkdepartment:3") == [("lastname", "O'Brien"), ("fkdepartment", "3")]
    assert parse_filter("apireference:'passerlink:hr:1'") == [("apireference", "passerlink:hr:1")]
    for bad in ("firstname", "firstname:'anna", "firstname:'a'b", ":'x'"):
        with pytest.raises(SimError) as exc:
            parse_filter(bad)
        assert exc.value.status == 400


def test_filter_is_case_insensitive_also_for_swedish_letters(store):
    a = store.create_user({"firstname": "Åsa", "lastname": "Öberg", "apireference": "passerlink:hr:7"}, "demo")
    store.create_user({"firstname": "Asa", "lastname": "Oberg"}, "demo")
    users, total = store.list_users([("firstname", "åSA"), ("lastname", "ÖBERG")], count=True)
    assert [u["id"] for u in users] == [a["id"]] and total == 1
    users, _ = store.list_users([("apireference", "PASSERLINK:HR:7")])
    assert [u["id"] for u in users] == [a["id"]]
    with pytest.raises(SimError, match="not a user field"):
        store.list_users([("shoesize", "42")])


def test_every_write_changes_the_rastamp_and_stale_ones_conflict(store):
    u = store.create_user({"firstname": "Anna", "lastname": "Berg"}, "integration")
    compact = u["createddate"][:19].replace("-", "").replace("T", "").replace(":", "")
    assert u["rastamp"] == f"/{compact}/integration/{compact}/integration"  # compact, as the real API writes it
    stamps = {u["rastamp"]}
    for i in range(20):  # quicker than the clock: rastamps must still differ
        u = store.update_user(u["id"], {"email": f"a{i}@x.se"}, u["rastamp"], "integration")
        stamps.add(u["rastamp"])
    assert len(stamps) == 21
    first = u["rastamp"]
    store.update_user(u["id"], {"city": "Hultsfred"}, first, "manual")
    with pytest.raises(SimError) as exc:
        store.update_user(u["id"], {"city": "Vimmerby"}, first, "integration")
    assert exc.value.status == 409
    with pytest.raises(SimError) as exc:
        store.update_user(u["id"], {"city": "Vimmerby"}, None, "integration")
    assert exc.value.status == 409
    now = store.get_user(u["id"])
    assert now["city"] == "Hultsfred" and now["changedby"] == "manual" and now["createdby"] == "integration"


def test_validation_names_the_field(store):
    cases = [
        ({"firstname": "A"}, "lastname"),
        ({"firstname": "A", "lastname": " "}, "lastname"),
        ({"firstname": "A", "lastname": "B", "createdby": "x"}, "read-only"),
        ({"firstname": "A", "lastname": "B", "shoesize": 1}, "shoesize"),
        ({"firstname": "A", "lastname": "B", "employmentnumber": -1}, "employmentnumber"),
        ({"firstname": "A", "lastname": "B", "employmentnumber": "12"}, "employmentnumber"),
        ({"firstname": "A", "lastname": "B", "fkdepartment": 99}, "department 99"),
        ({"firstname": "A", "lastname": "B", "startdate": "31/12/2024"}, "startdate"),
        ({"firstname": "A", "lastname": "B", "email": "x" * 300}, "email"),
    ]
    for fields, word in cases:
        with pytest.raises(SimError, match=word) as exc:
            store.create_user(fields, "demo")
        assert exc.value.status == 400
        assert set(exc.value.body()) == {"errorcode", "friendlymessage", "developermessage", "moreinfo", "reject"}
    assert store.list_users()[0] == []  # nothing half-written


def test_cards_memberships_and_delete_cascade(store):
    seed = {"accessgroups": [{"id": 5, "name": "Skolan"}]}
    store.load_seed(seed)
    u = store.create_user({"firstname": "A", "lastname": "B"}, "demo")
    c1 = store.create_card({"fkusernumber": u["id"], "name": "tag", "cardidentity": "123"}, "demo")
    c2 = store.create_card({"fkusernumber": u["id"], "name": "spare"}, "demo")
    store.add_membership(u["id"], 5)
    store.add_membership(u["id"], 5)  # idempotent
    got = store.get_user(u["id"])
    assert [c["id"] for c in got["cards"]] == [c1["id"], c2["id"]]
    assert [a["name"] for a in got["accessgroups"]] == ["Skolan"]
    with pytest.raises(SimError) as exc:
        store.block_cards([c1["id"], 999], "demo")
    assert exc.value.status == 404
    assert not store.get_card(c1["id"])["isblocked"]  # all or nothing
    store.block_cards([c1["id"], c2["id"]], "demo")
    assert all(c["isblocked"] for c in store.list_cards([("fkusernumber", str(u["id"]))])[0])
    store.remove_membership(u["id"], 5)
    with pytest.raises(SimError):
        store.remove_membership(u["id"], 5)
    store.delete_user(u["id"])
    assert store.list_cards()[0] == []
    with pytest.raises(SimError) as exc:
        store.delete_user(u["id"])
    assert exc.value.status == 404


def test_seed_keeps_ids_and_stamps_and_creates_named_departments(store):
    seed = {
        "departments": [{"id": 10, "departmentname": "Ekonomi"}, "Skola"],
        "usergroups": ["Personal"],
        "accessgroups": [{"id": 3, "name": "Huvudentré"}],
        "users": [
            {"id": 501, "firstname": "Eva", "lastname": "Ek", "department": "Ekonomi", "usergroup": "Personal",
             "createdby": "kerstin", "createddate": "2019-03-01T08:00:00", "changedby": "kerstin",
             "changeddate": "2020-01-01T09:00:00", "accessgroups": ["Huvudentré"]},
            {"id": 502, "firstname": "Vik", "lastname": "Arie", "department": "Vaktmästeri"},
            {"firstname": "Ny", "lastname": "Person", "fkdepartment": 10},
        ],
        "cards": [{"id": 77, "fkusernumber": 501, "name": "kort", "cardidentity": "0042"}],
    }
    counts = store.load_seed(seed)
    assert counts["users"] == 3 and counts["departments"] == 3 and counts["cards"] == 1
    eva = store.get_user(501)
    assert eva["createdby"] == "kerstin" and eva["changeddate"] == "2020-01-01T09:00:00"
    assert eva["rastamp"] == "/20200101090000/kerstin/20190301080000/kerstin"
    assert eva["department"]["departmentname"] == "Ekonomi" and eva["usergroup"]["groupname"] == "Personal"
    assert [c["id"] for c in eva["cards"]] == [77] and eva["accessgroups"][0]["id"] == 3
    assert store.get_user(502)["department"]["departmentname"] == "Vaktmästeri"
    assert store.list_users()[0][-1]["id"] == 503
    other = Store(store.path.with_name("other.sqlite"))
    with pytest.raises(ValueError, match=r"users\[0\]"):
        other.load_seed({"users": [{"firstname": "only"}]})
    assert other.is_empty()  # the seed is all or nothing
    other.close()


def test_models_match_the_store():
    """The OpenAPI models and the store agree on the writable fields and the answer's shape."""
    assert set(UserCreate.model_fields) == set(USER_WRITABLE)


def test_answers_validate_against_the_published_models(store):
    store.load_seed({"departments": ["IT"], "accessgroups": ["A"]})
    u = store.create_user({"firstname": "A", "lastname": "B", "fkdepartment": 1}, "demo")
    store.create_card({"fkusernumber": u["id"], "name": "x"}, "demo")
    store.add_membership(u["id"], 1)
    UserOut.model_validate(store.get_user(u["id"]))


def test_concurrent_writers_do_not_lose_rows(store):
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                store.create_user({"firstname": f"T{n}", "lastname": str(i)}, "demo")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    users, total = store.list_users(limit=1000, count=True)
    assert total == 200 and len({u["id"] for u in users}) == 200
