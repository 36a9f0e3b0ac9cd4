"""One secret per course: every command run from the course folder draws the same hidden cases, and a
command that falls back to this machine's own secret says so (issue: the nbgrader walkthrough graded
with the machine's secret, the Gradescope zip with the course's, and one notebook scored 18 and 17).
Where ``find_secret`` looks, in order: ``engine/test_secret.py``."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import SOLUTIONS

from dlcourse.autograder.engine.secret import COURSE_FILE, find_secret



def dlcourse(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcourse", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLUMNS": "200"})


def test_dlcourse_secret_makes_the_course_secret_once_and_commands_find_it(tmp_path, machine):
    course = tmp_path / "course"
    course.mkdir()
    made = dlcourse("secret", cwd=course)
    assert made.returncode == 0, made.stderr
    path = course / COURSE_FILE
    assert str(path) in made.stdout and "made" in made.stdout and path.stat().st_mode & 0o777 == 0o600
    value = path.read_text().strip()
    again = dlcourse("secret", cwd=course)
    assert again.returncode == 0 and "already" in again.stdout and path.read_text().strip() == value
    assert value not in made.stdout + again.stdout  # shown only when asked for
    shown = dlcourse("secret", "--show", cwd=course)
    assert shown.returncode == 0 and value in shown.stdout
    # The Gradescope zip built from the course folder (or below it) packs the course's secret, and says nothing.
    (course / "builds").mkdir()
    built = dlcourse("gradescope", "build", "--assignment", "01_backprop", "--out", "zip/01.zip", cwd=course / "builds")
    assert built.returncode == 0, built.stderr
    assert "machine" not in built.stderr
    with zipfile.ZipFile(course / "builds" / "zip" / "01.zip") as archive:
        assert archive.read("secret").decode().strip() == value


def test_a_command_that_falls_back_to_the_machine_secret_warns(tmp_path, machine):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    built = dlcourse("gradescope", "build", "--assignment", "01_backprop", "--out", "01.zip", cwd=elsewhere)
    assert built.returncode == 0, built.stderr
    assert "this machine's secret" in built.stderr and "dlcourse secret" in built.stderr, built.stderr
    with zipfile.ZipFile(elsewhere / "01.zip") as archive:
        assert archive.read("secret").decode().strip() == find_secret(elsewhere).value
    graded = dlcourse("grade", str(SOLUTIONS / "01_backprop.ipynb"), cwd=elsewhere)
    assert graded.returncode == 0 and "this machine's secret" in graded.stderr, graded.stderr
