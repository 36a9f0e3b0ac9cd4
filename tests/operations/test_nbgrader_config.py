"""A course's nbgrader configuration, read as nbgrader's apps read it; what cannot work is one line, before anything is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlcourse.autograder.course.nbgrader_config import CourseConfigError, load_course
from conftest import TEST_SECRET

BIN = Path(sys.executable).parent


def write_config(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(folder)!r}\n{body}")
    return folder


@pytest.fixture(autouse=True)
def venv_on_path(monkeypatch):
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")  # nbgrader runs alembic for a new database


def empty_gradebook(path: Path) -> str:
    """A real nbgrader database (schema made by nbgrader's Gradebook) that knows no assignment."""
    from nbgrader.api import Gradebook

    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    with Gradebook(url):
        pass
    return url


def test_the_configured_database_and_course_id_are_read(tmp_path):
    url = empty_gradebook(tmp_path / "grades" / "course.db")
    course = write_config(tmp_path / "course", f"c.CourseDirectory.db_url = {url!r}\n"
                                               "c.CourseDirectory.course_id = 'dl101'\n"
                                               "c.CourseDirectory.submitted_directory = 'handed_in'\n")
    with pytest.raises(CourseConfigError, match=r"Expected an assignment that the gradebook knows \(none yet\)\. "
                                                r"Received '01_backprop'"):
        load_course(course, "01_backprop")
    assert not (course / "gradebook.db").exists()  # the configured database, never a stray default one


def test_a_course_that_knows_the_assignment_loads_with_nbgraders_settings(tmp_path):
    from nbgrader.api import Gradebook

    url = empty_gradebook(tmp_path / "course.db")
    with Gradebook(url) as gradebook:
        assignment = gradebook.add_assignment("01_backprop")
        gradebook.add_notebook("01_backprop", "01_backprop")
        assert assignment.name == "01_backprop"
    course = write_config(tmp_path / "course", f"c.CourseDirectory.db_url = {url!r}\n"
                                               "c.CourseDirectory.course_id = 'dl101'\n"
                                               "c.CourseDirectory.submitted_directory = 'handed_in'\n")
    loaded = load_course(course, "01_backprop")
    assert loaded.db_url == url and loaded.coursedir.course_id == "dl101"
    assert loaded.submission_folder("ada", "01_backprop") == course / "handed_in" / "ada" / "01_backprop"
    assert str(course) not in sys.path  # nbgrader's app puts the course folder on sys.path; it is taken off


@pytest.mark.parametrize("body, expected", [
    ("c.CourseDirectory.db_url = 'sqlite:////nowhere/at/all.db'\n",
     "Expected the gradebook database that CourseDirectory.db_url names to exist. Received sqlite:////nowhere"),
    ("c.CourseDirectory.root = \n", "Expected a loadable nbgrader_config.py in"),
    ("raise RuntimeError('half-edited')\n", "Received one that raised RuntimeError: half-edited"),
    ("c.CourseDirectory.db_url = 'not a url'\n", "Expected CourseDirectory.db_url to be a database URL"),
])
def test_a_config_that_cannot_work_is_one_line(tmp_path, body, expected):
    course = write_config(tmp_path / "course", body)
    with pytest.raises(CourseConfigError) as caught:
        load_course(course, "01_backprop")
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert not (course / "gradebook.db").exists() and not Path("/nowhere").exists()


def test_a_missing_course_folder_is_one_line(tmp_path):
    with pytest.raises(CourseConfigError, match="Expected an nbgrader course folder"):
        load_course(tmp_path / "absent", "01_backprop")


def test_the_command_exits_2_with_one_line_for_a_config_that_cannot_work(tmp_path):
    course = write_config(tmp_path / "course", f"c.CourseDirectory.db_url = 'sqlite:///{tmp_path / 'no.db'}'\n")
    completed = subprocess.run([str(BIN / "dlcourse"), "gradebook", str(course), "01_backprop"], capture_output=True,
                               text=True, env={**os.environ, "DLCOURSE_SECRET": TEST_SECRET}, timeout=120)
    assert completed.returncode == 2
    lines = (completed.stdout + completed.stderr).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Expected the gradebook database"), lines
    assert not (tmp_path / "no.db").exists()
