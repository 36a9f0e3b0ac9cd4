"""The grading pipeline (``grade.py``): notebooks that cannot be graded, the assignment found, cases run, notices and scores."""

from __future__ import annotations

import nbformat
import pytest

from dlcourse.autograder.cases import ASSIGNMENTS, COURSE
from dlcourse.autograder.engine.case import Assignment, Case
from dlcourse.autograder.engine.catalogue import Catalogue
from dlcourse.autograder.engine.compare import Status, Verdict
from dlcourse.autograder.engine.grade import CaseResult, Grader, SubmissionResult
from dlcourse.autograder.engine.reference_cache import ReferenceCache
from conftest import TEST_SECRET


def vector(rng):
    return {"x": rng.normal(size=3)}


def scaling(unit: str, factor: float, name: str, hidden: bool = False, points: float = 1.0) -> Case:
    return Case(unit, name, vector, lambda x: {"out": factor * x}, ("out",), hidden=hidden, points=points)


DEMO = Assignment("00_demo", "Scaling", (scaling("double", 2, "three numbers", points=2.0),
                                         scaling("double", 2, "hidden numbers", hidden=True),
                                         scaling("triple", 3, "three numbers")))
DEMO_COURSE = Catalogue({"00_demo": DEMO})


def demo_grader(**options) -> Grader:
    return Grader(DEMO_COURSE, secret=TEST_SECRET, cache=ReferenceCache(), isolation="fallback", **options)


def notebook(tmp_path, name: str, *sources: str):
    path = tmp_path / name
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources]), str(path))
    return path


def test_a_malformed_notebook_of_a_known_assignment_gives_one_error_verdict_per_case_with_the_reason(tmp_path):
    path = tmp_path / "05_pooling-alice.ipynb"
    path.write_text('{"cells": [')
    result = Grader(COURSE, secret=TEST_SECRET).grade(path)
    cases = ASSIGNMENTS["05_pooling"].cases
    assert result.assignment is ASSIGNMENTS["05_pooling"] and result.error is None
    (reason,) = result.notices
    assert reason.startswith("05_pooling-alice.ipynb is not valid notebook JSON"), reason
    assert [item.case for item in result.results] == list(cases)
    assert all(item.verdict.status is Status.ERROR and item.verdict.message == f"{item.case.unit}: {reason}"
               for item in result.results)
    assert result.score == 0 and result.max_score == ASSIGNMENTS["05_pooling"].max_score


def test_a_malformed_notebook_of_no_known_assignment_is_an_error_with_the_reason(tmp_path):
    path = tmp_path / "homework.ipynb"
    path.write_text("print('not a notebook')")
    result = Grader(COURSE, secret=TEST_SECRET).grade(path)
    assert result.assignment is None and result.results == []
    assert result.error == "homework.ipynb (0.0 MiB) is not valid notebook JSON: it does not start with '{'"


def test_a_notebook_of_no_known_assignment_is_an_error_naming_the_known_ones(tmp_path):
    result = demo_grader().grade(notebook(tmp_path, "notes.ipynb", "def unrelated(x):\n    return x"))
    assert result.assignment is None and result.results == []
    assert result.error == "notes.ipynb: no assignment of this course matches it (known: 00_demo)"


def test_a_notebook_is_graded_case_by_case_in_the_sandbox_and_scored(tmp_path):
    path = notebook(tmp_path, "mine.ipynb", "def double(x):\n    return 2 * x", "def triple(x):\n    return 2 * x")
    result = demo_grader().grade(path)
    assert result.assignment is DEMO and result.error is None  # found by the units it defines
    assert [item.verdict.status for item in result.results] == [Status.PASSED, Status.PASSED, Status.FAILED]
    assert (result.score, result.max_score) == (3.0, 4.0) and result.seconds > 0
    assert result.notices[0].startswith("sandbox: isolation fallback; in force: "), result.notices


def test_a_students_own_check_grades_the_public_cases_only(tmp_path):
    path = notebook(tmp_path, "00_demo.ipynb", "def double(x):\n    return 2 * x", "def triple(x):\n    return 3 * x")
    result = Grader(DEMO_COURSE, public_only=True, cache=ReferenceCache(), isolation="fallback").grade(path)
    assert [item.case.name for item in result.results] == ["three numbers", "three numbers"]
    assert result.score == result.max_score == 3.0


def test_load_problems_and_unimportable_modules_become_notices(tmp_path):
    path = notebook(tmp_path, "00_demo.ipynb", "import no_such_module_for_dlcourse",
                    "class Broken:\n    raise RuntimeError('boom at load time')", "def double(x):\n    return 2 * x")
    result = demo_grader(public_only=True).grade(path)
    loading = [notice for notice in result.notices if notice.startswith("while loading: ")]
    assert len(loading) == 1 and "boom at load time" in loading[0], result.notices
    assert "not importable while grading: no_such_module_for_dlcourse (fine unless a graded function uses it)" \
        in result.notices
    assert [item.verdict.status for item in result.results] == [Status.PASSED, Status.MISSING]


def test_units_report_the_first_failure_of_each_unit_and_count_the_others(tmp_path):
    verdicts = [Verdict(True, "", Status.PASSED), Verdict(False, "double: wrong", Status.FAILED),
                Verdict(False, "triple: slow", Status.TIMEOUT)]
    result = SubmissionResult(tmp_path / "x.ipynb", DEMO, [CaseResult(case, verdict)
                                                           for case, verdict in zip(DEMO.cases, verdicts)])
    assert result.units() == [
        {"unit": "double", "score": 2.0, "max_score": 3.0, "status": Status.FAILED, "message": "double: wrong",
         "more_failing": 0},
        {"unit": "triple", "score": 0.0, "max_score": 1.0, "status": Status.TIMEOUT, "message": "triple: slow",
         "more_failing": 0}]
    result.results.append(CaseResult(DEMO.cases[0], Verdict(False, "double: again", Status.ERROR)))
    assert result.units()[0]["more_failing"] == 1 and result.label == "x.ipynb"


@pytest.mark.parametrize("label", ["", "alice/01"])
def test_a_result_is_labelled_by_its_file_name_unless_told_otherwise(tmp_path, label):
    assert SubmissionResult(tmp_path / "x.ipynb", None, label=label).label == (label or "x.ipynb")
