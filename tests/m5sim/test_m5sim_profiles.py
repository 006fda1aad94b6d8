"""Simulator profiles on their own: what each does to a list question, and the CLI's choice of one."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from passerlink.cli import main as cli_main
from passerlink.m5sim import PROFILES, profile_named


def test_the_five_profiles_and_what_they_change():
    assert sorted(PROFILES) == ["ignores-unknown-params", "include-required", "no-count", "page-cap-100", "strict"]
    strict, cap = profile_named("strict"), profile_named("page-cap-100")
    assert strict.page_limit(500) == 500 and strict.page_limit(None) is None
    assert cap.page_limit(500) == 100 and cap.page_limit(20) == 20 and cap.page_limit(None) == 100
    assert not profile_named("include-required").embeds_without_include
    assert not profile_named("no-count").honours_count and strict.honours_count


def test_ignores_unknown_params_keeps_only_what_the_real_client_sends():
    raw = "offset=500&limit=500&fkusernumber=3&filter=fkusernumber%3A%273%27%C2%A4x%3A%27y%27&include=cards&count=true"
    kept = parse_qs(profile_named("ignores-unknown-params").query(raw.encode()).decode())
    assert kept == {"filter": ["fkusernumber:'3'¤x:'y'"], "include": ["cards"], "count": ["true"]}
    assert profile_named("strict").query(raw.encode()) == raw.encode()


def test_an_unknown_profile_is_one_sentence_and_exit_2(tmp_path, capsys):
    assert cli_main(["m5sim", "--db", str(tmp_path / "m5.sqlite"), "--profile", "lenient"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("passerlink: error: --profile: no simulator profile 'lenient' (known: strict, page-cap-100, "
                   "ignores-unknown-params, include-required, no-count)")
    with pytest.raises(ValueError, match="lenient"):
        profile_named("lenient")
