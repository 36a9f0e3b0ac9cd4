"""The assignments a grader knows (``catalogue.py``): a notebook matched by its metadata, its file name, or its units."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlcourse.autograder.cases import COURSE
from dlcourse.autograder.engine.extract import Notebook


def notebook(name: str, defined=(), metadata=None) -> Notebook:
    return Notebook(Path(name), defined=set(defined), metadata=metadata or {})


def test_the_assignments_are_listed_in_notebook_order():
    names = list(COURSE)
    assert names == sorted(names) and names[0] == "01_backprop" and len(names) == 9


def test_the_notebooks_metadata_wins_over_its_file_name_and_its_units():
    tagged = notebook("01_backprop.ipynb", {"dense_forward"}, {"dlcourse": {"assignment": "05_pooling"}})
    assert COURSE.identify(tagged).name == "05_pooling"


def test_an_unknown_or_malformed_tag_falls_back_to_the_file_name():
    for metadata in ({"dlcourse": {"assignment": "99_nothing"}}, {"dlcourse": "05_pooling"}):
        assert COURSE.identify(notebook("05_pooling-alice.ipynb", metadata=metadata)).name == "05_pooling"


def test_a_notebook_of_another_name_is_matched_by_the_units_it_defines_most():
    mostly_01 = notebook("homework.ipynb", {"dense_forward", "sigmoid_forward", "max_pool2d_forward"})
    mostly_05 = notebook("homework.ipynb", {"dense_forward", "max_pool2d_forward", "avg_pool2d_forward"})
    assert (COURSE.identify(mostly_01).name, COURSE.identify(mostly_05).name) == ("01_backprop", "05_pooling")


def test_a_notebook_defining_no_unit_under_no_known_name_matches_nothing():
    assert COURSE.identify(notebook("notes.ipynb", {"helper"})) is None
    assert COURSE.by_file_name(Path("notes.ipynb")) is None


def test_a_unit_is_found_in_the_assignment_that_grades_it_and_an_unknown_one_is_refused():
    assert COURSE.find_unit("dense_forward").name == "01_backprop"
    with pytest.raises(ValueError, match="Received 'no_such_unit'"):
        COURSE.find_unit("no_such_unit")
