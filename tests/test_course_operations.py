"""Course operations: batch grading (resumable, local or Dask), nbgrader's gradebook, Gradescope."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.course.batch import Settings, discover, grade_batch
from conftest import ASSIGNMENTS_DIR, EXAMPLES, SOLUTIONS, TEST_SECRET

BIN = Path(sys.executable).parent
BACKPROP = ASSIGNMENTS["01_backprop"]


def make_submissions(folder: Path, layout: dict[str, Path | str]) -> Path:
    """``{student: notebook path or literal text}`` -> folder/<student>/01_backprop.ipynb."""
    for student, source in layout.items():
        (folder / student).mkdir(parents=True)
        target = folder / student / "01_backprop.ipynb"
        if isinstance(source, Path):
            shutil.copy(source, target)
        else:
            target.write_text(source)
    return folder


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


@pytest.fixture(scope="module")
def classroom(tmp_path_factory) -> Path:
    return make_submissions(tmp_path_factory.mktemp("submitted"), {
        "ann": SOLUTIONS / "01_backprop.ipynb", "ben": EXAMPLES / "buggy" / "01_backprop.ipynb",
        "cat": "{ this is not a notebook", "dan": ASSIGNMENTS_DIR / "01_backprop.ipynb"})


@pytest.fixture(scope="module")
def batch(classroom, tmp_path_factory, reference_cache):
    out = tmp_path_factory.mktemp("batch")
    return grade_batch(classroom, out, Settings(TEST_SECRET, workers=2, cache=reference_cache.folder)), out


def test_batch_writes_a_record_per_notebook_a_csv_row_per_student_and_feedback(batch):
    report, out = batch
    assert report.graded == 4 and report.skipped == 0
    rows = {row["student"]: row for row in read_csv(out / "gradebook.csv")}
    assert set(rows) == {"ann", "ben", "cat", "dan"}
    assert float(rows["ann"]["total"]) == BACKPROP.max_score
    assert float(rows["dan"]["total"]) == float(rows["cat"]["total"]) == 0
    assert 0 < float(rows["ben"]["total"]) < BACKPROP.max_score
    assert float(rows["ben"]["01_backprop:dense_forward"]) == 3 and float(rows["ben"]["01_backprop:relu_backward"]) < 2
    for student in rows:
        record = json.loads((out / "results" / student / "01_backprop.ipynb.json").read_text())
        assert record["student"] == student and "tests" in record["results"]
    ben = (out / "feedback" / "ben.html").read_text()
    assert "db averages over the batch" in ben and "data:image/png;base64," in ben
    assert "not valid notebook JSON" in (out / "feedback" / "cat.html").read_text()


def test_batch_rerun_grades_only_what_changed(batch, classroom, reference_cache):
    _, out = batch
    before = (out / "gradebook.csv").read_text()
    again = grade_batch(classroom, out, Settings(TEST_SECRET, cache=reference_cache.folder))
    assert again.graded == 0 and again.skipped == 4
    assert (out / "gradebook.csv").read_text() == before


@pytest.mark.slow
def test_kill_9_in_the_middle_then_resume_equals_an_uninterrupted_run(tmp_path, reference_cache):
    layout = {f"s{index:02d}": ASSIGNMENTS_DIR / "01_backprop.ipynb" for index in range(10)}
    layout.update({"s03": SOLUTIONS / "01_backprop.ipynb", "s07": EXAMPLES / "buggy" / "01_backprop.ipynb"})
    submissions = make_submissions(tmp_path / "submitted", layout)
    env = {**os.environ, "DLCOURSE_SECRET": TEST_SECRET}
    command = [str(BIN / "dlcourse"), "grade-batch", str(submissions), "--workers", "2", "--no-figures"]

    interrupted = tmp_path / "interrupted"
    process = subprocess.Popen([*command, "--out", str(interrupted)], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((interrupted / "results").rglob("*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(list((interrupted / "results").rglob("*.json")))
    assert 3 <= done_before < len(layout), "the kill should land in the middle of the batch"
    assert not (interrupted / "gradebook.csv").exists()

    resumed = subprocess.run([*command, "--out", str(interrupted)], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"already up to date {done_before}" in " ".join(resumed.stdout.split())
    clean = tmp_path / "clean"
    subprocess.run([*command, "--out", str(clean)], env=env, check=True, capture_output=True)
    assert (interrupted / "gradebook.csv").read_text() == (clean / "gradebook.csv").read_text()
    assert len(read_csv(interrupted / "gradebook.csv")) == len(layout)
    assert not list(interrupted.rglob("*.part"))


def test_discover_takes_the_student_from_the_first_folder():
    found = discover(EXAMPLES)
    assert [(s.student, s.label) for s in found] == [("buggy", "01_backprop.ipynb"), ("cheat", "01_backprop.ipynb"),
                                                     ("complete", "01_backprop.ipynb")]


# ----------------------------------------------------------------------------- nbgrader

def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DLCOURSE_SECRET": TEST_SECRET}
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True)


def make_course(folder: Path, names: list[str], students: list[str]) -> Path:
    for name in names:
        (folder / "source" / name).mkdir(parents=True)
        shutil.copy(SOLUTIONS / f"{name}.ipynb", folder / "source" / name / f"{name}.ipynb")
    (folder / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = '.'\n"
        f"c.CourseDirectory.db_assignments = {[dict(name=name) for name in names]!r}\n"
        f"c.CourseDirectory.db_students = {[dict(id=student) for student in students]!r}\n")
    return folder


def test_every_solution_is_a_valid_nbgrader_source_notebook(tmp_path, monkeypatch):
    """nbgrader's own generate_assignment (its API, in-process: one nbgrader start-up instead of nine)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")  # nbgrader runs alembic
    names = sorted(ASSIGNMENTS)
    course = make_course(tmp_path, names, [])
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_assignments = [dict(name=name) for name in names]
    api = NbGraderAPI(config=config)
    for name in names:
        result = api.generate_assignment(name, force=True)
        assert result["success"], f"{result.get('log')}\n{result.get('error')}"
        assert "WARNING" not in result["log"] and "ERROR" not in result["log"], result["log"]
        assert (course / "release" / name / f"{name}.ipynb").is_file()


def test_scores_land_in_nbgraders_gradebook_and_export(tmp_path):
    course = make_course(tmp_path, ["01_backprop"], ["alice", "bob"])
    assert nbgrader(course, "generate_assignment", "01_backprop", "--force").returncode == 0
    for student, source in (("alice", SOLUTIONS), ("bob", course / "release")):
        target = course / "submitted" / student / "01_backprop"
        target.mkdir(parents=True)
        notebook = source / ("01_backprop" if source != SOLUTIONS else "") / "01_backprop.ipynb"
        shutil.copy(notebook, target / "01_backprop.ipynb")
        (target / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    completed = subprocess.run([str(BIN / "dlcourse"), "gradebook", str(course), "01_backprop", "--feedback"],
                               env={**os.environ, "DLCOURSE_SECRET": TEST_SECRET}, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr

    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        alice = gradebook.find_submission("01_backprop", "alice")
        bob = gradebook.find_submission("01_backprop", "bob")
        # The written answers are graded by hand in the formgrader: they count in max_score, not in score.
        manual = sum(cell["metadata"]["nbgrader"]["points"] for cell in json.loads(
            (SOLUTIONS / "01_backprop.ipynb").read_text())["cells"] if cell["cell_type"] == "markdown"
            and cell.get("metadata", {}).get("nbgrader", {}).get("grade"))
        assert manual > 0
        assert alice.score == BACKPROP.max_score and alice.max_score == BACKPROP.max_score + manual
        assert bob.score == 0 and bob.max_score == BACKPROP.max_score + manual
        assert alice.needs_manual_grade
        grade = gradebook.find_grade("check_dense_backward", "01_backprop", "01_backprop", "alice")
        assert grade.auto_score == grade.max_score == 4
    exported = nbgrader(course, "export", "--to", str(tmp_path / "grades.csv"))
    assert exported.returncode == 0, exported.stderr
    rows = {row["student_id"]: row for row in read_csv(tmp_path / "grades.csv")}
    assert float(rows["alice"]["raw_score"]) == BACKPROP.max_score and float(rows["bob"]["raw_score"]) == 0
    assert (course / "feedback" / "alice" / "01_backprop" / "01_backprop.html").is_file()
