"""The extraction rule (``extract.py``'s docstring): what grading runs of a notebook, and what it says it left out;
and the notebook size limit, which applies to code (outputs are dropped before it).

Kept statements are loaded with the worker's own ``load`` in this process, as ``check()`` and the
in-process tests do; the sandboxed end-to-end run of 09's ``train_step`` is in ``course/test_other_styles.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from dlcourse.autograder.engine.compare import judge
from dlcourse.autograder.engine.extract import MAX_NOTEBOOK_BYTES, NotebookError, kept_statements, read_notebook
from dlcourse.autograder.engine.sandboxed.worker import load
from dlcourse.autograder.cases import backprop
from dlcourse.autograder.engine.sandboxed import wire, worker
from conftest import SOLUTIONS


def kept_and_skipped(source: str) -> tuple[list[str], dict]:
    skipped: dict = {}
    return [text for _, text, _ in kept_statements(source, "cell 1", None, skipped)], skipped


@pytest.mark.parametrize("statement", [
    "cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)",
    'ACTS = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}',
    "EPS: float = np.finfo(np.float64).eps",
    "SHAPES = tuple(range(3))",
    "TABLE = {name: getattr(np, name) for name in ('tanh', 'exp')}",
    "key = sorted([3, 1], key=lambda v: -v)",
])
def test_assignments_that_only_call_imported_code_are_kept(statement):
    kept, skipped = kept_and_skipped(f"import numpy as np\nimport keras\n{statement}\n")
    assert kept[-1] == statement and not skipped


@pytest.mark.parametrize("statement, why", [
    ("history = train(x)", "train, a function of the notebook"),
    ("noise = rng.normal(size=3)", "rng.normal, an object the notebook made"),
    ("fig, ax = plt.subplots()", "plt.subplots, which trains, plots"),
    ("h = keras.Sequential().fit(x)", "which trains, plots"),
    ("(x, y), _ = keras.datasets.mnist.load_data()", "which trains, plots, displays or reads/writes files"),
    ("steps = list(map(train, range(3)))", "passes train, a function of the notebook"),
    ("text = open('data.txt').read()", "it calls open, which prints"),
    ("later = noise * 2", "it uses noise, which is set by a statement grading leaves out"),
])
def test_assignments_that_could_train_plot_or_run_notebook_code_are_left_out_with_a_reason(statement, why):
    source = ("import numpy as np\nimport keras\nimport matplotlib.pyplot as plt\nrng = np.random.default_rng(0)\n"
              "def train(x):\n    return x\nnoise = rng.normal(size=3)\n" + statement + "\n")
    kept, skipped = kept_and_skipped(source)
    assert statement not in kept
    target = statement.split("=")[0].strip().strip("()").split(",")[-1].strip() or "x"
    reasons = [text for name, text in skipped.items() if name in statement.split("=")[0]]
    assert reasons and why in reasons[0] and "cell 1, line 8" in reasons[0], (target, skipped)


def test_a_later_kept_definition_clears_the_skipped_note(tmp_path):
    cells = [{"cell_type": "code", "source": "import numpy as np\nscale = compute_scale()\n"},
             {"cell_type": "code", "source": "def compute_scale():\n    return 2.0\n"},
             {"cell_type": "code", "source": "scale = 2.0\nshift = compute_scale()\n"}]
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}}))
    notebook = read_notebook(path)
    assert "scale" not in notebook.skipped
    assert notebook.skipped["shift"].startswith("cell 3, line 2 `shift = compute_scale()`: it calls compute_scale, "
                                                "a function of the notebook")


def test_a_unit_failing_on_a_left_out_name_is_told_which_statement_and_why(tmp_path):
    source = ("import numpy as np\nrng = np.random.default_rng(0)\nscale = rng.uniform()\n"
              "def sigmoid_forward(x):\n    out = 1 / (1 + np.exp(-x)) * scale\n    return out, (out,)\n")
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": source}], "metadata": {}}))
    notebook = read_notebook(path)
    namespace = load(notebook.cells)["namespace"]
    (case, *_) = [case for case in backprop.ASSIGNMENT.public_cases() if case.unit == "sigmoid_forward"]
    inputs = case.make_inputs(None)
    reply = wire.decode(wire.encode(worker.run_case(namespace, wire.decode(wire.encode(case.request(inputs))))))
    verdict = judge(case, inputs, lambda: case.reference(**inputs), reply, None, notebook.skipped)
    assert verdict.status == "error"
    assert ("`scale` is set only in cell 1, line 3 `scale = rng.uniform()`: it calls rng.uniform, an object the "
            "notebook made") in verdict.message, verdict.message
    assert 'File "cell 1", line 5, in sigmoid_forward' in verdict.message, verdict.message


def test_a_unit_needing_a_kept_assignment_that_failed_is_told_which_one(tmp_path):
    source = ("import numpy as np\nhistory = {}\nscale = len(history['loss'])\n"
              "def sigmoid_forward(x):\n    out = 1 / (1 + np.exp(-x)) * scale\n    return out, (out,)\n")
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": source}], "metadata": {}}))
    notebook = read_notebook(path)
    loaded = load(notebook.cells)
    assert loaded["problems"] == []  # data a unit may not need: quiet at load
    (case, *_) = [case for case in backprop.ASSIGNMENT.public_cases() if case.unit == "sigmoid_forward"]
    inputs = case.make_inputs(None)
    reply = worker.run_case(loaded["namespace"], case.request(inputs))
    verdict = judge(case, inputs, lambda: case.reference(**inputs), reply, None, notebook.skipped, notebook.assigned)
    assert "`scale` is set in cell 1, line 3 `scale = len(history['loss'])`, which failed when grading ran it" \
        in verdict.message, verdict.message


def test_a_version_3_notebook_is_upgraded_by_nbformat_and_graded_by_its_cells(tmp_path):
    from nbformat import v3

    cells = [v3.new_code_cell(input="import numpy as np"), v3.new_text_cell("markdown", source="# Units"),
             v3.new_code_cell(input="def relu_forward(x):\n    return {'out': np.maximum(x, 0)}")]
    path = tmp_path / "old.ipynb"
    path.write_text(v3.writes_json(v3.new_notebook(worksheets=[v3.new_worksheet(cells=cells)])))
    assert json.loads(path.read_text())["nbformat"] == 3 and "cells" not in json.loads(path.read_text())
    notebook = read_notebook(path)
    assert "relu_forward" in notebook.defined and not notebook.problems
    namespace = load(notebook.cells)["namespace"]
    assert namespace["relu_forward"](np.array([-1.0, 2.0]))["out"].tolist() == [0.0, 2.0]


def test_a_broken_old_notebook_nbformat_cannot_upgrade_gets_the_usual_message(tmp_path):
    from dlcourse.autograder.engine.extract import NotebookError

    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps({"nbformat": 3, "worksheets": "not a list"}))
    with pytest.raises(NotebookError, match="has no list of cells"):
        read_notebook(path)


def test_extraction_keeps_definitions_and_quick_assignments_and_drops_calls():
    source = ("%matplotlib inline\n!pip install x\nimport numpy as np\nRATE = 0.5\nSIZES = [64, 10]\n"
              "params = train(x)\nplt.plot(history)\n@decorator\ndef f(x):\n    return x\nclass C:\n    pass\n"
              "for i in range(3):\n    print(i)\nlookup = {k: 1 for k in 'ab'}\n")
    kept = kept_statements(source, "cell 1")
    texts = [text for _, text, _ in kept]
    assert texts == ["import numpy as np", "RATE = 0.5", "SIZES = [64, 10]", "@decorator\ndef f(x):\n    return x",
                     "class C:\n    pass", "lookup = {k: 1 for k in 'ab'}"]
    assert [line for line, _, _ in kept] == [3, 4, 5, 8, 11, 15]
    assert [name for _, _, name in kept if name] == ["f", "C"]


def test_syntax_errors_are_reported_for_code_cells_only():
    problems = []
    assert kept_statements("def f(:\n", "cell 4", problems) == []
    assert problems and problems[0].startswith("cell 4, line 1: SyntaxError")
    assert kept_statements("Some *markdown* text.", "cell 5", None) == []


def test_read_notebook_finds_units_in_any_cell_type(tmp_path):
    import json
    notebook = {"cells": [{"cell_type": "markdown", "source": "# Title"},
                          {"cell_type": "raw", "source": "def g():\n    return 2\n"},
                          {"cell_type": "code", "source": ["def f(", "):\n    return 1\n"]}],
                "metadata": {"dlcourse": {"assignment": "01_backprop"}}}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(notebook))
    read = read_notebook(path)
    assert read.defined == {"f", "g"} and read.metadata["dlcourse"]["assignment"] == "01_backprop"
    assert [cell["label"] for cell in read.cells] == ["cell 2", "cell 3"]


# ----------------------------------------------------------------------------- the size limit applies to code
# Outputs are dropped before it, so a big plot never costs points.

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
