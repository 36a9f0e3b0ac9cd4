"""Grade exports an LMS imports without editing: parsed as Canvas's and Moodle's importers read them."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.course.export import Grades, build_export, neutralise
from dlcourse.autograder.course.roster import read_roster
from conftest import ASSIGNMENTS_DIR, SOLUTIONS, TEST_SECRET

BIN = Path(sys.executable).parent
FULL = ASSIGNMENTS["01_backprop"].max_score
EVIL = "=SUM(1+1)"  # a student folder (and name) that a spreadsheet would run as a formula
CANVAS_INFO = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def dlcourse(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DLCOURSE_SECRET": TEST_SECRET}
    return subprocess.run([str(BIN / "dlcourse"), *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """Real `dlcourse grade-batch` on: ann (the solution), bob (the blank assignment), cat (a corrupt notebook),
    gus (an unreadable zip member: not graded) and EVIL (the solution, under a formula-looking folder)."""
    root = tmp_path_factory.mktemp("submitted")
    solution = (SOLUTIONS / "01_backprop.ipynb").read_bytes()
    for student, data in (("ann", solution), (EVIL, solution), ("bob", (ASSIGNMENTS_DIR / "01_backprop.ipynb")
                                                                 .read_bytes()), ("cat", b'{"cells": [truncated')):
        (root / student).mkdir()
        (root / student / "01_backprop.ipynb").write_bytes(data)
    (root / "gus").mkdir()
    with zipfile.ZipFile(root / "gus" / "bundle.zip", "w") as archive:
        archive.writestr("01_backprop.ipynb", solution)
    data = bytearray((root / "gus" / "bundle.zip").read_bytes())
    data[data.index(b'"cells"')] ^= 0x20  # stored uncompressed: a CRC error when the member is read
    (root / "gus" / "bundle.zip").write_bytes(bytes(data))
    out = tmp_path_factory.mktemp("graded")
    completed = dlcourse("grade-batch", str(root), "--out", str(out))
    assert completed.returncode == 1, completed.stdout + completed.stderr  # gus: not graded
    return out


@pytest.fixture
def roster(tmp_path) -> Path:
    """Canvas's own columns plus 'folder'; zoe has no submission; EVIL's section is formula-looking too."""
    path = tmp_path / "roster.csv"
    rows = [["folder", "Student", "ID", "SIS User ID", "SIS Login ID", "Section", "email"],
            ["ann", "Ann Lee", "101", "S101", "alee", "A", "ann@uni.edu"],
            ["bob", "Bob Ray", "102", "S102", "bray", "A", "bob@uni.edu"],
            ["cat", "Cat Diaz", "103", "", "", "B", "cat@uni.edu"],
            ["gus", "Gus Amos", "104", "S104", "gamos", "B", "gus@uni.edu"],
            [EVIL, EVIL, "105", "S105", "@evil", "-Evening", "+evil@uni.edu"],
            ["zoe", "Zoe Kim", "106", "S106", "zkim", "B", "zoe@uni.edu"]]
    with open(path, "w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows(rows)
    return path


def read_like_canvas(text: str) -> tuple[list[str], dict[str, float], dict[str, dict[str, float | None]]]:
    """Parse an import file as canvas-lms ``lib/gradebook_importer.rb`` does: the header's first column contains
    "Student" and its second "ID"; student-info columns up to "Section"; then assignments; an optional
    "Points Possible" row; a score is a number, or blank / "-" for none ("EX" excused is never written here).

    Returns:
        (assignment titles, {title: points possible}, {ID: {title: score or None}}).
    """
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert "Student" in header[0] and "ID" in header[1], header
    assert "Section" in header, header
    first = header.index("Section") + 1
    titles = header[first:]
    assert titles, "no assignment column"
    body = rows[1:]
    points = {}
    if body and "Points Possible" in body[0][0]:
        points = {title: float(cell) for title, cell in zip(titles, body[0][first:])}
        body = body[1:]
    students = {}
    for row in body:
        assert len(row) == len(header), row
        scores = {}
        for title, cell in zip(titles, row[first:]):
            scores[title] = None if cell.strip() in ("", "-") else float(cell)  # anything else raises: not a score
        students[row[1]] = {"row": row, **scores}
    return titles, points, students


def test_canvas_export_imports_as_canvas_reads_it(graded, roster, tmp_path):
    out = tmp_path / "canvas.csv"
    completed = dlcourse("export", str(graded), "--format", "canvas", "--roster", str(roster), "--out", str(out),
                         "--canvas-id", "01_backprop=4321")
    assert completed.returncode == 0, completed.stderr
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0].split(",")[:5] == CANVAS_INFO
    titles, points, students = read_like_canvas(text)
    assert titles == ["01_backprop (4321)"] and points == {"01_backprop (4321)": FULL}
    assert list(students) == ["101", "102", "103", "104", "105", "106"]  # roster order, every roster student
    column = "01_backprop (4321)"
    assert students["101"][column] == students["105"][column] == FULL
    assert 0 <= students["102"][column] < FULL  # the untouched assignment: a real, graded score
    assert students["103"][column] is None  # corrupt: blank, never a silent 0
    assert students["104"][column] is None  # not graded
    assert students["106"][column] is None  # no submission
    assert students["101"]["row"][:5] == ["Ann Lee", "101", "S101", "alee", "A"]
    assert students["105"]["row"][:5] == ["'" + EVIL, "105", "S105", "'@evil", "'-Evening"]
    blanks = [line for line in completed.stderr.splitlines() if line.startswith("blank: ")]
    assert len(blanks) == 3, completed.stderr
    assert any(line.startswith("blank: cat: 01_backprop: 01_backprop.ipynb: the grader could not read it")
               and "not valid notebook JSON" in line for line in blanks), blanks
    assert any(line.startswith("blank: gus: 01_backprop: bundle.zip/01_backprop.ipynb: not graded") for line in blanks)
    assert "blank: zoe: 01_backprop: no notebook" in blanks


def test_no_text_cell_of_any_format_starts_like_a_formula(graded, roster, tmp_path):
    for format in ("canvas", "moodle", "csv"):
        out = tmp_path / f"{format}.csv"
        options = ["--roster", str(roster)] if format != "csv" else []
        completed = dlcourse("export", str(graded), "--format", format, *options, "--out", str(out))
        assert completed.returncode == 0, completed.stderr
        cells = [cell for row in csv.reader(io.StringIO(out.read_text())) for cell in row]
        assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")], format
        assert f"'{EVIL}" in cells or "'+evil@uni.edu" in cells, format


def test_moodle_export_matches_users_on_the_chosen_field(graded, roster, tmp_path):
    out = tmp_path / "moodle.csv"
    completed = dlcourse("export", str(graded), "--format", "moodle", "--roster", str(roster), "--out", str(out),
                         "--id-field", "email")
    assert completed.returncode == 0, completed.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0]) == ["email", "01_backprop"]
    scores = {row["email"]: row["01_backprop"] for row in rows}
    assert scores["ann@uni.edu"] == f"{FULL:g}" and scores["'+evil@uni.edu"] == f"{FULL:g}"
    assert scores["cat@uni.edu"] == scores["gus@uni.edu"] == scores["zoe@uni.edu"] == ""
    assert float(scores["bob@uni.edu"]) < FULL


def test_plain_csv_needs_no_roster_and_the_working_gradebook_keeps_unit_columns(graded, tmp_path):
    out = tmp_path / "plain.csv"
    completed = dlcourse("export", str(graded), "--format", "csv", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    rows = {row["student"]: row["01_backprop"] for row in csv.DictReader(io.StringIO(out.read_text()))}
    assert rows == {"ann": f"{FULL:g}", "bob": rows["bob"], "cat": "", "gus": "", f"'{EVIL}": f"{FULL:g}"}
    working = next(csv.reader(io.StringIO((graded / "gradebook.csv").read_text())))
    assert "01_backprop" in working and any(name.startswith("01_backprop:") for name in working)


def test_a_student_missing_from_the_roster_stops_the_export_one_line_each(graded, roster, tmp_path):
    lines = roster.read_text().splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join(line for line in lines if not line.startswith(("bob,", "cat,"))) + "\n")
    out = tmp_path / "canvas.csv"
    completed = dlcourse("export", str(graded), "--format", "canvas", "--roster", str(short), "--out", str(out))
    assert completed.returncode == 1
    assert not out.exists()
    missing = [line for line in completed.stderr.splitlines() if "not in the roster" in line]
    assert [line.split(":")[0] for line in missing] == ["bob", "cat"]


@pytest.mark.parametrize("args, message", [
    (["--format", "canvas"], "Expected a --roster for the canvas format"),
    (["--format", "csv", "--canvas-id", "01_backprop"], "Expected --canvas-id NAME=ID"),
    (["--format", "csv", "--canvas-id", "09_gan=7"], "Expected Canvas ids for exported assignments (01_backprop)"),
    (["--format", "csv", "--assignment", "09_gan"], "Expected assignments that have records in"),
])
def test_bad_options_are_one_line_and_exit_2(graded, tmp_path, args, message):
    completed = dlcourse("export", str(graded), *args, "--out", str(tmp_path / "x.csv"))
    assert completed.returncode == 2
    assert message in completed.stderr and len(completed.stderr.strip().splitlines()) == 1, completed.stderr


def test_not_a_graded_folder_is_exit_2(tmp_path):
    completed = dlcourse("export", str(tmp_path), "--format", "csv", "--out", str(tmp_path / "x.csv"))
    assert completed.returncode == 2
    assert "Expected the output folder of `dlcourse grade-batch`" in completed.stderr


# ----------------------------------------------------------------------------- the pieces

@pytest.mark.parametrize("text, shown", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Ann Lee", "Ann Lee"), ("", ""), ("a=b", "a=b"),
])
def test_neutralise_prefixes_only_formula_starts(text, shown):
    assert neutralise(text) == shown


@pytest.mark.parametrize("content, message", [
    ("Student,ID\nAnn,1\n", "Expected the roster {path} to have a 'folder' column"),
    ("folder,Student,ID\nann,Ann,1\nann,Ann,2\n", "Expected each folder once in the roster {path}. Received 'ann' "
                                                    "again on line 3."),
    ("folder,Student,ID\n,Ann,1\n", "Expected a folder on every row of the roster {path}. Received none on line 2."),
])
def test_a_bad_roster_says_what_was_expected(tmp_path, content, message):
    path = tmp_path / "roster.csv"
    path.write_text(content)
    with pytest.raises(ValueError) as raised:
        read_roster(path)
    assert message.format(path=path) in str(raised.value)


def test_canvas_needs_its_columns_and_an_identifier_per_student(tmp_path):
    grades = Grades(assignments={"01_backprop": FULL}, students=["ann"], scores={("ann", "01_backprop"): 3.0})
    path = tmp_path / "roster.csv"
    path.write_text("folder,Name,email\nann,Ann,a@x\n")
    with pytest.raises(ValueError, match="to have the column\\(s\\) Student, ID"):
        build_export(grades, "canvas", read_roster(path))
    path.write_text("\ufefffolder,Student,ID,SIS User ID\nann,Ann,,\n")  # a BOM, as spreadsheets save
    with pytest.raises(ValueError, match="Received none for 'ann'"):
        build_export(grades, "canvas", read_roster(path))
    path.write_text("folder,Student,ID\nann,Ann,7\n")
    assert build_export(grades, "canvas", read_roster(path)).text.splitlines()[2] == "Ann,7,,,,3"
    with pytest.raises(ValueError, match="Expected a format among canvas, moodle, csv. Received 'blackboard'."):
        build_export(grades, "blackboard")


@pytest.mark.filterwarnings("ignore:Object of type .* not in session")  # nbgrader's own add_submission
def test_nbgrader_gradebook_exports_after_late_penalties_and_blanks_manual_grading(tmp_path, monkeypatch, roster):
    """A real nbgrader gradebook: ann graded, bob waiting for a manual grade, EVIL late (penalty 5), zoe absent."""
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # nbgrader runs `alembic`
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.add_assignment("01_backprop")
        gradebook.add_notebook("01_backprop", "01_backprop")
        gradebook.add_grade_cell("check_dense", "01_backprop", "01_backprop", max_score=30, cell_type="code")
        gradebook.add_grade_cell("answer", "01_backprop", "01_backprop", max_score=8, cell_type="markdown")
        for student in ("ann", "bob", EVIL, "zoe"):
            gradebook.add_student(student)
        for student, auto, manual, penalty in (("ann", 30, 8, 0), ("bob", 20, None, 0), (EVIL, 30, 6, 5)):
            gradebook.add_submission("01_backprop", student)
            grade = gradebook.find_grade("check_dense", "01_backprop", "01_backprop", student)
            grade.auto_score, grade.needs_manual_grade = auto, False
            grade = gradebook.find_grade("answer", "01_backprop", "01_backprop", student)
            grade.manual_score, grade.needs_manual_grade = manual, manual is None
            gradebook.find_submission_notebook("01_backprop", "01_backprop", student).late_submission_penalty = penalty
        gradebook.db.commit()
    short = tmp_path / "roster.csv"
    short.write_text("\n".join(line for line in roster.read_text().splitlines()
                               if not line.startswith(("cat,", "gus,"))) + "\n")
    out = tmp_path / "canvas.csv"
    completed = dlcourse("export", "--nbgrader", str(course), "--assignment", "01_backprop", "--format", "canvas",
                         "--roster", str(short), "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    titles, points, students = read_like_canvas(out.read_text())
    assert titles == ["01_backprop"] and points == {"01_backprop": 38.0}
    assert {key: value["01_backprop"] for key, value in students.items()} == {"101": 38.0, "102": None,
                                                                              "105": 31.0, "106": None}
    assert "blank: bob: 01_backprop: needs manual grading in the formgrader" in completed.stderr
    completed = dlcourse("export", "--nbgrader", str(course), "--format", "csv", "--out", str(out))
    assert completed.returncode == 2 and "Expected at least one --assignment" in completed.stderr


def test_the_working_gradebook_neutralises_formulas_and_names_a_corrupt_notebook(graded):
    rows = list(csv.reader(io.StringIO((graded / "gradebook.csv").read_text())))
    header, body = rows[0], rows[1:]
    assert not any(cell.startswith(("=", "+", "@")) for row in body for cell in row)
    names = [row[0] for row in body]
    assert "'=SUM(1+1)" in names
    cat = next(row for row in body if row[0] == "cat")
    assert "scored 0" in cat[header.index("notes")], cat
