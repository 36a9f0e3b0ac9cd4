"""The `dlcourse` command as users run it, and the shipped example submissions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ASSIGNMENTS_DIR, EXAMPLES, ROOT, SOLUTIONS, TEST_SECRET
from dlcourse.autograder.cases import COURSE
from dlcourse.autograder.cases.backprop import ASSIGNMENT
from dlcourse.autograder.engine.grade import Grader

DLCOURSE = [sys.executable, "-m", "dlcourse"]


def run(*args, cwd=ROOT, env_extra=None):
    env = {**os.environ, "DLCOURSE_SECRET": TEST_SECRET, "COLUMNS": "200", **(env_extra or {})}
    return subprocess.run([*DLCOURSE, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_grade_solution_writes_gradescope_results_with_full_marks(tmp_path):
    out = tmp_path / "r.json"
    completed = run("grade", SOLUTIONS / "01_backprop.ipynb", "--json", out)
    assert completed.returncode == 0, completed.stderr
    results = json.loads(out.read_text())
    assert results["score"] == sum(test["max_score"] for test in results["tests"]) == ASSIGNMENT.max_score
    assert {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"} <= set(results)
    for test in results["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] == "passed" and test["visibility"] in ("visible", "after_due_date")
    assert len(results["tests"]) == len(ASSIGNMENT.cases)
    assert "dense_forward" in completed.stdout and "score: 38 / 38" in completed.stdout


def test_grade_untouched_assignment_scores_zero_and_still_exits_zero(tmp_path):
    out = tmp_path / "r.json"
    completed = run("grade", ASSIGNMENTS_DIR / "01_backprop.ipynb", "--json", out)
    assert completed.returncode == 0
    results = json.loads(out.read_text())
    assert results["score"] == 0 and sum(test["max_score"] for test in results["tests"]) == ASSIGNMENT.max_score
    assert all("not implemented" in test["output"] for test in results["tests"])


def test_check_runs_public_cases_only(tmp_path):
    out = tmp_path / "r.json"
    completed = run("check", ASSIGNMENTS_DIR / "01_backprop.ipynb", "--json", out)
    assert completed.returncode == 0
    results = json.loads(out.read_text())
    assert len(results["tests"]) == len(ASSIGNMENT.public_cases()) < len(ASSIGNMENT.cases)
    assert all(test["visibility"] == "visible" for test in results["tests"])


def test_grade_a_zip_of_notebooks_and_refuse_path_escapes(tmp_path):
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(SOLUTIONS / "01_backprop.ipynb", "work/01_backprop.ipynb")
        bundle.writestr("../../evil.ipynb", "{}")
        bundle.writestr("notes.txt", "not a notebook")
    out = tmp_path / "r.json"
    completed = run("grade", archive, "--json", out)
    assert completed.returncode == 0, completed.stdout
    results = json.loads(out.read_text())
    assert results["score"] == ASSIGNMENT.max_score
    assert not (tmp_path.parent / "evil.ipynb").exists()


@pytest.mark.parametrize("args, message", [
    (["grade", "does/not/exist.ipynb"], "does not exist"),
    (["grade", "setup.cfg"], "not valid notebook JSON"),
    (["grade", "solutions/01_backprop.ipynb", "--assignment", "99_nothing"], "Received '99_nothing'"),
])
def test_exit_non_zero_only_when_grading_could_not_run(args, message):
    completed = run(*args)
    assert completed.returncode == 2
    assert message in completed.stdout + completed.stderr


def test_release_regenerates_assignments_identically(tmp_path):
    completed = run("release", "--solutions", SOLUTIONS, "--assignments", tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    for path in tmp_path.glob("*.ipynb"):
        assert path.read_text() == (ASSIGNMENTS_DIR / path.name).read_text()


# ----------------------------------------------------------------------------- the examples

EXPECTED_PASSING = {
    "complete": set(ASSIGNMENT.units),
    # realistic bugs in dense_backward (db averaged), relu_backward (>= 0), both losses (no 1/N; no max
    # shift), numerical_gradient (one-sided) and train_mlp (one epoch); the MLP inherits the db bug
    "buggy": {"dense_forward", "sigmoid_forward", "sigmoid_backward", "relu_forward", "tanh_forward",
              "tanh_backward"},
    "cheat": set(),
}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name == "cheat" else name
                                  for name in sorted(EXPECTED_PASSING)])  # the cheat hangs three times
def test_examples_score_what_they_should(reference_cache, name):
    # the cheat's hangs cost 3 s each; the others keep their cases' own limits (train_mlp trains three times)
    grader = Grader(COURSE, secret=TEST_SECRET, cache=reference_cache, max_timeout=3.0 if name == "cheat" else None)
    result = grader.grade(EXAMPLES / name / "01_backprop.ipynb")
    fully_passing = {row["unit"] for row in result.units() if row["status"] == "passed"}
    assert fully_passing == EXPECTED_PASSING[name]
    expected = sum(case.points for case in ASSIGNMENT.cases if case.unit in EXPECTED_PASSING[name])
    assert result.score >= expected
    if name == "cheat":
        assert result.score == 0
        assert not Path("/tmp/dlcourse-demo-pwned").exists()


def test_a_folder_gets_a_table_each_and_a_summary_naming_each_submission(tmp_path):
    for student in ("ada", "bob"):
        (tmp_path / student).mkdir()
        (tmp_path / student / "01_backprop.ipynb").write_text((ASSIGNMENTS_DIR / "01_backprop.ipynb").read_text())
    (tmp_path / "ada" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "ada" / ".ipynb_checkpoints" / "01_backprop-checkpoint.ipynb").write_text("{}")
    completed = run("grade", tmp_path)
    assert completed.returncode == 0
    assert "summary" in completed.stdout
    assert "ada/01_backprop.ipynb" in completed.stdout and "bob/01_backprop.ipynb" in completed.stdout
    assert "checkpoint" not in completed.stdout


def test_doctor_reports_and_exits_2_for_an_impossible_level(monkeypatch):
    run = subprocess.run([sys.executable, "-m", "dlcourse", "doctor", "--isolation", "fallback"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode in (0, 1), run.stderr
    assert "Landlock" in run.stdout and "isolation fallback" in run.stdout
    monkeypatch.setenv("DLCOURSE_ISOLATION", "sideways")
    run = subprocess.run([sys.executable, "-m", "dlcourse", "doctor"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stdout + run.stderr
    assert "Expected isolation among auto, bwrap, fallback" in run.stdout
