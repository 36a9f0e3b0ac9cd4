"""A course-local nbgrader plugin, written as nbgrader documents it, works under ``dlcourse gradebook``.

nbgrader's apps put the course folder on ``sys.path``, so ``c.AssignLatePenalties.plugin_class =
'latesubmission.SubMarks'`` finds ``latesubmission.py`` beside ``nbgrader_config.py``. A plugin that fails
is reported in one line, the student counts as not graded (exit status 1), and the student's last
``autograded/`` folder, which the database still points to, is kept.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import SOLUTIONS, TEST_SECRET

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nbgrader_course" / "build_course.py"
_spec = importlib.util.spec_from_file_location("build_course_for_plugins", EXAMPLE)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)
NAME = example.NAME

PLUGIN = '''
from nbgrader.plugins import BasePlugin


class SubMarks(BasePlugin):
    """nbgrader's documented example: one mark off per late submission (here: a flat 1.5)."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        {body}
'''


def gradebook(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DLCOURSE_SECRET": TEST_SECRET}
    return subprocess.run([str(BIN / "dlcourse"), "gradebook", NAME, *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600)


def submit(root: Path, student: str, home: Path) -> None:
    path = example.fetch(root, student, home)
    nbformat.write(example.with_code_from(nbformat.read(str(path), as_version=4), SOLUTIONS / f"{NAME}.ipynb"),
                   str(path))
    example.submit(root, student, home)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from nbgrader.api import Gradebook

    base = tmp_path_factory.mktemp("plugins")
    root = example.create_course(base, extra_config="c.AssignLatePenalties.plugin_class = 'latesubmission.SubMarks'\n")
    (root / "latesubmission.py").write_text(PLUGIN.format(body="return 1.5 if total_seconds_late > 0 else 0.0"))
    submit(root, "ada", base / "home" / "ada")
    due = datetime.datetime.now(datetime.timezone.utc)
    time.sleep(0.05)
    submit(root, "fay", base / "home" / "fay")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", example.COURSE_ID) as book:
        book.update_or_create_assignment(NAME, duedate=due.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    example.nbgrader(root, "collect", NAME)
    return root


def penalty_and_score(root: Path, student: str) -> tuple[float, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", example.COURSE_ID) as book:
        submission = book.find_submission(NAME, student)
        return submission.late_submission_penalty, submission.score


def test_a_course_local_late_plugin_is_applied(course):
    graded = gradebook(course)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "autograde failed" not in graded.stdout
    penalty, score = penalty_and_score(course, "fay")
    assert penalty == 1.5 and score > 0
    assert penalty_and_score(course, "ada")[0] == 0


def test_a_plugin_that_fails_says_why_in_one_line_and_keeps_the_last_grading(course):
    before = penalty_and_score(course, "fay")
    autograded = course / "autograded" / "fay" / NAME / f"{NAME}.ipynb"
    assert autograded.is_file()
    (course / "latesubmission.py").write_text(PLUGIN.format(body='raise RuntimeError("the penalty table is missing")'))
    try:
        again = gradebook(course, "--student", "fay", "--force")
    finally:
        (course / "latesubmission.py").write_text(PLUGIN.format(body="return 1.5 if total_seconds_late > 0 else 0.0"))
    assert again.returncode == 1, again.stdout + again.stderr
    assert "the penalty table is missing" in again.stdout and "Traceback" not in again.stdout + again.stderr
    assert "not graded: fay" in again.stdout
    assert autograded.is_file()  # the database still points to it
    assert penalty_and_score(course, "fay") == before
