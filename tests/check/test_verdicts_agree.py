"""One verdict per case: ``check()`` in a real Jupyter kernel and ``dlcourse check`` in the sandbox agree.

For each assignment, the solution with some units made wrong (values off by 1%, a raised error, a
GAN step that returns Python floats) is checked both ways, and every public case of the checked
units must get the same verdict: passed or not, the same status, the same first line of message.
The kernel runs what the grader runs of the notebook (the extracted cells), each as a kernel cell.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.engine.extract import read_notebook
from conftest import ROOT, SOLUTIONS, TEST_SECRET, code_cell, write_variant

SCALE = '''
import numpy as _np


def _off_by_one_percent(value):
    if isinstance(value, _np.ndarray) and value.dtype.kind == "f":
        return value * 1.01
    if isinstance(value, float):
        return value * 1.01
    if isinstance(value, (tuple, list)):
        return type(value)(_off_by_one_percent(item) for item in value)
    if isinstance(value, dict):
        return {key: _off_by_one_percent(item) for key, item in value.items()}
    return value
'''

SCALED = '''
_original_{unit} = {unit}


def {unit}(*args, **kwargs):
    return _off_by_one_percent(_original_{unit}(*args, **kwargs))
'''

RAISES = '''
def _helper_of_{unit}(*args):
    raise ValueError("a bug in a helper")


def {unit}(*args, **kwargs):
    return _helper_of_{unit}(*args)
'''

FLOATS = '''
_original_{unit} = {unit}


def {unit}(*args, **kwargs):
    d_loss, g_loss = _original_{unit}(*args, **kwargs)
    return float(d_loss), float(g_loss)
'''

# assignment -> ([(unit, how it is made wrong)], the units checked: those, what calls them, and one left alone)
BUGS = {
    "01_backprop": ([("dense_forward", SCALED), ("sigmoid_backward", RAISES)],
                    ["dense_forward", "dense_backward", "sigmoid_backward", "relu_forward"]),
    "02_initialization": ([("he_normal", RAISES), ("gaussian_init", SCALED)],
                          ["compute_fans", "gaussian_init", "he_normal"]),
    "03_optimization": ([("sgd", SCALED), ("adam", RAISES)], ["sgd", "inverse_time_decay", "adam"]),
    "04_convolution": ([("conv2d_forward", SCALED), ("conv2d_backward", RAISES)],
                       ["conv_geometry", "conv2d_forward", "conv2d_backward"]),
    "05_pooling": ([("max_pool2d_forward", SCALED), ("avg_pool2d_backward", RAISES)],
                   ["max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward"]),
    "06_cnn_architectures": ([("flip_horizontal", SCALED), ("translate", RAISES)],
                             ["flip_horizontal", "translate", "adjust_brightness"]),
    "07_rnn_bptt": ([("rnn_step_backward", SCALED), ("clip_by_global_norm", RAISES)],
                    ["rnn_step_forward", "rnn_step_backward", "clip_by_global_norm"]),
    "08_lstm": ([("lstm_step_backward", SCALED), ("lstm_backward", RAISES)],
                ["lstm_step_forward", "lstm_step_backward", "lstm_backward"]),
    "09_gan": ([("discriminator_loss", RAISES), ("train_step", FLOATS)],
               ["discriminator_loss", "generator_loss", "train_step"]),
}


def _buggy(tmp_path, name: str):
    source = SCALE + "".join(template.format(unit=unit) for unit, template in BUGS[name][0])
    return write_variant(tmp_path, SOLUTIONS / f"{name}.ipynb", lambda nb: nb["cells"].append(code_cell(source)))


def _first_line(message: str) -> str:
    return message.splitlines()[0] if message else ""


def _in_kernel(path, units: list[str], failing: str) -> dict:
    """Run the grader's extract of ``path`` cell by cell in a Jupyter kernel, then ``check`` each unit
    (and ``failing`` once more, as a student's check cell, to see what Jupyter shows of its failure)."""
    extracted = read_notebook(path)
    cells = []
    for cell in extracted.cells:
        lines: list[str] = []
        for lineno, text in cell["statements"]:
            lines += [""] * (lineno - 1 - len(lines))
            lines[lineno - 1:] = text.split("\n")
        cells.append(nbformat.v4.new_code_cell("\n".join(lines)))
    cells.append(nbformat.v4.new_code_cell(
        "import json as _json, sys as _sys\nfrom dlcourse.autograder import check\n"
        f"for _unit in {units!r}:\n    try:\n        check(_unit, globals())\n    except AssertionError:\n        pass\n"
        "_results = _sys.modules['dlcourse.autograder.live_check'].RESULTS\n"
        "print('VERDICTS' + _json.dumps({key: [v.passed, v.status, v.message] for key, v in _results.items()}))"))
    cells.append(nbformat.v4.new_code_cell(f"check({failing!r}, globals())"))  # a failing check, as students see it
    notebook = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,  # as the loader allows
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    printed = "".join(output.get("text", "") for output in notebook.cells[-2].outputs if output.get("name") == "stdout")
    errors = [output for output in notebook.cells[-2].outputs if output.get("output_type") == "error"]
    assert not errors, errors
    (failure,) = [output for output in notebook.cells[-1].outputs if output.get("output_type") == "error"]
    assert failure["ename"] == "CheckFailed" and len(failure["traceback"]) == 1, failure  # no frames of the package
    assert failure["traceback"][0].startswith(f"CheckFailed: {failing}: "), failure
    (line,) = [line for line in printed.splitlines() if line.startswith("VERDICTS")]
    return {key: (passed, status, message) for key, (passed, status, message)
            in json.loads(line[len("VERDICTS"):]).items()}


def _dlcourse_check(path, tmp_path) -> dict:
    out = tmp_path / "check.json"
    completed = subprocess.run([sys.executable, "-m", "dlcourse", "check", str(path), "--json", str(out)],
                               capture_output=True, text=True, cwd=ROOT, timeout=900,
                               env={**__import__("os").environ, "DLCOURSE_SECRET": TEST_SECRET})
    assert completed.returncode == 0, completed.stderr[-2000:]
    return {test["name"]: (test["status"] == "passed", _first_line(test["output"]))
            for test in json.loads(out.read_text())["tests"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUGS))
def test_check_in_a_kernel_and_dlcourse_check_give_the_same_verdicts(name, tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    path = _buggy(tmp_path, name)
    units = BUGS[name][1]
    messages = _in_kernel(path, units, BUGS[name][0][0][0])
    kernel = {key: (passed, status, _first_line(message)) for key, (passed, status, message) in messages.items()}
    sandbox = _dlcourse_check(path, tmp_path)
    public = [case.id for case in ASSIGNMENTS[name].public_cases() if case.unit in units]
    assert sorted(kernel) == sorted(public)
    differing = {case: (kernel[case], sandbox.get(case)) for case in public
                 if (kernel[case][0], kernel[case][2]) != sandbox.get(case)}
    assert not differing, differing
    assert not all(passed for passed, _, _ in kernel.values())  # the bugs were seen
    assert any(passed for passed, _, _ in kernel.values()), kernel  # and the units left alone pass
    (raising,) = [unit for unit, template in BUGS[name][0] if template is RAISES]
    traceback = next(message for key, (_, _, message) in messages.items() if key.startswith(f"{raising}: "))
    assert 'Cell In[' in traceback and f"in _helper_of_{raising}" in traceback, traceback  # the student's cell
    assert "autograder" not in traceback and "worker.py" not in traceback, traceback  # nothing of the package
