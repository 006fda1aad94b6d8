"""``passerlink m5 check`` against every simulator profile over HTTP: what it reports, that it
writes nothing, that it exits 0 only when the sync's assumptions hold, and the settings it names."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from passerlink.cli import main as cli_main
from passerlink.m5 import M5Client
from passerlink.m5.checks import check_clock, run_checks
from passerlink.m5sim import PROFILES

SEED = {
    "departments": ["IT"],
    "accessgroups": [{"id": 1, "name": "Entré", "timeperiod": "Dygnet runt"}],
    "users": [{"id": i, "firstname": f"F{i}", "lastname": f"L{i % 7}", "department": "IT",
               "apireference": f"passerlink:hr:{i}" if i % 3 == 0 else "", "accessgroups": [1]}
              for i in range(1, 161)],
    "cards": [{"fkusernumber": i, "name": f"kort {i}", "cardidentity": str(1000 + i)} for i in range(1, 161, 2)],
}


def _config(tmp_path, url, extra: str = "", tls: str = "") -> str:
    path = tmp_path / "site.toml"
    path.write_text(f'[[sources]]\nname = "hr"\nkind = "csv"\npath = "hr.csv"\n\n[m5]\nurl = "{url}"\n{tls}{extra}\n',
                    encoding="utf-8")
    return str(path)


def _check(capsys, config: str, *extra: str) -> tuple[int, str]:
    code = cli_main(["m5", "check", "--config", config, *extra])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile_passes_with_the_default_settings_and_nothing_is_written(tmp_path, m5sim_factory, m5_env,
                                                                                capsys, profile):
    sim = m5sim_factory(profile=profile, seed=SEED)
    code, out = _check(capsys, _config(tmp_path, sim.url))
    assert code == 0, out
    assert "Alla antaganden som synkroniseringen bygger på håller." in out
    assert "160 användare" in out and "apireference: 53 av 160 användare har ett värde, 53 av dem våra" in out
    assert sim.writes() == []
    if profile == "page-cap-100":
        assert "100 användare när 500 efterfrågas" in out
    if profile == "no-count":
        assert "två läsningar lika" in out
    if profile == "include-required":
        assert "utan include=: nej; med include=cards,accessgroups,department,usergroup: ja" in out
    if profile == "ignores-unknown-params":
        assert "nej (160 svar på limit=2)" in out and "nej (samma första användare)" in out


@pytest.mark.parametrize(("profile", "setting", "row", "fix"), [
    ("ignores-unknown-params", 'card_filter = "param"', "filter= on /card", 'card_filter = "filter"'),
    ("page-cap-100", 'paging = "none"', "Complete user listing", 'paging = "offset"'),
])
def test_a_setting_that_does_not_fit_fails_and_the_table_names_the_one_that_does(tmp_path, m5sim_factory, m5_env,
                                                                                capsys, profile, setting, row, fix):
    sim = m5sim_factory(profile=profile, seed=SEED)
    code, out = _check(capsys, _config(tmp_path, sim.url, setting), "--lang", "en")
    assert code == 1, out
    failed = [line for line in out.splitlines() if "FAIL" in line]
    assert len(failed) == 1 and failed[0].startswith(row), out
    assert "1 assumptions do not hold: the sync stops before writing." in out
    assert out.split("Set in [m5]:")[1].split("Time:")[0].strip() == fix
    assert sim.writes() == []


def test_embedded_lists_asked_for_again_pass_with_the_include_setting_named(tmp_path, m5sim_factory, m5_env, capsys):
    sim = m5sim_factory(profile="include-required", seed=SEED)
    code, out = _check(capsys, _config(tmp_path, sim.url, "include = []"), "--lang", "en")
    assert code == 0, out
    assert "without include=: no; with include=cards,accessgroups,department,usergroup: yes (the listing is read twice)" \
        in out
    assert out.split("Set in [m5]:")[1].split("Time:")[0].strip() == \
        'include = ["cards", "accessgroups", "department", "usergroup"]'


def test_tls_details_are_shown_and_a_wrong_password_is_one_failed_row(tmp_path, m5sim_tls, tls_cert, m5_env, capsys,
                                                                     monkeypatch):
    m5sim_tls.reset(SEED)
    config = _config(tmp_path, m5sim_tls.url, tls=f'ca_file = "{tls_cert[0].as_posix()}"\n')
    code, out = _check(capsys, config, "--lang", "en")
    assert code == 0, out
    tls_row = next(line for line in out.splitlines() if line.startswith("TLS"))
    assert "TLSv1." in tls_row and "commonName=127.0.0.1" in tls_row
    assert "certificate verified" in tls_row
    monkeypatch.setenv("PASSERLINK_M5_PASSWORD", "wrong")
    code, out = _check(capsys, config)
    assert code == 1 and "Inloggning och version  FEL" in out and "refused the login" in out


def test_clock_skew_beyond_the_limit_fails():
    date = email.utils.formatdate(1_000_000.0, usegmt=True)
    assert check_clock(date, 300, now=lambda: 1_000_100.0).status == "ok"
    late = check_clock(date, 300, now=lambda: 1_000_400.0)
    assert late.status == "fail" and late.en == "+400 s (at most 300 s)"
    assert check_clock(None, 300).status == "info"


def test_a_server_that_refuses_include_is_named_with_the_setting_that_works():
    """A server answering 400 to include= (the relation names are unknown): the listing fails and the
    table names include = [] (which then reads users that embed their lists unasked)."""
    users = [{"id": i, "firstname": f"F{i}", "lastname": "L", "apireference": "", "cards": [], "accessgroups": []}
             for i in range(1, 8)]

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/m5adminapi/api")
        q = request.url.params
        if path == "/login":
            return httpx.Response(200, json={"accesstoken": "t"})
        if path == "/version":
            return httpx.Response(200, json={"version": "1.5.4"})
        if "include" in q:
            return httpx.Response(400, json={"errorcode": 1, "friendlymessage": "unknown include", "developermessage": "",
                                             "moreinfo": "", "reject": 1})
        if path == "/user":
            off, lim = int(q.get("offset", 0)), int(q.get("limit", 500))
            return httpx.Response(200, json={"users": users[off:off + lim], "count": len(users)})
        return httpx.Response(200, json={"cards": [], "count": 0})

    client = M5Client("https://m5.example.se/m5adminapi/api", user="u", password="p", apikey="k",
                      transport=httpx.MockTransport(handler), sleep=lambda s: None)
    report = run_checks(client, now=lambda: 0.0)
    failed = {f.key: f for f in report.findings if f.status == "fail"}
    assert "listing" in failed and "unknown include" in failed["listing"].en
    assert report.settings == ["include = []"]
    assert not report.ok
