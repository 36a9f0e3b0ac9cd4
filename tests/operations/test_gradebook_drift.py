"""Reruns of ``dlcourse gradebook`` on a real nbgrader course: what makes a student regraded, and ``--student``.

A course of two students, built with the example's builder (nbgrader's CLI and exchange): ``ada``
hands in the solution's code, ``cat`` the buggy example's (partial credit from dlcourse). After
``dlcourse gradebook``, nbgrader's own ``nbgrader autograde --student cat --force`` (what the
formgrader's Autograde button runs) replaces cat's scores and autograded notebook; the next
``dlcourse gradebook`` must notice, regrade cat alone, say so, and restore dlcourse's score.
``--student`` means the same in ``gradebook`` and ``grade-batch``: only these students, each
regraded only if needed (``--force`` regrades); a student who did not submit is exit 2, one line.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import EXAMPLES, SOLUTIONS, TEST_SECRET

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nbgrader_course" / "build_course.py"
_spec = importlib.util.spec_from_file_location("build_course_for_drift", EXAMPLE)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)
NAME = example.NAME
ANSWER_ID = next(cell for cell in example.source_notebook().cells
                 if example.is_written_answer(cell)).metadata["nbgrader"]["grade_id"]
REPLACED = "nbgrader's autograde replaced dlcourse's scores (the formgrader's Autograde button?): regraded"


def env() -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DLCOURSE_SECRET": TEST_SECRET,
            "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}


def dlcourse(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "dlcourse"), *args], cwd=root, env=env(), capture_output=True, text=True,
                          timeout=600)


def statuses(completed: subprocess.CompletedProcess) -> dict[str, str]:
    """``{student: the status column}`` of the summary table."""
    rows = [line.strip("│ ").split("│") for line in completed.stdout.splitlines() if line.startswith("│")]
    return {cells[0].strip(): cells[-1].strip() for cells in rows if len(cells) >= 4}


def score(root: Path, student: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", example.COURSE_ID) as gradebook:
        return gradebook.find_submission(NAME, student).score


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Two submissions, collected, then graded once with ``dlcourse gradebook``."""
    base = tmp_path_factory.mktemp("drift")
    root = example.create_course(base)
    for student, code in (("ada", SOLUTIONS), ("cat", EXAMPLES / "buggy")):
        home = base / "home" / student
        path = example.fetch(root, student, home)
        released = nbformat.read(str(path), as_version=4)
        nbformat.write(example.with_code_from(released, code / f"{NAME}.ipynb"), str(path))
        example.submit(root, student, home)
    example.nbgrader(root, "collect", NAME)
    first = dlcourse(root, "gradebook", NAME)
    assert first.returncode == 0, first.stdout + first.stderr
    assert statuses(first) == {"ada": "graded", "cat": "graded"}, first.stdout
    return root


def test_a_named_student_who_is_up_to_date_is_not_regraded_unless_forced(course):
    named = dlcourse(course, "gradebook", NAME, "--student", "ada")
    assert named.returncode == 0, named.stdout + named.stderr
    assert statuses(named) == {"ada": "up to date"}, named.stdout
    forced = dlcourse(course, "gradebook", NAME, "--student", "ada", "--force")
    assert statuses(forced) == {"ada": "regraded"}, forced.stdout


def test_a_student_who_did_not_submit_is_one_line_and_exit_2_in_both_commands(course, tmp_path):
    for args in (("gradebook", NAME, "--student", "zed", "--student", "ada"),
                 ("grade-batch", "submitted", "--out", str(tmp_path / "graded"), "--student", "zed")):
        completed = dlcourse(course, *args)
        lines = completed.stderr.strip().splitlines()
        assert completed.returncode == 2, completed.stdout + completed.stderr
        assert len(lines) == 1 and lines[0].startswith("Expected students") and "Received unknown: zed" in lines[0], \
            (args[0], lines)
        assert not completed.stdout.strip(), (args[0], completed.stdout)
    assert not (tmp_path / "graded" / "gradebook.csv").exists()


def test_a_manual_score_from_the_formgrader_is_not_taken_for_nbgraders_autograde(course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", example.COURSE_ID) as gradebook:
        grade = gradebook.find_grade(ANSWER_ID, NAME, NAME, "ada")
        grade.manual_score = 1.0  # what the formgrader's PUT /formgrader/api/grade writes
        gradebook.db.commit()
    again = dlcourse(course, "gradebook", NAME)
    assert again.returncode == 0, again.stdout + again.stderr
    assert statuses(again) == {"ada": "up to date", "cat": "up to date"}, again.stdout


def test_nbgraders_autograde_over_dlcourses_grades_is_noticed_and_undone(course):
    ours = score(course, "cat")
    autograded = course / "autograded" / "cat" / NAME / f"{NAME}.ipynb"
    before = autograded.read_bytes()
    example.nbgrader(course, "autograde", NAME, "--student", "cat", "--force")
    assert autograded.read_bytes() != before  # nbgrader executed the notebook and wrote its own outputs
    theirs = score(course, "cat")
    again = dlcourse(course, "gradebook", NAME)
    assert again.returncode == 0, again.stdout + again.stderr
    assert statuses(again) == {"ada": "up to date", "cat": "regraded"}, again.stdout
    assert f"cat: {REPLACED}" in again.stdout
    assert score(course, "cat") == pytest.approx(ours) and theirs != pytest.approx(ours)
    cells = example.cells_by_id(nbformat.read(str(autograded), as_version=4))
    assert all("dlcourse" in str(cell.outputs) for name, cell in cells.items() if name.startswith("check_"))
    settled = dlcourse(course, "gradebook", NAME)
    assert statuses(settled) == {"ada": "up to date", "cat": "up to date"}, settled.stdout
