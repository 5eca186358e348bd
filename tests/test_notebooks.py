"""The notebooks run top to bottom in a real Jupyter kernel (nbclient + ipykernel, a fresh process per
notebook, an in-memory copy: the committed file is never written), and are committed without outputs.

A kernel, not the code cells pasted into a script: inside Jupyter DuckDB refused the engine's
``SET enable_progress_bar`` (it needs ipywidgets there), which failed every ingest in a notebook while
the same code ran fine as a script."""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_the_notebooks_are_there():
    names = {p.name for p in NOTEBOOKS}
    assert {"walkthrough.ipynb", "01_explore_sources.ipynb", "02_write_a_model.ipynb",
            "03_model_effectiveness.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    # The kernel inherits this environment: IPython's history and Jupyter's runtime files go to tmp_path.
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    committed = hashlib.sha256(path.read_bytes()).hexdigest()
    notebook = nbformat.read(path, as_version=4)
    # Jupyter starts a notebook's kernel in the notebook's folder; a failing cell raises CellExecutionError.
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "every code cell ran"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == committed, "the committed notebook was not touched"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    for i, cell in enumerate(code):
        assert cell.outputs == [], f"{path.name}: code cell {i} has outputs (strip them before committing)"
        assert cell.execution_count is None, f"{path.name}: code cell {i} has an execution count"
