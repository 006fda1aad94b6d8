"""The README is what a municipality's IT staff follow: its example config must load, and the
two set-up commands it promises must be the ones the project has."""

import re
from pathlib import Path

from passerlink.config import load_config

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_example_config_in_the_readme_is_valid(tmp_path: Path) -> None:
    block = re.search(r"```toml\n(.*?)```", README, re.S).group(1)
    (tmp_path / "site.toml").write_text(block, encoding="utf-8")
    cfg = load_config(tmp_path / "site.toml")
    assert [s.name for s in cfg.sources] == ["hr", "students"]
    assert cfg.m5 is not None and cfg.m5.verify_tls
    assert cfg.sync.thresholds.deactivations.max_count == 50


def test_exactly_two_set_up_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["python3 scripts/dev.py demo", "python3 scripts/dev.py test"]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 scripts/dev.py test" in ci
