"""The notebook size limit applies to code: outputs are dropped before it, so a big plot never costs points."""

from __future__ import annotations

import json

import pytest

from dlcourse.autograder.engine.extract import MAX_NOTEBOOK_BYTES, NotebookError, read_notebook
from conftest import SOLUTIONS


def with_output(tmp_path, megabytes: int):
    notebook = json.loads((SOLUTIONS / "01_backprop.ipynb").read_text())
    code = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    code["outputs"] = [{"output_type": "display_data", "metadata": {},
                        "data": {"image/png": "A" * (megabytes * 2**20)}}]
    path = tmp_path / "01_backprop.ipynb"
    path.write_text(json.dumps(notebook))
    return path


def test_a_notebook_over_the_limit_only_through_its_outputs_scores_full_marks(grader, tmp_path):
    path = with_output(tmp_path, MAX_NOTEBOOK_BYTES // 2**20 + 8)
    assert path.stat().st_size > MAX_NOTEBOOK_BYTES
    result = grader.grade(path)
    assert result.error is None and result.score == result.max_score


def test_too_much_code_is_refused_with_the_reason(tmp_path):
    notebook = json.loads((SOLUTIONS / "01_backprop.ipynb").read_text())
    notebook["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                              "source": "# " + "x" * (MAX_NOTEBOOK_BYTES + 10)})
    path = tmp_path / "01_backprop.ipynb"
    path.write_text(json.dumps(notebook))
    with pytest.raises(NotebookError, match="MiB of cell source, over the 32 MiB limit"):
        read_notebook(path)
