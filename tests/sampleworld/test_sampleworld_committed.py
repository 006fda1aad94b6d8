"""The committed files in data/samples/ are exactly what data/samples/generate.py writes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from passerlink.sampleworld import FILE_NAMES, generate_world

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def _sample_args() -> dict:
    spec = importlib.util.spec_from_file_location("_samples_generate", SAMPLES / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SAMPLE_ARGS


@pytest.fixture(scope="module")
def sample_world():
    return generate_world(**_sample_args())


def test_committed_files_are_up_to_date(sample_world):
    for name, data in sample_world.files().items():
        assert (SAMPLES / name).read_bytes() == data, f"{name} is stale: run data/samples/generate.py"


def test_committed_sample_is_hultsfred_sized_and_small():
    total = sum((SAMPLES / FILE_NAMES[k]).stat().st_size for k in ("hr", "students", "m5_seed", "truth"))
    assert total < 2_000_000
    seed = json.loads((SAMPLES / FILE_NAMES["m5_seed"]).read_text(encoding="utf-8"))
    assert 3300 <= len(seed["users"]) <= 3900
    hr_lines = (SAMPLES / FILE_NAMES["hr"]).read_bytes().count(b"\r\n")
    assert hr_lines == 1501
    student_lines = (SAMPLES / FILE_NAMES["students"]).read_bytes().count(b"\n")
    assert student_lines == 2001


def test_manual_share_is_about_a_tenth(sample_world):
    linked = set(sample_world.truth["m5_id"])
    users = sample_world.m5_seed["users"]
    kinds = sample_world.divergences["kind"]
    former = (kinds == "former_staff").sum()
    graduates = kinds.isin(["graduate", "graduate_sibling_name"]).sum()
    manual = len(users) - len(linked) - former - graduates
    assert former == 60
    assert manual == (kinds == "manual").sum()
    assert 0.08 <= manual / len(users) <= 0.12

