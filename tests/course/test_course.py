"""The course as a whole, for every assignment: release drift, full marks, zero marks, layering."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from conftest import ASSIGNMENTS_DIR, ROOT, SOLUTIONS
from dlcourse.autograder.course.release import render, student_notebook

NAMES = sorted(ASSIGNMENTS)
TRAINING = {"06_cnn_architectures", "09_gan"}  # their cases train models: `make test-fast` leaves them out


def test_every_solution_has_cases_and_an_assignment():
    solutions = sorted(path.stem for path in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
    assert solutions == NAMES
    assert sorted(path.stem for path in ASSIGNMENTS_DIR.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_assignment_equals_regenerated(name):
    regenerated = render(student_notebook(SOLUTIONS / f"{name}.ipynb"))
    committed = (ASSIGNMENTS_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
    assert committed == regenerated, f"assignments/{name}.ipynb drifted from solutions/: run `dlcourse release`"


@pytest.mark.parametrize("name", NAMES)
def test_assignment_carries_generated_note_and_no_solution(name):
    text = (ASSIGNMENTS_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
    assert "do not edit by hand" in text
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in TRAINING else name
                                  for name in NAMES])
def test_solution_scores_full_marks(grader, name):
    result = grader.grade(SOLUTIONS / f"{name}.ipynb")
    failures = [r.verdict.message for r in result.results if not r.verdict.passed]
    assert not failures, "\n\n".join(failures)
    assert result.score == result.max_score == ASSIGNMENTS[name].max_score > 0


@pytest.mark.parametrize("name", NAMES)
def test_untouched_assignment_scores_zero_with_not_implemented(grader, name):
    result = grader.grade(ASSIGNMENTS_DIR / f"{name}.ipynb")
    assert result.score == 0
    for row in result.units():
        assert row["status"] == "not implemented", row
        assert "not implemented" in row["message"]


@pytest.mark.parametrize("name", NAMES)
def test_each_unit_has_one_check_cell_carrying_its_points(name):
    """The contract `dlcourse gradebook` relies on: code grade cell `check_<unit>` runs `check(<unit>)` and
    is worth exactly the points of that unit's cases (Markdown grade cells are manually graded answers:
    tests/course/test_teaching.py)."""
    notebook = json.loads((SOLUTIONS / f"{name}.ipynb").read_text())
    cells = [(cell["metadata"]["nbgrader"], "".join(cell["source"]).strip()) for cell in notebook["cells"]
             if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell["cell_type"] == "code"]
    assert all(meta["grade_id"] == f"check_{source.removeprefix('check(').removesuffix(')')}" for meta, source in cells)
    points = {meta["grade_id"].removeprefix("check_"): meta["points"] for meta, _ in cells}
    assert len(points) == len(cells)
    assignment = ASSIGNMENTS[name]
    assert points == {unit: sum(c.points for c in assignment.cases if c.unit == unit) for unit in assignment.units}


def test_unit_names_are_unique_across_the_course():
    seen = {}
    for assignment in ASSIGNMENTS.values():
        for unit in assignment.units:
            assert unit not in seen, f"{unit} is graded by both {seen[unit]} and {assignment.name}"
            seen[unit] = assignment.name


def test_case_names_are_unique_within_each_assignment():
    for assignment in ASSIGNMENTS.values():
        ids = [case.id for case in assignment.cases]
        assert len(ids) == len(set(ids)), assignment.name


FRAMEWORKS = {"keras", "tensorflow", "jax", "torch"}


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


def test_only_the_references_import_a_framework():
    """On the trusted side only the references import Keras; the sandboxed worker's Keras drivers may, to
    run a student's Keras units and models in the Keras assignments."""
    offenders = []
    for package in ("dlcourse", "autograder"):
        for path in (ROOT / package).rglob("*.py"):
            if path.is_relative_to(ROOT / "dlcourse" / "references") or \
                    path.is_relative_to(ROOT / "autograder/engine/sandboxed/drivers/keras"):
                continue
            found = FRAMEWORKS & set(_imports(path))
            if found:
                offenders.append(f"{path.relative_to(ROOT)} imports {sorted(found)}")
    assert not offenders


def test_importing_the_package_and_cases_does_not_import_keras():
    code = ("import sys, dlcourse, dlcourse.cli, dlcourse.autograder, dlcourse.autograder.cases; "
            "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
