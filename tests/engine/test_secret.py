"""The grader's secret (``secret.py``): the environment, then the course file above, then this machine's, made once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dlcourse.autograder.engine.secret import COURSE_FILE, find_secret, grader_secret, make_course_secret



def test_the_environment_then_the_course_file_above_then_the_machine(tmp_path, machine, monkeypatch):
    course, inside = tmp_path / "course", tmp_path / "course" / "submitted" / "alice"
    inside.mkdir(parents=True)
    fallback = find_secret(inside)
    assert fallback.machine and Path(fallback.source).is_relative_to(machine)
    assert find_secret(inside).value == fallback.value  # made once, then read
    path, made = make_course_secret(course)
    assert made and path == course / COURSE_FILE and path.stat().st_mode & 0o777 == 0o600
    found = find_secret(inside)
    assert not found.machine and found.source == str(path) and found.value != fallback.value
    assert make_course_secret(course) == (path, False) and find_secret(inside).value == found.value
    monkeypatch.setenv("DLCOURSE_SECRET", "from the environment")
    assert find_secret(inside) == find_secret(tmp_path) and find_secret(inside).value == "from the environment"


def test_an_empty_course_file_is_an_error_not_an_empty_secret(tmp_path, machine):
    (tmp_path / COURSE_FILE).write_text("\n")
    with pytest.raises(ValueError, match="empty file"):
        find_secret(tmp_path)


def test_the_machine_secret_is_made_once_private_and_random(tmp_path, machine):
    first = find_secret(tmp_path)
    path = Path(first.source)
    assert first.machine and path.stat().st_mode & 0o777 == 0o600 and len(first.value) == 64
    assert grader_secret(tmp_path) == first.value and not list(path.parent.glob("secret.*"))  # no temporary left


def test_each_course_secret_is_random_private_and_alone_in_its_folder(tmp_path, machine):
    one, two = tmp_path / "one", tmp_path / "two"
    for course in (one, two):
        course.mkdir()
        make_course_secret(course)
    assert find_secret(one).value != find_secret(two).value
    assert (one / COURSE_FILE).stat().st_mode & 0o777 == 0o600 and os.listdir(one) == [COURSE_FILE]
