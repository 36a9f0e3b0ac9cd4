"""Reports (``report.py``): the terminal table printed verbatim, one line for one shared error, and Gradescope's JSON."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from dlcourse.autograder.cases import convolution
from dlcourse.autograder.engine.case import Assignment, Case
from dlcourse.autograder.engine.compare import Status, Verdict
from dlcourse.autograder.engine.grade import CaseResult, SubmissionResult
from dlcourse.autograder.engine.report import _message, gradescope, print_result, print_summary, same_error


def vector(rng):
    return {"x": rng.normal(size=3)}


DEMO = Assignment("00_demo", "Scaling", (
    Case("double", "three numbers", vector, lambda x: {"out": 2 * x}, ("out",), points=2.0),
    Case("double", "hidden numbers", vector, lambda x: {"out": 2 * x}, ("out",), hidden=True),
    Case("triple", "three numbers", vector, lambda x: {"out": 3 * x}, ("out",))))


def demo_result(*verdicts: Verdict, label: str = "", notices=()) -> SubmissionResult:
    return SubmissionResult(Path("mine.ipynb"), DEMO, [CaseResult(case, verdict) for case, verdict
                                                       in zip(DEMO.cases, verdicts)], notices=list(notices), label=label)


PASSED, WRONG = Verdict(True, "", Status.PASSED), Verdict(False, "triple: wrong values", Status.FAILED)


def report_text(print_it, *args) -> str:
    console = Console(record=True, width=400)
    print_it(*args, console)
    return console.export_text()


@pytest.mark.parametrize("more, text", [(1, "(1 more case of this unit fails)"), (3, "(3 more cases of this unit fail)")])
def test_more_failing_cases_are_counted_in_good_english(more, text):
    assert _message({"message": "dense_forward: wrong values", "more_failing": more}).plain.endswith("\n" + text)


def test_the_terminal_report_prints_brackets_verbatim_and_labels_public_points():
    public = [case for case in convolution.ASSIGNMENT.public_cases()]
    text = "conv2d_forward, out: wrong values; out[n, i, j, k] = sum x[i*s + u, j*s + v] w[u, v] [bold]b[/bold]"
    result = SubmissionResult(Path("[red]mine[/red].ipynb"), convolution.ASSIGNMENT,
                              [CaseResult(case, Verdict(False, text, "failed")) for case in public],
                              notices=["cell [3] could not be parsed"])
    console = Console(record=True, width=400)
    print_result(result, console)
    printed = console.export_text()
    assert "sum x[i*s + u, j*s + v] w[u, v] [bold]b[/bold]" in printed, printed
    assert "red].ipynb" in printed and "note: cell [3] could not be parsed" in printed
    assert "public points (unit's worth)" in printed and "public points: 0 /" in printed
    unit = public[0].unit
    worth = sum(case.points for case in convolution.ASSIGNMENT.cases if case.unit == unit)
    shown = sum(case.points for case in public if case.unit == unit)
    assert f"0/{shown:g} ({worth:g})" in printed


def test_a_full_grading_shows_points_and_the_score_not_public_points():
    text = report_text(print_result, demo_result(PASSED, PASSED, WRONG))
    assert "points" in text and "public points" not in text and "score: 3 / 4" in text, text
    assert "triple: wrong values" in text


def test_a_notebook_not_graded_is_one_line_with_the_reason():
    result = SubmissionResult(Path("notes.ipynb"), None, error="no assignment of this course matches it")
    assert report_text(print_result, result).strip() == "notes.ipynb: not graded: no assignment of this course matches it"


def test_one_error_of_every_unit_is_their_shared_reason_and_wrong_answers_are_not():
    reason = "mine.ipynb is not valid notebook JSON"
    broken = [Verdict(False, f"{case.unit}: {reason}", Status.ERROR) for case in DEMO.cases]
    assert same_error(demo_result(*broken)) == reason
    alike = [Verdict(False, f"{case.unit}: {reason}", Status.FAILED) for case in DEMO.cases]
    assert same_error(demo_result(*alike)) is None
    assert same_error(demo_result(PASSED, *broken[1:])) is None


def test_the_summary_has_a_row_per_submission_and_says_which_were_not_graded():
    text = report_text(print_summary, [demo_result(PASSED, PASSED, WRONG, label="alice"),
                                   SubmissionResult(Path("bob.ipynb"), None, error="unreadable")])
    alice = next(line for line in text.splitlines() if "alice" in line)
    bob = next(line for line in text.splitlines() if "bob.ipynb" in line)
    assert "00_demo" in alice and "3" in alice and "4" in alice
    assert "not graded" in bob and "00_demo" not in bob


def test_gradescope_results_have_a_test_per_case_with_hidden_ones_shown_after_the_due_date():
    results = gradescope([demo_result(PASSED, PASSED, WRONG, notices=["sandbox: fallback"])])
    assert set(results) == {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"}
    assert results["score"] == 3.0 and results["output"] == "sandbox: fallback"
    assert [(test["name"], test["score"], test["max_score"], test["status"], test["visibility"]) for test in
            results["tests"]] == [("double: three numbers", 2.0, 2.0, "passed", "visible"),
                                  ("double: hidden numbers", 1.0, 1.0, "passed", "after_due_date"),
                                  ("triple: three numbers", 0.0, 1.0, "failed", "visible")]
    assert results["tests"][2]["output"] == "triple: wrong values" and results["tests"][1]["tags"] == ["double", "hidden"]


def test_gradescope_results_of_several_notebooks_name_each_and_report_an_ungraded_one():
    results = gradescope([demo_result(PASSED, PASSED, WRONG, label="a.ipynb"),
                          SubmissionResult(Path("b.ipynb"), None, error="unreadable")])
    assert all(test["name"].startswith("a.ipynb: ") for test in results["tests"]) and len(results["tests"]) == 3
    assert results["output"] == "b.ipynb was not graded: unreadable"
