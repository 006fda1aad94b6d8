"""The evaluation notebook runs end to end on the small size, draws its plots and clears quality floors.

The notebook is executed in a real Jupyter kernel (nbclient + ipykernel) running this test's own
interpreter, with ``PASSERLINK_NB_SIZE=small``; the figures it prints are parsed back and checked,
so a matcher that gets worse (or a notebook that stops computing them) fails here.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "evaluation.ipynb"
PLOT_TAGS = ("plot-threshold", "plot-histogram", "plot-questions")
DATASETS = ("febrl4", "sampleworld")
SMALL_BUDGET = 30

HEADLINE = re.compile(
    r"^(?P<data>\w+): (?P<questions>\d+) questions -> precision (?P<precision>[\d.]+), "
    r"recall (?P<recall>[\d.]+), F1 (?P<f1>[\d.]+)",
    re.MULTILINE,
)
BLOCKING = re.compile(r"^(?P<data>\w+): blocking recall (?P<recall>[\d.]+)", re.MULTILINE)


def _read() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def test_committed_notebook_is_valid_and_has_no_outputs():
    nb = _read()
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cells"
    dirty = [c.id for c in code if c.outputs or c.execution_count is not None]
    assert not dirty, f"commit the notebook with outputs cleared; cells with outputs: {dirty}"
    for tag in PLOT_TAGS:
        assert sum(tag in c.metadata.get("tags", []) for c in code) == len(DATASETS), tag


def _use_this_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make kernel ``python3`` start ``sys.executable``: keep ipykernel's spec if it already does,
    else install one in a temporary JUPYTER_PATH (which comes first in the kernel search)."""
    command = KernelManager(kernel_name="python3").format_kernel_cmd()
    if os.path.normcase(os.path.abspath(command[0])) == os.path.normcase(os.path.abspath(sys.executable)):
        return
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (test interpreter)",
        "language": "python",
    }), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    tmp_path = tmp_path_factory.mktemp("notebook")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PASSERLINK_NB_SIZE", "small")
        _use_this_interpreter(tmp_path, mp)
        nb = _read()
        probe = nbformat.v4.new_code_cell("import sys; print(sys.executable)", id="test-probe")
        nb.cells.insert(0, probe)
        client = NotebookClient(nb, kernel_name="python3", timeout=120,
                                resources={"metadata": {"path": str(tmp_path)}})
        client.execute()  # raises CellExecutionError naming the cell on any error
    return nb


def _stdout(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs if o.output_type == "stream" and o.name == "stdout")


@pytest.mark.slow
def test_notebook_runs_in_this_interpreter(executed):
    probe = executed.cells[0]
    assert probe.id == "test-probe"
    printed = "".join(o.get("text", "") for o in probe.outputs).strip()
    assert os.path.normcase(os.path.abspath(printed)) == os.path.normcase(os.path.abspath(sys.executable))
    assert "size: small" in _stdout(executed)


@pytest.mark.slow
@pytest.mark.parametrize("tag", PLOT_TAGS)
def test_each_plot_is_drawn_for_both_data_sets(executed, tag):
    cells = [c for c in executed.cells if tag in c.metadata.get("tags", [])]
    assert len(cells) == len(DATASETS)
    for cell in cells:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, f"cell {cell.id} shows {len(images)} images"
        png = base64.b64decode(images[0].data["image/png"])
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000, f"cell {cell.id}: no real plot"


@pytest.mark.slow
@pytest.mark.parametrize("data", DATASETS)
def test_printed_figures_clear_the_floors(executed, data):
    text = _stdout(executed)
    blocking = [float(m["recall"]) for m in BLOCKING.finditer(text) if m["data"] == data]
    assert len(blocking) == 1 and blocking[0] >= 0.95, blocking
    rows = [m for m in HEADLINE.finditer(text) if m["data"] == data]
    assert len(rows) == 2, f"expected the {data} figures before and after the questions, got {len(rows)}"
    before, after = ({k: float(m[k]) for k in ("questions", "precision", "recall", "f1")} for m in rows)
    assert before["questions"] == 0
    assert 0 < after["questions"] <= SMALL_BUDGET  # the operator was asked, within the small budget
    for row in (before, after):
        assert row["precision"] >= 0.95, row
    assert before["f1"] >= 0.90, before
    assert after["f1"] >= max(0.95, before["f1"]), (before, after)  # answers never make it worse
