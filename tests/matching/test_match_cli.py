"""``passerlink match``: the contract scripts rely on."""

import pandas as pd
import pytest
from _matchworld import registers

from passerlink.cli import main

SWEDISH = {"source_id": "Anställningsnummer", "given_names": "Förnamn", "call_name": "Tilltalsnamn",
           "family_name": "Efternamn", "personnummer": "Personnummer", "email": "E-post", "org_unit": "Enhet"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("match")
    hr, m5, truth = registers(120, seed=8)
    hr_file = folder / "hr.csv"
    hr.drop(columns=["source", "employee_number", "birth_date"]).rename(columns=SWEDISH).to_csv(
        hr_file, sep=";", index=False, encoding="cp1252")
    m5_file = folder / "m5.csv"
    m5.drop(columns=["source", "call_name"]).rename(
        columns={"source_id": "id", "given_names": "firstname", "family_name": "lastname", "birth_date": "birthdate",
                 "personnummer": "customfield1", "org_unit": "department", "employee_number": "employmentnumber"}
    ).to_csv(m5_file, index=False)
    truth_file = folder / "truth.csv"
    truth.to_csv(truth_file, index=False)
    return folder, hr_file, m5_file, truth_file, truth


def _run(files, *extra, out="links.csv"):
    folder, hr_file, m5_file, _, _ = files
    target = folder / out
    code = main(["match", str(hr_file), str(m5_file), "--left-id", "Anställningsnummer", "--right-id", "id",
                 "--map", "right:customfield1=personnummer", "--map", "right:department=org_unit",
                 "--out", str(target), *extra])
    return code, target


def test_without_oracle_no_questions(files, capsys):
    code, target = _run(files)
    assert code == 0
    printed = capsys.readouterr().out
    assert "candidates: " in printed and "questions asked: 0" in printed
    assert "links: " in printed and "seconds: " in printed
    links = pd.read_csv(target, dtype=str)
    assert list(links.columns) == ["left_id", "right_id", "probability", "status"]
    assert links["left_id"].is_unique and links["right_id"].is_unique
    assert set(links["status"]) == {"auto"}


def test_with_oracle_at_most_budget_questions(files, capsys):
    truth = files[4]
    code, target = _run(files, "--oracle", str(files[3]), "--budget", "15", "--seed", "3", out="links2.csv")
    assert code == 0
    printed = capsys.readouterr().out
    asked = int(printed.split("questions asked: ")[1].split()[0])
    assert asked <= 15
    links = pd.read_csv(target, dtype=str)
    assert set(links["status"]) <= {"auto", "confirmed"}
    assert links["left_id"].is_unique and links["right_id"].is_unique
    found = set(zip(links["left_id"], links["right_id"], strict=True))
    true = set(zip(truth["left_id"], truth["right_id"], strict=True))
    confirmed = links[links["status"] == "confirmed"]
    assert set(zip(confirmed["left_id"], confirmed["right_id"], strict=True)) <= true
    assert len(found & true) / len(found) >= 0.99
    assert len(found & true) / len(true) >= 0.9


@pytest.mark.parametrize("args,message", [
    (["--budget", "5"], "--oracle and --budget go together"),
    (["--oracle", "missing.csv", "--budget", "5"], "not found"),
    (["--map", "middle:x=given_names"], "left:COL=FIELD"),
    (["--map", "left:Förnamn=shoe_size"], "shoe_size"),
])
def test_bad_input_exits_2_with_one_sentence_and_writes_nothing(files, capsys, args, message):
    folder = files[0]
    args = [str(folder / a) if a == "missing.csv" else a for a in args]
    code, target = _run(files, *args, out="never.csv")
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not target.exists()


def test_oracle_without_the_right_columns(files, capsys):
    folder = files[0]
    bad = folder / "bad_truth.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    code, target = _run(files, "--oracle", str(bad), "--budget", "3", out="never2.csv")
    assert code == 2
    assert "left_id" in capsys.readouterr().err
    assert not target.exists()


def test_unknown_id_column(files, capsys):
    folder, hr_file, m5_file, _, _ = files
    code = main(["match", str(hr_file), str(m5_file), "--left-id", "nope", "--right-id", "id",
                 "--out", str(folder / "never3.csv")])
    assert code == 2
    assert "nope" in capsys.readouterr().err
