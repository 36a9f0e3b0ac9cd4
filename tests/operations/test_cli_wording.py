"""What the commands say in small cases: one line for one problem, counted and worded right (issue 25, item 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
from rich.console import Console

from conftest import SOLUTIONS, TEST_SECRET
from dlcourse.autograder.cases import ASSIGNMENTS, COURSE
from dlcourse.autograder.course import gradescope
from dlcourse.autograder.course.discovery import survey
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.report import print_result

BIN = Path(sys.executable).parent


def dlcourse(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DLCOURSE_SECRET": TEST_SECRET}
    return subprocess.run([str(BIN / "dlcourse"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_a_file_that_is_not_a_notebook_is_one_line_not_one_row_per_unit(tmp_path):
    script = tmp_path / "x.py"
    script.write_text("print('hello')\n")
    result = Grader(COURSE, secret=TEST_SECRET).grade(script, ASSIGNMENTS["01_backprop"])
    console = Console(record=True, width=200)
    print_result(result, console)
    text = console.export_text()
    reason = result.notices[0]
    assert text.count(reason) == 1, text
    assert f"every unit: {reason}" in text and f"score: 0 / {ASSIGNMENTS['01_backprop'].max_score:g}" in text


def test_a_folder_with_only_a_checkpoint_is_not_said_to_hold_no_ipynb_while_counting_one(tmp_path):
    (tmp_path / "cat" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "cat" / ".ipynb_checkpoints" / "01_backprop-checkpoint.ipynb").write_text("{}")
    (tmp_path / "cat" / "notes.py").write_text("")
    found = survey(tmp_path)
    assert found.notes["cat"] == ["nothing to grade: no .ipynb notebook (found 1 .py, 1 hidden file, skipped)"]


def test_gradescope_build_without_an_assignment_lists_them_in_one_line(tmp_path):
    completed = dlcourse(tmp_path, "gradescope", "build", "--out", str(tmp_path / "a.zip"))
    lines = completed.stderr.strip().splitlines()
    assert completed.returncode == 2 and len(lines) == 1, completed.stderr
    assert lines[0].startswith("Expected --assignment NAME") and all(name in lines[0] for name in ASSIGNMENTS)
    assert not (tmp_path / "a.zip").exists()


def test_written_answers_are_counted_from_the_solution_and_said_on_gradescope(tmp_path, grader):
    solution = nbformat.read(str(SOLUTIONS / "01_backprop.ipynb"), as_version=4)
    cells = [cell for cell in solution.cells if cell.cell_type == "markdown"
             and cell.metadata.get("nbgrader", {}).get("grade")]
    points = sum(float(cell.metadata["nbgrader"]["points"]) for cell in cells)
    assert cells and gradescope.written_answers("01_backprop") == (len(cells), points)
    archive = tmp_path / "autograder.zip"
    gradescope.build(archive, TEST_SECRET, "01_backprop")
    with zipfile.ZipFile(archive) as built:
        assert f"--written-points {points:g}" in built.read("run_autograder").decode()
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "01_backprop.ipynb").write_bytes((SOLUTIONS / "01_backprop.ipynb").read_bytes())
    results, graded = gradescope.grade_upload(upload, "01_backprop", grader, written_points=points)
    assert graded and results["score"] == ASSIGNMENTS["01_backprop"].max_score
    assert f"Written answers ({points:g} points) are graded by hand in nbgrader" in results["output"]
    json.dumps(results)
