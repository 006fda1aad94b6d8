"""passerlink.config: the TOML file, its validation messages, path resolution and secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from passerlink.config import Config, M5Config, load_config, parse_source, secret_from_env
from passerlink.errors import ConfigError, InputError

MINIMAL = '[[sources]]\nname = "hr"\nkind = "csv"\npath = "data/hr.csv"\n'


def cfg(tmp_path: Path, text: str, name: str = "passerlink.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(cfg(tmp_path, text))
    return str(info.value)


def test_minimal_config_resolves_paths_against_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    c = load_config(cfg(tmp_path, MINIMAL))
    assert isinstance(c, Config)
    assert c.config_path == (tmp_path / "passerlink.toml").resolve()
    assert c.sources[0].path == (tmp_path / "data" / "hr.csv").resolve()
    assert c.link_store.path == (tmp_path / "passerlink-links.sqlite").resolve()
    assert c.m5 is None
    assert c.source("hr").kind == "csv"


def test_full_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_TEST_DIR", str(tmp_path / "elsewhere"))
    c = load_config(cfg(tmp_path, MINIMAL + """
encoding = "cp1252"
separator = ";"
id_column = "Anställningsnummer"
columns = { "Tilltal" = "call_name" }

[[sources]]
name = "elever"
kind = "ss12000"
url = "https://ss12000.example/v2"
token_env = "SS12000_TOKEN"
ca_file = "$PL_TEST_DIR/ca.pem"

[[sources]]
name = "db"
kind = "sql"
url_env = "HR_DB_URL"
query = "SELECT 1"

[m5]
url = "https://m5.example/m5adminapi/api/"
ca_file = "certs/m5.pem"
retries = 2

[link_store]
path = "/var/lib/passerlink/links.sqlite"
"""))
    hr, elever, db = c.sources
    assert (hr.encoding, hr.separator, hr.id_column) == ("cp1252", ";", "Anställningsnummer")
    assert hr.columns == {"Tilltal": "call_name"}
    assert elever.ca_file == tmp_path / "elsewhere" / "ca.pem"  # env vars expanded
    assert db.url_env == "HR_DB_URL" and db.url is None
    assert c.m5 is not None
    assert c.m5.url == "https://m5.example/m5adminapi/api"  # trailing slash dropped
    assert c.m5.ca_file == (tmp_path / "certs" / "m5.pem").resolve()
    assert (c.m5.retries, c.m5.verify_tls, c.m5.user_env) == (2, True, "PASSERLINK_M5_USER")
    assert c.m5.columns["customfield1"] == "personnummer"  # the default M5 field mapping
    assert c.link_store.path == Path("/var/lib/passerlink/links.sqlite")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[m5]\nurl = "http://x"\n', "sources: Field required"),
        ("sources = []\n", "sources: List should have at least 1 item"),
        (MINIMAL + 'delimiter = ";"\n', "sources[hr].delimiter: unknown setting"),
        ("foo = 1\n" + MINIMAL, "foo: unknown setting"),
        (MINIMAL + '[m5]\nurl = "http://x"\npasword_env = "X"\n', "m5.pasword_env: unknown setting"),
        (MINIMAL.replace('"csv"', '"excel"'),
         "sources[hr].kind: Input should be 'csv', 'xlsx', 'sql' or 'ss12000' (got 'excel')"),
        (MINIMAL.replace('"hr"', '"HR data"'), "sources[HR data].name: String should match pattern"),
        (MINIMAL + MINIMAL, "sources: source name 'hr' is used more than once"),
        ('[[sources]]\nname = "hr"\nkind = "csv"\n', "sources[hr]: a csv source needs 'path'"),
        ('[[sources]]\nname = "db"\nkind = "sql"\nquery = "v"\n', "sources[db]: a sql source needs 'url' or 'url_env'"),
        ('[[sources]]\nname = "s"\nkind = "ss12000"\n', "sources[s]: a ss12000 source needs 'url'"),
        (MINIMAL + 'columns = { Namn = "name" }\n',
         "sources[hr].columns: column 'Namn' is mapped to 'name', which is not one of source_id"),
        (MINIMAL + "columns = { Namn = 3 }\n", "sources[hr].columns.Namn: Input should be a valid string (got 3)"),
        (MINIMAL + '[m5]\nurl = "m5.example"\n', "m5.url: 'm5.example' is not an http(s) URL"),
        (MINIMAL + '[m5]\nurl = "http://x"\nretries = "many"\n', "m5.retries: Input should be a valid integer"),
        (MINIMAL + '[m5]\nurl = "http://x"\ntimeout_seconds = -1\n', "m5.timeout_seconds: Input should be greater than 0 (got -1)"),
        ('m5 = "x"\n' + MINIMAL, "m5: should be a TOML table (got 'x')"),
        (MINIMAL + "[link_store]\npath = 3\n", "link_store.path: should be a path (text) (got 3)"),
        (MINIMAL + '[[sources]]\nkind = "csv"\npath = "b"\n', "sources[1].name: Field required"),
        ('[[sources]\nname = "hr"\n', "not valid TOML (Expected ']]'"),
    ],
)
def test_validation_messages_name_the_setting(tmp_path: Path, text: str, message: str) -> None:
    err = error_of(tmp_path, text)
    assert err.startswith(f"{tmp_path / 'passerlink.toml'}: ")
    assert message in err
    assert "\n" not in err and "pydantic" not in err and "<class" not in err


def test_every_problem_is_reported_in_one_pass(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.replace('"csv"', '"excel"') + 'x = 1\n[m5]\nurl = "ftp://m5"\npage_size = 0\n')
    assert err.count(";") == 3
    for part in ("sources[hr].kind", "sources[hr].x: unknown setting", "m5.url", "m5.page_size"):
        assert part in err


def test_value_quoted_once(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + '[m5]\nurl = "m5.example"\n')
    assert err.count("'m5.example'") == 1


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found"):
        load_config(tmp_path / "nope.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(MINIMAL.replace("hr.csv", "lön.csv").encode("cp1252"))
    with pytest.raises(ConfigError, match=r"latin\.toml: config file is not UTF-8 \(byte 0xF6 on line 4\)"):
        load_config(latin)
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path)  # a folder


def test_config_error_is_input_error_with_exit_code_2() -> None:
    assert issubclass(ConfigError, InputError) and ConfigError.exit_code == 2


def test_unknown_source_name(tmp_path: Path) -> None:
    c = load_config(cfg(tmp_path, MINIMAL))
    with pytest.raises(ConfigError, match="no source named 'hrx' \\(known: hr\\)"):
        c.source("hrx")


def test_secret_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PL_TEST_SECRET", "s3cret")
    assert secret_from_env("PL_TEST_SECRET", "M5 password") == "s3cret"
    monkeypatch.setenv("PL_TEST_SECRET", "")
    with pytest.raises(ConfigError, match=r"c\.toml: environment variable PL_TEST_SECRET \(M5 password\) is not set"):
        secret_from_env("PL_TEST_SECRET", "M5 password", tmp_path / "c.toml")
    monkeypatch.delenv("PL_TEST_SECRET")
    with pytest.raises(ConfigError, match=r"^environment variable PL_TEST_SECRET"):
        secret_from_env("PL_TEST_SECRET", "M5 password")


def test_models_are_frozen_and_strict() -> None:
    s = parse_source({"name": "hr", "kind": "csv", "path": Path("a.csv")})
    with pytest.raises(ValueError):
        s.name = "x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        M5Config(url="http://x", nonsense=1)  # type: ignore[call-arg]
