"""References on every Keras backend that is installed: the same cases, the same verdicts, the same scores.

Keras picks its backend once per process, so this module tests the backend of this process
(``KERAS_BACKEND``; ``make test`` uses TensorFlow, ``make test-jax`` JAX), and compares backends
with each other in subprocesses when more than one is installed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.engine.sandboxed import wire, worker
from dlcourse.autograder.engine.compare import judge
from conftest import ROOT, SOLUTIONS, TEST_SECRET, solution_namespace

pytestmark = pytest.mark.backend

# NumPy assignments: the solution can run in this process, on any backend.
NUMPY_ASSIGNMENTS = sorted(name for name, assignment in ASSIGNMENTS.items() if not assignment.frameworks)
COMPARABLE = ("call", "forward_backward", "numerical_gradient", "steps")


ON_TENSORFLOW = os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow"


@pytest.mark.skipif(ON_TENSORFLOW, reason="on TensorFlow, course/test_course.py grades every solution against these already")
@pytest.mark.parametrize("name", NUMPY_ASSIGNMENTS)
def test_solution_passes_every_case_against_this_backends_references(name, reference_cache):
    solution = solution_namespace(name)
    failures = []
    for case in ASSIGNMENTS[name].cases:
        if case.driver.name not in COMPARABLE or case.timeout > 30:
            continue
        inputs = case.make_inputs(TEST_SECRET)
        reply = wire.decode(wire.encode(worker.run_case(solution, wire.decode(wire.encode(case.request(inputs))))))
        verdict = judge(case, inputs, lambda c=case, i=inputs: reference_cache.expected(c, i), reply)
        if not verdict.passed:
            failures.append(verdict.message)
    assert not failures, "\n\n".join(failures)


@pytest.mark.skipif(ON_TENSORFLOW, reason="on TensorFlow, course/test_course.py grades every solution already")
@pytest.mark.parametrize("name", sorted(ASSIGNMENTS))
def test_solution_scores_full_marks_on_this_backend(grader, name):
    result = grader.grade(SOLUTIONS / f"{name}.ipynb")
    assert result.score == result.max_score, [r.verdict.message for r in result.results if not r.verdict.passed]


INSTALLED = [backend for backend, module in (("tensorflow", "tensorflow"), ("jax", "jax"), ("torch", "torch"))
             if importlib.util.find_spec(module) is not None]
DUMP = """
import json, sys
import numpy as np
from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.engine.sandboxed import wire
out = {}
for assignment in ASSIGNMENTS.values():
    for case in assignment.cases:
        if case.judge is None and case.driver.name != "keras_model":
            out[case.id] = case.reference(**case.make_inputs(sys.argv[2]))
open(sys.argv[1], "wb").write(wire.encode(out))
"""


@pytest.mark.skipif(len(INSTALLED) < 2, reason=f"only {INSTALLED} installed here")
def test_every_case_gives_the_same_reference_on_every_installed_backend(tmp_path):
    outputs = {}
    for backend in INSTALLED:
        path = tmp_path / f"{backend}.npz"
        env = {**os.environ, "KERAS_BACKEND": backend, "JAX_ENABLE_X64": "1", "CUDA_VISIBLE_DEVICES": ""}
        subprocess.run([sys.executable, "-c", DUMP, str(path), TEST_SECRET], env=env, check=True, cwd=ROOT)
        outputs[backend] = wire.decode(path.read_bytes())
    first, *others = INSTALLED
    cases = {case.id: case for assignment in ASSIGNMENTS.values() for case in assignment.cases}
    for backend in others:
        assert outputs[backend].keys() == outputs[first].keys()
        for case_id, expected in outputs[first].items():
            case = cases[case_id]
            _assert_close(outputs[backend][case_id], expected, case.rtol, case.atol, f"{case_id} ({backend} vs {first})")


def _assert_close(got, want, rtol, atol, where):
    if isinstance(want, dict):
        for key in want:
            _assert_close(got[key], want[key], rtol, atol, f"{where}[{key}]")
    elif isinstance(want, (list, tuple)):
        for index, item in enumerate(want):
            _assert_close(got[index], item, rtol, atol, f"{where}[{index}]")
    else:
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=rtol, atol=atol,
                                   err_msg=where)
