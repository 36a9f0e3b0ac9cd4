"""``check()`` in the student's kernel and ``dlcourse check`` in a terminal: one diagnosis per unit, a hung
unit timed out once and named by its dependents, interrupts (the terminal report: ``engine/test_report.py``).

(Correct code in other people's styles, graded in the sandbox: ``course/test_other_styles.py``.)
"""

from __future__ import annotations

import sys

import pytest
from conftest import SOLUTIONS, code_cell, solution_namespace, write_variant
from dlcourse.autograder.cases import COURSE
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.live_check import CheckFailed, check

check_module = sys.modules["dlcourse.autograder.live_check"]


@pytest.fixture()
def backprop(monkeypatch):
    """01's solution namespace, with a fresh memory of what hung."""
    monkeypatch.setattr(check_module, "_HUNG", {})
    monkeypatch.setattr(check_module, "_FAILED", {})
    return solution_namespace("01_backprop")


def _define(namespace: dict, source: str) -> dict:
    exec(compile(source, "cell 98", "exec"), namespace)  # the test's own variants
    return namespace


LOOPING_SIGMOID = "def sigmoid_forward(x):\n    while True:\n        pass\n"


def test_a_looping_unit_costs_one_time_limit_and_its_dependents_say_so(backprop, capsys):
    import time
    namespace = _define(backprop, LOOPING_SIGMOID)
    started = time.monotonic()
    with pytest.raises(CheckFailed, match="sigmoid_forward: 4 of 4 public checks failed|public checks failed"):
        check("sigmoid_forward", namespace, max_timeout=0.5)
    printed = capsys.readouterr().out
    assert "sigmoid_forward: timed out after 0.5 s (an infinite loop, or far too slow)" in printed, printed
    with pytest.raises(CheckFailed):
        check("sigmoid_backward", namespace, max_timeout=0.5)
    printed = capsys.readouterr().out
    assert time.monotonic() - started < 3.0  # one limit for the unit, none for its dependent
    assert "sigmoid_backward: not run: it depends on sigmoid_forward, which timed out" in printed, printed
    _define(namespace, "import numpy as np\ndef sigmoid_forward(x):\n    out = 1 / (1 + np.exp(-x))\n"
                       "    return out, out\n")  # redefined: the dependent runs again
    check("sigmoid_backward", namespace, max_timeout=5)
    assert "public checks passed" in capsys.readouterr().out


def test_one_diagnosis_per_unit_then_a_count_and_public_points(backprop, capsys):
    namespace = _define(backprop, "def dense_forward(x, w, b):\n    return x @ w, (x, w)\n")
    with pytest.raises(CheckFailed) as raised:
        check("dense_forward", namespace)
    printed = capsys.readouterr().out
    assert printed.count("This matches a known mistake: the bias `b` is not added") == 1, printed
    cases = [case for case in check_module.COURSE.find_unit("dense_forward").public_cases() if case.unit == "dense_forward"]
    more = len(cases) - 1
    assert f"{more} more public case{'s' if more > 1 else ''} fail{'' if more > 1 else 's'} the same way." in printed
    public = sum(case.points for case in cases)
    assert f"0 of {public:g} public points (the unit is worth " in printed
    assert raised.value._render_traceback_() == [f"CheckFailed: dense_forward: {len(cases)} of {len(cases)} public "
                                                 "checks failed (see above)"]


def test_a_unit_still_raising_not_implemented_is_told_to_run_its_cell(backprop, capsys):
    namespace = _define(backprop, "def relu_forward(x):\n    raise NotImplementedError()\n")
    with pytest.raises(CheckFailed):
        check("relu_forward", namespace)
    assert "if you already did, run the cell that defines it (Shift+Enter) before checking" in capsys.readouterr().out


def test_a_first_interrupt_stops_the_check_and_names_the_unit(backprop, capsys):
    namespace = _define(backprop, "def relu_forward(x):\n    raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt, match="check interrupted: relu_forward was running public case"):
        check("relu_forward", namespace)


def test_dlcourse_check_runs_a_hung_unit_once_and_names_it_in_dependents(reference_cache, tmp_path):
    import time
    notebook = write_variant(tmp_path, SOLUTIONS / "01_backprop.ipynb",
                             lambda nb: nb["cells"].append(code_cell(LOOPING_SIGMOID)))
    grader = Grader(COURSE, public_only=True, cache=reference_cache, max_timeout=1.0)
    started = time.monotonic()
    result = grader.grade(notebook)
    seconds = time.monotonic() - started
    rows = {row["unit"]: row for row in result.units()}
    assert rows["sigmoid_forward"]["status"] == "timeout"
    assert rows["sigmoid_backward"]["message"].startswith("sigmoid_backward: not run: it depends on sigmoid_forward, "
                                                          "which timed out"), rows["sigmoid_backward"]
    assert rows["mlp_loss_and_grads"]["status"] != "timeout" or "depends on" in rows["mlp_loss_and_grads"]["message"]
    timeouts = [item for item in result.results if item.verdict.status == "timeout"
                and "not run" not in item.verdict.message]
    assert len(timeouts) == 1, [item.case.id for item in timeouts]
    assert seconds < 60


def test_check_warns_when_a_unit_uses_a_global_that_grading_will_not_define(backprop, capsys):
    history = ["", "import numpy as np", "rng = np.random.default_rng(0)\nscale = rng.uniform(1.0, 1.0)",
               "def relu_forward(x):\n    return np.maximum(x, 0) * scale, x"]
    namespace = _define(backprop, "\n".join(history[1:]))
    namespace["In"] = history
    check("relu_forward", namespace)
    printed = capsys.readouterr().out
    assert ("Note: relu_forward uses `scale`, set only in In[2], line 2 `scale = rng.uniform(1.0, 1.0)`: it calls "
            "rng.uniform") in printed, printed
