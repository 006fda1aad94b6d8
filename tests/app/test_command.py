"""``passerlink workbench``: what it launches and how it refuses bad input."""

import pytest

from passerlink.cli import main
from passerlink.commands import workbench


def _option(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_streamlit_command_binds_loopback_headless_without_usage_stats(tmp_path):
    cmd = workbench.streamlit_command(tmp_path / "c.toml")
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("app.py")
    assert _option(cmd, "--server.address") == "127.0.0.1"
    assert _option(cmd, "--server.headless") == "true"
    assert _option(cmd, "--browser.gatherUsageStats") == "false"
    assert _option(cmd, "--client.showErrorDetails") == "type"
    assert cmd[-3:] == ["--", "--config", str(tmp_path / "c.toml")]


@pytest.mark.parametrize("host,loop", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                       ("0.0.0.0", False), ("10.1.2.3", False), ("m5.example", False)])
def test_loopback(host, loop):
    assert workbench.is_loopback(host) is loop


def test_bad_config_is_one_sentence_and_exit_2(tmp_path, capsys):
    assert main(["workbench", "--config", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert "missing.toml: config file not found" in err and "Traceback" not in err
