"""``compare.py``: values compare by meaning, whatever their Python or NumPy type (``compare_value``), and
one float policy for every NumPy unit (``compare.float64_graded``): given float64 inputs, its results must be
float64. A float32 answer fails every case of its unit, whatever its values, with a message that names the unit,
the quantity, the expected dtype float64 and the received one; ``check()`` in the notebook and the grader say
the same. Before, a float32 ``dense_forward`` failed 1 case of 2, a float32 ``conv2d_forward`` passed 9 of 9."""

from __future__ import annotations

import dataclasses
import re
import sys

import numpy as np
import pytest
from conftest import SOLUTIONS, read_json_notebook, write_variant

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.engine.case import CALL, Case, KerasCall, RngProbe
from dlcourse.autograder.engine.compare import FLOAT64_ADVICE, compare_value, float64_graded, judge
from dlcourse.autograder.engine.extract import read_notebook
from dlcourse.autograder.engine.sandboxed.worker import load
from dlcourse.autograder.live_check import CheckFailed, check

check_module = sys.modules["dlcourse.autograder.live_check"]

# One unit of each NumPy assignment, one per driver: call, the randomness probe, steps, forward_backward.
UNITS = {
    "01_backprop": "dense_forward",
    "02_initialization": "xavier_uniform",
    "03_optimization": "adam",
    "04_convolution": "conv2d_forward",
    "05_pooling": "avg_pool2d_backward",
    "07_rnn_bptt": "rnn_step_forward",
    "08_lstm": "lstm_step_backward",
}

# Put before the solution's own cell: its unit, decorated, returns every floating-point array in float32 (what
# a student who computes in float32 returns). A decorated definition is run by grading as by the kernel.
IN_FLOAT32 = '''
import functools as _functools
import numpy as _np


def _in_float32(value):
    if isinstance(value, _np.ndarray) and value.dtype.kind == "f":
        return value.astype(_np.float32)
    if isinstance(value, dict):
        return {key: _in_float32(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_in_float32(item) for item in value)
    return value


def _float32(unit):
    @_functools.wraps(unit)
    def wrapper(*args, **kwargs):
        return _in_float32(unit(*args, **kwargs))
    return wrapper
'''

DTYPE_MESSAGE = re.compile(r"wrong dtype: expected float64, received float32")


def _float32_variant(tmp_path, name: str, unit: str):
    """The solution notebook with ``unit`` decorated by ``_float32`` in its own cell."""
    def edit(notebook):
        (cell,) = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"
                   and re.search(rf"^def {unit}\(", "".join(cell["source"]), re.M)]
        source = "".join(cell["source"])
        cell["source"] = IN_FLOAT32 + re.sub(rf"^def {unit}\(", f"@_float32\ndef {unit}(", source, flags=re.M)
    assert read_json_notebook(SOLUTIONS / f"{name}.ipynb")
    return write_variant(tmp_path, SOLUTIONS / f"{name}.ipynb", edit)


def _check(namespace: dict, unit: str, capsys) -> tuple[list, str]:
    """check() of ``unit``: the verdict of each public case, and what it printed."""
    cases = [case for case in ASSIGNMENTS[check_module.COURSE.find_unit(unit).name].public_cases() if case.unit == unit]
    try:
        check(unit, namespace)
    except CheckFailed:
        pass
    return [check_module.RESULTS[case.id] for case in cases], capsys.readouterr().out


@pytest.fixture()
def fresh_memory(monkeypatch):
    monkeypatch.setattr(check_module, "_HUNG", {})
    monkeypatch.setattr(check_module, "_FAILED", {})


@pytest.mark.parametrize("name, unit", UNITS.items())
def test_a_float32_answer_fails_every_case_of_its_unit_in_check_and_in_grading(name, unit, tmp_path, grader, capsys,
                                                                               fresh_memory):
    variant = _float32_variant(tmp_path, name, unit)
    verdicts, printed = _check(load(read_notebook(variant).cells)["namespace"], unit, capsys)
    assert verdicts and not any(verdict.passed for verdict in verdicts), printed
    for verdict in verdicts:
        assert re.search(rf"^{unit}[,:] \S+: " + DTYPE_MESSAGE.pattern, verdict.message, re.M), verdict.message
        assert FLOAT64_ADVICE in verdict.message
    assert f"{unit}: 0 of {len(verdicts)} public checks passed" in printed, printed

    cases = tuple(case for case in ASSIGNMENTS[name].cases if case.unit == unit)
    result = grader.grade(variant, dataclasses.replace(ASSIGNMENTS[name], cases=cases))
    assert len(result.results) == len(cases) and result.score == 0, [item.verdict.message for item in result.results]
    for item in result.results:
        assert DTYPE_MESSAGE.search(item.verdict.message), (item.case.id, item.verdict.message)
    graded = {item.case.id: item.verdict.message for item in result.results}
    for case, verdict in zip([case for case in cases if not case.hidden], verdicts):
        assert graded[case.id].split("\n  (public case")[0] == verdict.message.split("\n  (public case")[0]


@pytest.mark.parametrize("name, unit", UNITS.items())
def test_the_solution_passes_every_case_of_the_same_unit(name, unit, tmp_path, grader, capsys, fresh_memory):
    verdicts, printed = _check(load(read_notebook(SOLUTIONS / f"{name}.ipynb").cells)["namespace"], unit, capsys)
    assert verdicts and all(verdict.passed for verdict in verdicts), printed
    cases = tuple(case for case in ASSIGNMENTS[name].cases if case.unit == unit)
    result = grader.grade(SOLUTIONS / f"{name}.ipynb", dataclasses.replace(ASSIGNMENTS[name], cases=cases))
    assert result.score == result.max_score, [item.verdict.message for item in result.results if not item.verdict.passed]


def _case(driver=CALL, outputs=("out",)):
    return Case("f", "one", lambda rng: {}, lambda **inputs: {"out": np.ones(3)}, outputs, driver=driver)


@pytest.mark.parametrize("inputs, graded", [
    ({"x": np.ones(3)}, True),
    ({"shape": (2, 3), "rng": {"__rng__": 1}}, True),  # no float array: NumPy's default, float64
    ({"params": {"W1": np.ones((2, 2)), "b1": np.ones(2)}, "y": np.arange(2)}, True),
    ({"images": np.ones((1, 2, 2, 1), dtype=np.float32)}, False),  # float32 inputs may give float32 results
])
def test_the_policy_holds_where_the_inputs_are_float64(inputs, graded):
    assert float64_graded(_case(), inputs) is graded


def test_keras_drivers_and_the_probe_wrapper_are_outside_the_policy():
    assert not float64_graded(_case(KerasCall()), {"x": np.ones(3)})
    assert not float64_graded(_case(RngProbe(lambda inputs: {})), {"x": np.ones(3)})  # each probed run is judged under it


def test_every_float_dtype_but_float64_fails_and_names_the_quantity():
    case = _case(outputs=("out", "cache"))
    for dtype in (np.float16, np.float32, np.longdouble):
        reply = {"status": "ok", "value": (np.ones(3, dtype=dtype), (np.ones(3, dtype=np.float32),)), "mutated": []}
        verdict = judge(case, {"x": np.ones(3)}, lambda: {"out": np.ones(3)}, reply)
        assert not verdict.passed and verdict.message.startswith(
            f"f, out: wrong dtype: expected float64, received {np.dtype(dtype)}"), verdict.message
    nested = {"status": "ok", "value": ({"W1": np.ones(2), "b1": np.float32(1.0)}, None), "mutated": []}
    verdict = judge(_case(outputs=("grads", "cache")), {"x": np.ones(3)}, lambda: {"grads": {}}, nested)
    assert "f, grads['b1']: wrong dtype: expected float64, received float32" in verdict.message
    fine = {"status": "ok", "value": (np.ones(3), (np.ones(3, dtype=np.float32),)), "mutated": []}
    assert judge(case, {"x": np.ones(3)}, lambda: {"out": np.ones(3)}, fine).passed  # the cache is not graded


# ----------------------------------------------------------------------------- every unit under the policy

RULE = "Float64 inputs give float64 results; a float32 result fails every case."


def _policy_units(reference_cache) -> dict[str, list[str]]:
    """assignment -> the units the policy applies to: a case of theirs is graded under it (a randomness probe
    judges each of its runs under it) and the reference returns a floating-point value (not ``compute_fans``, nor
    the argument checks of ``cases/rejections.py``, whose reference is the exceptions expected)."""
    found: dict[str, list[str]] = {}
    for name, assignment in ASSIGNMENTS.items():
        for case in assignment.public_cases():
            inputs = case.make_inputs(None)
            if not (float64_graded(case, inputs) or case.driver.name == "rng_probe") or case.unit in found.get(name, []):
                continue
            inner = case.request(inputs).get("inner") or {}
            if inner.get("driver") == "raises":  # an argument check: its answers are exceptions
                continue
            if case.driver.name == "rng_probe" or any(_floats_in(reference_cache.expected(case, inputs).get(output)) for output in case.outputs):
                found.setdefault(name, []).append(case.unit)
    return found


def _floats_in(value) -> bool:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype.kind == "f"
    if isinstance(value, dict):
        return any(_floats_in(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_floats_in(item) for item in value)
    return isinstance(value, float)


@pytest.fixture(scope="module")
def policy_units(reference_cache):
    return _policy_units(reference_cache)


def test_the_policy_covers_every_numpy_unit_that_returns_floats(policy_units):
    assert set(policy_units) == set(UNITS) | {"06_cnn_architectures"}
    assert "compute_fans" not in policy_units["02_initialization"]  # integers: nothing to cast
    assert sum(map(len, policy_units.values())) >= 50, policy_units


@pytest.mark.parametrize("folder", ["solutions", "assignments"])
def test_every_unit_under_the_policy_states_it_in_its_docstring(policy_units, folder):
    import ast

    missing = []
    for name, units in policy_units.items():
        notebook = read_json_notebook(SOLUTIONS.parent / folder / f"{name}.ipynb")
        docstrings = {}
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                try:
                    tree = ast.parse("".join(cell["source"]))
                except SyntaxError:
                    continue
                docstrings.update({node.name: ast.get_docstring(node) or "" for node in tree.body
                                   if isinstance(node, ast.FunctionDef)})
        missing += [f"{name} {unit}" for unit in units if RULE not in " ".join(docstrings.get(unit, "").split())]
    assert not missing, missing


def test_every_unit_under_the_policy_fails_its_public_checks_in_float32(policy_units, capsys, fresh_memory):
    """Each unit of each assignment, returning float32 copies of its results: every public case whose reference
    returns a floating-point value fails, naming the dtype (the float32 answer's values are right)."""
    wrong = []
    for name, units in policy_units.items():
        solution = load(read_notebook(SOLUTIONS / f"{name}.ipynb").cells)["namespace"]
        for unit in units:
            namespace = dict(solution)
            original = solution[unit]
            namespace[unit] = lambda *args, _unit=original, **kwargs: _as_float32(_unit(*args, **kwargs))
            verdicts, printed = _check(namespace, unit, capsys)
            cases = [case for case in ASSIGNMENTS[name].public_cases() if case.unit == unit]
            for case, verdict in zip(cases, verdicts):
                if "raises" in (case.driver.name, (case.request(case.make_inputs(None)).get("inner") or {}).get("driver")):
                    continue  # its answer is an exception (an argument check): no value to cast
                if verdict.passed or not DTYPE_MESSAGE.search(verdict.message):
                    wrong.append(f"{name} {case.id}: {verdict.message[:200]}")
    assert not wrong, "\n".join(wrong)


def _as_float32(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float32)
    if isinstance(value, np.floating):
        return np.float32(value)
    if isinstance(value, dict):
        return {key: _as_float32(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_as_float32(item) for item in value)
    return value


# ----------------------------------------------------------------------------- values compare by meaning, not type

def test_compare_value_accepts_python_floats_for_scalars_and_checks_nested_dicts():
    assert compare_value("loss", np.float64(1.5), 1.5, 1e-6, 1e-8) is None
    problem = compare_value("grads", {"W1": np.ones(2)}, {"W2": np.ones(2)}, 1e-6, 1e-8)
    assert problem == "grads: missing keys ['W1'] (received keys ['W2'])"
    assert "grads['W1']: wrong values" in compare_value("grads", {"W1": np.ones(2)}, {"W1": np.zeros(2)}, 1e-6, 1e-8)


def test_numbers_compare_by_value_whatever_their_python_or_numpy_type():
    for received in (3, 3.0, np.int64(3), np.int32(3), np.float32(3.0), np.float64(3.0)):
        assert compare_value("t", 3, received, 1e-6, 1e-8) is None, received
        assert compare_value("loss", np.float64(3.0), received, 1e-6, 1e-8) is None, received
    assert compare_value("fans", (4, 5), [np.int64(4), np.int64(5)], 1e-6, 1e-8) is None
    assert compare_value("sizes", [4, 5], (4, 5), 1e-6, 1e-8) is None
    assert "received bool True" in compare_value("t", 1, True, 1e-6, 1e-8)
    assert "wrong values" in compare_value("t", 3, np.int64(4), 1e-6, 1e-8)
