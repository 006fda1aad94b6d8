"""The [sync] table: defaults, validation in one pass, markers."""

from __future__ import annotations

import pytest

from passerlink.config import load_config
from passerlink.errors import ConfigError
from passerlink.sync import SyncPolicy

BASE = """
[[sources]]
name = "hr"
kind = "csv"
path = "hr.csv"
"""


def _cfg(tmp_path, sync: str):
    p = tmp_path / "c.toml"
    p.write_text(BASE + sync, encoding="utf-8")
    return load_config(p)


def test_defaults_are_the_safe_ones():
    p = SyncPolicy()
    assert p.grace() == 30
    assert p.situations.deleted_in_m5 == "report"
    assert p.situations.new == "match_then_create"
    assert p.thresholds.deactivations.max_count == 50
    assert p.concurrency == 4
    assert "email" not in p.protected_fields


def test_sync_table_is_read_from_the_config(tmp_path):
    cfg = _cfg(tmp_path, """
[sync]
grace_days = "never"
winner = ["hr"]
on_unknown_department = "report"
departments = { "Ekonomi 1100" = "Ekonomiavdelningen" }
[sync.thresholds.deletes]
max_count = 3
[sync.situations]
deleted_in_m5 = "recreate"
[[sync.access_rules]]
accessgroup = "Kommunhuset"
role = "Ekonom.*"
""")
    assert cfg.sync.grace() is None
    assert cfg.sync.thresholds.deletes.max_count == 3
    assert cfg.sync.thresholds.deletes.max_share is None
    assert cfg.sync.situations.deleted_in_m5 == "recreate"
    assert cfg.sync.access_rules[0].accessgroup == "Kommunhuset"
    assert cfg.sync.departments == {"Ekonomi 1100": "Ekonomiavdelningen"}


@pytest.mark.parametrize(
    ("sync", "words"),
    [
        ("[sync]\ngrace_days = -1\n", ["sync.grace_days"]),
        ("[sync]\nbogus = 1\n", ["sync.bogus", "unknown setting"]),
        ("[sync.fields]\nfirstname = \"shoe_size\"\n", ["sync.fields", "shoe_size"]),
        ("[sync.fields]\nstatus = \"email\"\n", ["filled by the engine"]),
        ("[sync]\nconcurrency = 0\n", ["sync.concurrency"]),
        ("[[sync.access_rules]]\naccessgroup = \"A\"\nrole = \"(\"\n", ["regular expression"]),
        ("[sync.situations]\ngone = \"explode\"\n", ["sync.situations.gone"]),
        ("[sync.thresholds]\nfirst_night_min_owned = -1\n", ["sync.thresholds.first_night_min_owned"]),
        ("[sync.thresholds.blank_names]\nmax_count = -1\n", ["sync.thresholds.blank_names.max_count"]),
        ("[sync]\nid_secret_env = \"not a name\"\n", ["sync.id_secret_env"]),
    ],
)
def test_bad_settings_name_the_setting(tmp_path, sync, words):
    with pytest.raises(ConfigError) as err:
        _cfg(tmp_path, sync)
    for w in words:
        assert w in str(err.value)


def test_marker_round_trip_and_foreign_values():
    p = SyncPolicy()
    m = p.marker("students", "5f0c-1")
    assert m == "passerlink:students:5f0c-1"
    assert p.parse_marker(m) == ("students", "5f0c-1")
    assert p.parse_marker("passerlink:hr:a:b") == ("hr", "a:b")
    for foreign in ("", None, "HR-12345", "other:hr:1", "passerlink:", "passerlink:hr:", "passerlink:hr"):
        assert p.parse_marker(foreign) is None


def test_blanking_and_first_night_defaults():
    th = SyncPolicy().thresholds
    assert th.blank_names.max_count == 0 and th.blank_fields.max_count == 5
    assert th.first_night_min_owned == 20 and SyncPolicy().id_secret_env == "PASSERLINK_ID_SECRET"
