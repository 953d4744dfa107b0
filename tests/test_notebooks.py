"""The notebooks run top to bottom on the public API, chart with or without a CJK font, and are kept without outputs."""

from __future__ import annotations

import ast
import functools
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import cjk_font, need

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS] == ["01_explore.ipynb", "02_compare_hospitals.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_uses_only_the_public_api(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("reportmine"), node.module
            if isinstance(node, ast.Import):
                assert all(not alias.name.startswith("reportmine.") for alias in node.names)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "reportmine":
                assert not node.attr.startswith("_")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


#: What the notebooks print on a machine without a CJK font, before labelling their charts in ASCII.
NO_FONT_LINE = "No CJK font for matplotlib: charts are labelled in English and ASCII ids"


def execute(path: Path, tmp_path: Path, first_cell: str = "") -> tuple[list[dict], str]:
    """Run a notebook top to bottom (after ``first_cell`` if given): its outputs and all it printed."""
    notebook = nbformat.read(path, as_version=4)
    if first_cell:
        notebook.cells.insert(0, nbformat.v4.new_code_cell(first_cell))
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [out for cell in notebook.cells for out in cell.get("outputs", [])]
    text = "".join(out.get("text", "") for out in outputs if out.get("output_type") == "stream")
    return outputs, text


def check_charts(outputs: list[dict], text: str) -> None:
    """No error, charts drawn, and every glyph of every chart in the font used: matplotlib warns
    "Glyph … missing from font(s)" for each character it cannot draw."""
    assert not [out for out in outputs if out.get("output_type") == "error"]
    assert [out for out in outputs if "image/png" in out.get("data", {})]
    assert "missing from font" not in text, text[-2000:]


@functools.cache
def executed(path: Path) -> tuple[list[dict], str]:
    """Each notebook runs once for the tests below, as this machine has it (with its fonts or without)."""
    with tempfile.TemporaryDirectory() as folder:
        return execute(path, Path(folder))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path: Path) -> None:
    # With a CJK font or without one: the notebooks label their charts in Chinese or in ASCII, never in boxes.
    outputs, text = executed(path)
    check_charts(outputs, text)
    font = cjk_font()
    if font:
        assert f"CJK font: {font}\n" in text and NO_FONT_LINE not in text
    else:
        assert NO_FONT_LINE in text and "CJK font:" not in text


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_draws_chinese_labels(path: Path) -> None:
    need("a CJK font for matplotlib", cjk_font() is not None, "Debian: apt-get install fonts-noto-cjk")
    outputs, text = executed(path)
    check_charts(outputs, text)
    assert f"CJK font: {cjk_font()}\n" in text
