"""The CLI contract: exit codes 0/1/2/3, one sentence for a mistake, ``report --last``, scheduling."""

from __future__ import annotations

import datetime as _dt
import subprocess
import sys

import pytest
from _syncworld import make_site

from passerlink.cli import main
from passerlink.commands.sync import first_run, parse_at, parse_every
from passerlink.errors import InputError
from passerlink.sync import RunLock, sync_paths


@pytest.fixture
def site(tmp_path, m5sim, m5_env):
    s = make_site(tmp_path, m5sim, staff=20, pupils=20)
    assert s.import_truth() == 0
    return s


def test_dry_run_then_stop_then_override_then_nothing(site, m5sim, capsys):
    cfg = str(site.config_path)
    m5sim.clear_calls()
    assert main(["sync", "--config", cfg, "--dry-run", "--allow-mass-changes"]) == 0
    out = capsys.readouterr().out
    assert "status: dry_run" in out and "M5 write calls: 0" in out and m5sim.writes() == []
    assert main(["sync", "--config", cfg]) == 3  # the go-live plan is larger than a normal night
    err = capsys.readouterr().err
    assert "--allow-mass-changes" in err and m5sim.writes() == []
    assert main(["sync", "--config", cfg, "--allow-mass-changes"]) == 0
    assert m5sim.writes()
    m5sim.clear_calls()
    assert main(["sync", "--config", cfg]) == 0
    assert m5sim.writes() == [] and "M5 write calls: 0" in capsys.readouterr().out
    assert main(["report", "--last", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "status: done" in out and "manual_left_alone" in out and ".html" in out


def test_bad_input_is_exit_2_in_one_sentence(site, tmp_path, capsys):
    cfg = str(site.config_path)
    assert main(["sync", "--config", str(tmp_path / "missing.toml")]) == 2
    assert main(["sync", "--config", cfg, "--source", "nosuch=x.csv"]) == 2
    assert "no source named 'nosuch'" in capsys.readouterr().err
    assert main(["sync", "--config", cfg, "--source", "hr"]) == 2
    assert main(["sync", "--config", cfg, "--at", "02:00"]) == 2
    assert main(["sync", "--config", cfg, "--every", "soon"]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text(site.config_path.read_text(encoding="utf-8") + "grace_days = -3\n", encoding="utf-8")
    assert main(["sync", "--config", str(bad)]) == 2
    assert "sync.grace_days" in capsys.readouterr().err
    assert main(["report", "--last", "--dir", str(tmp_path / "none")]) == 2


def test_subprocess_exit_codes_and_no_traceback(site, m5sim, tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "passerlink", *args], capture_output=True, text=True,
                              timeout=120)

    p = run("sync", "--config", str(site.config_path), "--source", f"hr={tmp_path / 'gone.csv'}")
    assert p.returncode == 3 and "Traceback" not in p.stderr and "source_readable:hr" in p.stderr
    with RunLock(sync_paths(site.config())[2]):
        p = run("sync", "--config", str(site.config_path))
    assert p.returncode == 1 and "another passerlink sync is running" in p.stderr and "Traceback" not in p.stderr
    folder = sync_paths(site.config())[0]
    before = set(folder.glob("sync-*.json"))
    p = run("sync", "--config", str(site.config_path), "--m5-url", "http://127.0.0.1:9/m5adminapi/api",
            "--allow-mass-changes")
    # unreachable M5 = exit 2, as the README's table says; the run still leaves its report
    assert p.returncode == 2 and "Traceback" not in p.stderr and "127.0.0.1:9" in p.stderr
    left = set(folder.glob("sync-*.json")) - before
    assert len(left) == 1 and '"status": "failed"' in left.pop().read_text(encoding="utf-8")


def test_a_damaged_register_is_exit_3_with_the_row_named_and_a_report(site, m5sim, tmp_path, capsys):
    """Issue 13 items 1, 3, 4 through the command line: cut, escape characters, two encodings."""
    hr = (site.folder / "hr_export.csv").read_bytes()
    lines = hr.split(b"\r\n") if b"\r\n" in hr else hr.split(b"\n")
    nl = b"\r\n" if b"\r\n" in hr else b"\n"
    cut = tmp_path / "cut.csv"
    cut.write_bytes(hr[: int(len(hr) * 0.985)])
    escape = tmp_path / "escape.csv"
    escape.write_bytes(nl.join([lines[0], lines[1], lines[2].replace(b";", b"\x1b[31m;", 2), *lines[3:]]))
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(nl.join([*lines[:3], "1;Åsa;;Åström".encode() + b";" * (lines[0].count(b";") - 3),
                               *lines[3:]]))
    m5sim.clear_calls()
    for path, says in ((cut, "cut"), (escape, "row 3, column"),
                       (mixed, "two encodings")):
        assert main(["sync", "--config", str(site.config_path), "--source", f"hr={path}",
                     "--allow-mass-changes"]) == 3
        err = capsys.readouterr().err
        assert says in err and path.name in err and "source_readable:hr" in err
    assert m5sim.calls() == []
    assert main(["report", "--last", "--config", str(site.config_path)]) == 0
    assert "status: stopped" in capsys.readouterr().out


def test_links_import_refuses_a_bad_table_without_writing(site, m5sim, tmp_path, capsys):
    bad = tmp_path / "links.csv"
    bad.write_text("source,source_id,m5_id\nhr,1,5\npersonal,2,6\n", encoding="utf-8")
    m5sim.clear_calls()
    assert main(["links", "import", str(bad), "--config", str(site.config_path)]) == 2
    err = capsys.readouterr().err
    assert "row 3" in err and "'source'" in err and "personal" in err and m5sim.writes() == []
    hr_id = str(site.world.hr["Anställningsnummer"].iloc[0])  # a real person: the M5 id is what is wrong
    bad.write_text(f"source,source_id,m5_id\nhr,{hr_id},999999\n", encoding="utf-8")
    assert main(["links", "import", str(bad), "--config", str(site.config_path)]) == 2
    assert "M5 user 999999 does not exist" in capsys.readouterr().err and m5sim.writes() == []


def test_scheduling_helpers():
    assert parse_every("24h") == _dt.timedelta(hours=24) and parse_every("30m") == _dt.timedelta(minutes=30)
    with pytest.raises(InputError):
        parse_every("5s")
    assert parse_at("02:00") == _dt.time(2, 0)
    with pytest.raises(InputError):
        parse_at("25:00")
    now = _dt.datetime(2026, 11, 1, 3, 0)
    assert first_run(now, _dt.time(2, 0)) == _dt.datetime(2026, 11, 2, 2, 0)
    assert first_run(now, _dt.time(4, 30)) == _dt.datetime(2026, 11, 1, 4, 30)
    assert first_run(now, None) == now


def test_no_command_logs_a_personnummer_unmasked(tmp_path, capsys):
    """The CLI's log handler masks personnummer-like digit runs in every record (-vv included)."""
    import logging

    from passerlink.redact import PersonnummerLogFilter

    main(["report", "--last", "--dir", str(tmp_path / "none")])  # any command sets the handler up
    capsys.readouterr()
    handlers = logging.getLogger().handlers
    assert handlers and all(any(isinstance(f, PersonnummerLogFilter) for f in h.filters) for h in handlers)
