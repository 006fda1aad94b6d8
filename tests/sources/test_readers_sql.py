"""SQL sources through SQLAlchemy, against a real SQLite database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from passerlink.config import SourceConfig, parse_source
from passerlink.errors import ConfigError, SourceError
from passerlink.sources import read_source


@pytest.fixture()
def hr_db(tmp_path: Path) -> Path:
    path = tmp_path / "hr.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE anstallda (anstnr TEXT, fornamn TEXT, efternamn TEXT, fodd DATE,
                                enhet TEXT, lon INTEGER, aktiv INTEGER);
        INSERT INTO anstallda VALUES ('0012', 'Åsa Maria', 'Öberg', '1980-01-31', 'IT', 30000, 1);
        INSERT INTO anstallda VALUES ('0013', 'Bo', 'Ek', NULL, 'Skola', 28000, 0);
        CREATE VIEW aktiva AS SELECT * FROM anstallda WHERE aktiv = 1;
        """
    )
    con.commit()
    con.close()
    return path


def spec(**kw: object) -> SourceConfig:
    return parse_source({"name": "hr", "kind": "sql", **kw})


def test_select_statement(hr_db: Path) -> None:
    table = read_source(spec(url=f"sqlite:///{hr_db}",
                             query="SELECT anstnr, fornamn, efternamn, fodd, enhet, lon FROM anstallda"))
    assert table.people["source_id"].tolist() == ["0012", "0013"]
    assert table.people["given_names"].tolist() == ["Åsa Maria", "Bo"]
    assert table.people["birth_date"].tolist() == ["1980-01-31", ""]
    assert table.extra["lon"].tolist() == ["30000", "28000"]  # numbers arrive as text


def test_view_name_from_env_url(hr_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HR_DB_URL", f"sqlite:///{hr_db}")
    table = read_source(spec(url_env="HR_DB_URL", query="aktiva", columns={"enhet": "org_unit"}))
    assert table.people["source_id"].tolist() == ["0012"]
    assert table.origin.endswith("(table 'aktiva')")


def test_missing_env_var_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable PASSERLINK_TEST_UNSET_URL"):
        read_source(spec(url_env="PASSERLINK_TEST_UNSET_URL", query="x"),
                    config_path=tmp_path / "c.toml")


def test_errors_are_one_sentence_without_password(hr_db: Path) -> None:
    with pytest.raises(SourceError, match=r"query on sqlite:///.* failed \(no such table: nope\)"):
        read_source(spec(url=f"sqlite:///{hr_db}", query="SELECT * FROM nope"))
    with pytest.raises(SourceError, match="neither a SELECT nor a table/view name"):
        read_source(spec(url=f"sqlite:///{hr_db}", query="anstallda; DROP TABLE anstallda"))
    with pytest.raises(SourceError, match="no database driver for 'nosuchdb'"):
        read_source(spec(url="nosuchdb://user:s3cret@host/db", query="t"))
    with pytest.raises(SourceError, match="returned no rows") as info:
        read_source(spec(url=f"sqlite:///{hr_db}", query="SELECT * FROM anstallda WHERE 0"))
    assert "s3cret" not in str(info.value)


def test_password_is_hidden_in_messages(hr_db: Path) -> None:
    url = "postgresql+psycopg2://reader:s3cret@127.0.0.1:1/hr"
    with pytest.raises(SourceError) as info:
        read_source(spec(url=url, query="people"))
    assert "s3cret" not in str(info.value)


def test_control_character_in_a_database_value_stops_the_source(hr_db: Path) -> None:
    con = sqlite3.connect(hr_db)
    con.execute("INSERT INTO anstallda VALUES ('0014', 'Cia', 'Ny' || char(27) || '[31mberg', NULL, 'IT', 1, 1)")
    con.commit()
    con.close()
    with pytest.raises(SourceError, match=r"row 3, column 'efternamn', holds the control character U\+001B \(ESC\)"):
        read_source(spec(url=f"sqlite:///{hr_db}", query="anstallda"))
