"""nbgrader's own tools on the course's notebooks: every solution is a valid nbgrader source notebook, and
``dlcourse gradebook``'s scores land in nbgrader's gradebook and its export.

(The rest of a real nbgrader course: ``test_nbgrader_gradebook.py``; batch grading: ``test_batch.py``.)"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dlcourse.autograder.cases import ASSIGNMENTS
from conftest import SOLUTIONS, TEST_SECRET

BIN = Path(sys.executable).parent
BACKPROP = ASSIGNMENTS["01_backprop"]


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


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
