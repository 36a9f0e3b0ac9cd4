"""``--similarity DIR`` on ``dlcourse grade-batch`` and ``dlcourse gradebook`` (issue 27).

After grading, the batch commands compare the submissions that were graded, one assignment at a time, as
``dlcourse similarity`` does: ``DIR/NN_name/pairs.csv`` and ``report.html``, and the command's own last
line for each assignment. Through the command line, on a small real batch and a real nbgrader course
(built with nbgrader's own tools, as ``test_nbgrader_gradebook.py`` builds it).
"""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, SOLUTIONS, TEST_SECRET
from dlcourse.cli import main
from dlcourse.autograder.course.records import Record, RecordStatus
from dlcourse.cli.similarity import similarity_of_graded
from similarity_corpus.corpus import disguised, independent, stub_path, write_class

BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "examples" / "nbgrader_course" / "build_course.py"


def dlcourse(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DLCOURSE_SECRET": TEST_SECRET,
           "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
    return subprocess.run([str(BIN / "dlcourse"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def summary_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("similarity ")]


def rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as stream:
        return list(csv.reader(stream))


def test_grade_batch_compares_what_it_graded_per_assignment(tmp_path, capsys):
    """ann and bob hand in the same pooling code (bob's disguised), cyd her own; ann and bob each their own
    backprop code. One line per assignment, as `dlcourse similarity` prints it on the same folder."""
    submitted = tmp_path / "submitted"
    pooling, backprop = independent("05_pooling"), independent("01_backprop")
    write_class(submitted, "05_pooling", {"ann": pooling["p01"], "bob": disguised("05_pooling")["p01_disguised"],
                                          "cyd": pooling["p07"]})
    write_class(submitted, "01_backprop", {"ann": backprop["s01"], "bob": backprop["s05"]})
    out = tmp_path / "similarity"
    graded = dlcourse(ROOT, "grade-batch", str(submitted), "--out", str(tmp_path / "graded"), "--similarity", str(out))
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert summary_lines(graded.stdout) == ["similarity 01_backprop: 2 submissions, 0 pairs flagged",
                                            "similarity 05_pooling: 3 submissions, 1 pairs flagged"]
    assert rows(out / "05_pooling" / "pairs.csv")[1][:3] == ["ann", "bob", "1.000"]
    assert (out / "05_pooling" / "report.html").stat().st_size > 0 and (out / "01_backprop" / "pairs.csv").is_file()
    for assignment in ("01_backprop", "05_pooling"):
        assert main(["similarity", str(submitted), "--assignment", assignment, "--out", str(tmp_path / assignment),
                     "--stub", str(stub_path(assignment))]) == 0
        standalone = summary_lines(capsys.readouterr().out)
        assert standalone and standalone[-1] in summary_lines(graded.stdout)
        assert rows(tmp_path / assignment / "pairs.csv") == rows(out / assignment / "pairs.csv")


def test_only_the_graded_submissions_are_compared(tmp_path, capsys):
    """A notebook whose record is not a grade (not graded yet, or the grader failed) is left out."""
    submitted = write_class(tmp_path / "submitted", "05_pooling", {"ann": independent("05_pooling")["p01"],
                                                                   "bob": disguised("05_pooling")["p01_disguised"],
                                                                   "cyd": independent("05_pooling")["p07"]})
    records = [Record("ann", "p.ipynb", assignment="05_pooling"),
               Record("bob", "p.ipynb", status=RecordStatus.NOT_GRADED, assignment="05_pooling"),
               Record("cyd", "p.ipynb", assignment="05_pooling"),
               Record("cyd", "q.ipynb", assignment=None)]
    assert similarity_of_graded(records, submitted, tmp_path / "out", lambda name: stub_path(name)) == 0
    assert summary_lines(capsys.readouterr().out) == ["similarity 05_pooling: 2 submissions, 0 pairs flagged"]


def test_grade_batch_outside_a_checkout_refuses_before_grading(tmp_path):
    (tmp_path / "submitted" / "ann").mkdir(parents=True)
    graded = dlcourse(tmp_path, "grade-batch", "submitted", "--out", "graded", "--similarity", "similarity")
    assert graded.returncode == 2 and not (tmp_path / "graded" / "gradebook.csv").exists()
    assert graded.stderr.startswith("Expected a course checkout") and len(graded.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_gradebook_compares_the_graded_students_with_the_released_stub(tmp_path):
    """An nbgrader course: ada and fay hand in the solution's code, ben the notebook as released. The stub is
    nbgrader's release/01_backprop/ (the course folder is not a checkout), so ben has no code of his own."""
    spec = importlib.util.spec_from_file_location("build_course_for_similarity", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    root = example.create_course(tmp_path)
    for student in ("ada", "ben", "fay"):
        path = example.fetch(root, student, tmp_path / "home" / student)
        if student != "ben":
            released = nbformat.read(str(path), as_version=4)
            nbformat.write(example.with_code_from(released, SOLUTIONS / "01_backprop.ipynb"), str(path))
        example.submit(root, student, tmp_path / "home" / student)
    example.nbgrader(root, "collect", "01_backprop")
    graded = dlcourse(root, "gradebook", "01_backprop", "--similarity", "similarity")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert summary_lines(graded.stdout) == ["similarity 01_backprop: 3 submissions, 1 pairs flagged"]
    table = rows(root / "similarity" / "01_backprop" / "pairs.csv")
    assert [row[:3] for row in table[1:]] == [["ada", "fay", "1.000"]]
    assert (root / "similarity" / "01_backprop" / "report.html").stat().st_size > 0
