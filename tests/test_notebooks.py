"""Every solution notebook runs top to bottom, with no error and nothing on stderr (nbgrader scores a
cell with stderr output as 0, so TensorFlow's start-up chatter must stay off)."""

from __future__ import annotations

import os
import time

import nbclient
import nbformat
import pytest

from conftest import SOLUTIONS

NOTEBOOKS = sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_solution_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    seconds = time.perf_counter() - started
    problems = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" or output.get("name") == "stderr":
                problems.append(f"cell {index}: {output.get('ename') or ''} {output.get('text', '')[:500]}")
    assert not problems, "\n".join(problems)
    print(f"{path.name}: {seconds:.1f} s")
