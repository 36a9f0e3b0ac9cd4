"""The complete cases module that docs/adding-an-assignment.md shows runs as written: its solution gets full
marks, its named mistake is named, and a unit without the argument check loses the argument case."""

from __future__ import annotations

import re

from conftest import ROOT, TEST_SECRET

from dlcourse.autograder.engine.runner import CaseRunner, in_process

SOLUTION = '''
import numpy as np

def leaky_relu(x, negative_slope=0.2):
    if not negative_slope >= 0:
        raise ValueError(f"Expected negative_slope >= 0. Received negative_slope={negative_slope!r}.")
    return np.where(x > 0, x, negative_slope * x)
'''


def documented_module() -> dict:
    text = (ROOT / "docs" / "adding-an-assignment.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text.split("## Writing the cases", 1)[1], re.S)
    module: dict = {"__name__": "documented_cases"}
    exec(compile(code, "docs/adding-an-assignment.md", "exec"), module)
    return module


def verdicts(source: str) -> dict:
    assignment = documented_module()["ASSIGNMENT"]
    namespace: dict = {}
    exec(compile(source, "cell 1", "exec"), namespace)
    runner = CaseRunner(in_process(namespace), lambda case, inputs: case.reference(**inputs), TEST_SECRET)
    return {case.name: runner.verdict(case, assignment.units) for case in assignment.cases}


def test_the_documented_solution_passes_every_case():
    results = verdicts(SOLUTION)
    assert len(results) == 4 and all(v.passed for v in results.values()), {k: v.message for k, v in results.items()}


def test_the_documented_mistake_is_named():
    wrong = SOLUTION.replace("np.where(x > 0, x, negative_slope * x)", "negative_slope * x")
    verdict = verdicts(wrong)["a batch of 4 x 3"]
    assert not verdict.passed and "multiplied every value by the slope, not only the negative ones" in verdict.message


def test_an_unchecked_slope_loses_the_argument_case_only():
    unchecked = re.sub(r"    if not negative_slope.*?\n.*?\n", "", SOLUTION, flags=re.S)
    assert "raise" not in unchecked
    results = verdicts(unchecked)
    failed = {name: v.message for name, v in results.items() if not v.passed}
    assert list(failed) == ["a negative slope is rejected, others accepted"], failed
    assert "a call with a bad negative_slope was accepted" in failed["a negative slope is rejected, others accepted"]
