"""Source settings per kind: each kind takes only its own, and SS 12000's auth settings agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from passerlink.config import (
    CsvSourceConfig,
    Ss12000SourceConfig,
    load_config,
    parse_source,
)
from passerlink.errors import ConfigError

SS = '[[sources]]\nname = "elever"\nkind = "ss12000"\nurl = "https://ss12000.example/v2"\n'


def error_of(tmp_path: Path, text: str) -> str:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message and "pydantic" not in message
    return message.removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SS + 'path = "x.csv"\n', "sources[elever].path: unknown setting"),  # a csv setting
        ('[[sources]]\nname = "hr"\nkind = "csv"\npath = "a.csv"\ntoken_env = "T"\n', "sources[hr].token_env: unknown setting"),
        ('[[sources]]\nname = "hr"\nkind = "xlsx"\npath = "a.xlsx"\nseparator = ";"\n', "sources[hr].separator: unknown setting"),
        ('[[sources]]\nname = "hr"\npath = "a.csv"\n', "sources[hr].kind: Field required"),
        ('[[sources]]\nname = "hr"\nkind = 3\n', "sources[hr].kind: Input should be 'csv', 'xlsx', 'sql' or 'ss12000' (got 3)"),
        (SS + 'role = "guardian"\n', "sources[elever].role: Input should be 'pupil' or 'staff' (got 'guardian')"),
        (SS + 'sekretessmarkering = "yes"\n',
         "sources[elever].sekretessmarkering: Input should be 'protected' or 'ordinary' (got 'yes')"),
        (SS + 'token_url = "https://idp.example/token"\n',
         "sources[elever]: an ss12000 source with 'token_url' needs 'client_id_env' and 'client_secret_env'"),
        (SS + 'token_url = "https://idp/t"\nclient_id_env = "I"\nclient_secret_env = "S"\ntoken_env = "T"\n',
         "sources[elever]: an ss12000 source takes 'token_url' (OAuth2) or 'token_env', not both"),
        (SS + 'client_id_env = "I"\n', "sources[elever]: 'client_id_env', 'client_secret_env' and 'scope' need 'token_url'"),
        (SS + 'client_key = "k.pem"\n', "sources[elever]: 'client_key' needs 'client_cert'"),
        (SS + 'token_url = "idp.example/token"\nclient_id_env = "I"\nclient_secret_env = "S"\n',
         "sources[elever].token_url: 'idp.example/token' is not an http(s) URL"),
        (SS.replace("https://ss12000.example/v2", "ss12000.example"), "sources[elever].url: 'ss12000.example' is not an http(s) URL"),
        (SS + "page_size = 0\n", "sources[elever].page_size: Input should be greater than or equal to 1 (got 0)"),
    ],
)
def test_messages_name_the_setting_and_quote_the_value(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(tmp_path, text) == message


def test_each_kind_is_its_own_model_with_paths_resolved(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(SS + 'token_url = "https://idp.example/token"\nclient_id_env = "I"\nclient_secret_env = "S"\n'
                    'scope = "ss12000"\nca_file = "certs/ca.pem"\nclient_cert = "certs/c.pem"\nclient_key = "certs/k.pem"\n'
                    'school_units = ["u1", "u2"]\n'
                    '[[sources]]\nname = "hr"\nkind = "csv"\npath = "hr.csv"\n', encoding="utf-8")
    elever, hr = load_config(path).sources
    assert isinstance(elever, Ss12000SourceConfig) and isinstance(hr, CsvSourceConfig)
    assert (elever.role, elever.sekretessmarkering, elever.private_email) == ("pupil", "protected", False)
    assert elever.client_cert == (tmp_path / "certs" / "c.pem").resolve()
    assert elever.client_key == (tmp_path / "certs" / "k.pem").resolve()
    assert elever.school_units == ["u1", "u2"]
    assert hr.path == (tmp_path / "hr.csv").resolve()


def test_parse_source_gives_the_kind_model() -> None:
    spec = parse_source({"name": "personal", "kind": "ss12000", "url": "http://x/v2", "role": "staff"})
    assert isinstance(spec, Ss12000SourceConfig) and spec.role == "staff"


def test_ss12000_dates_go_to_the_sync_unless_configured(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(SS + '[[sources]]\nname = "hr"\nkind = "csv"\npath = "hr.csv"\n', encoding="utf-8")
    dates = load_config(path).sync.dates
    assert (dates["elever"].start, dates["elever"].end) == ("startDate", "endDate")
    assert dates["hr"].start == "Anställningsdatum"  # the policy's own default stays
    path.write_text(SS + '[sync.dates.elever]\nend = "endDate"\n', encoding="utf-8")
    dates = load_config(path).sync.dates
    assert (dates["elever"].start, dates["elever"].end) == (None, "endDate")
