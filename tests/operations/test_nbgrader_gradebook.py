"""``dlcourse gradebook`` in a real nbgrader course, in place of ``nbgrader autograde``.

One course for the module, built with nbgrader's own CLI and exchange in a temporary folder:
``generate_assignment``, ``release_assignment``, students who ``fetch_assignment`` and ``submit``
(nbgrader's exchange classes, in-process), ``collect``; then ``dlcourse gradebook``. Scores and
late penalties are read back through ``nbgrader export`` and nbgrader's ``Gradebook``; a Jupyter
server with nbgrader's formgrader is driven over HTTP; feedback goes through
``generate_feedback`` / ``release_feedback`` / ``fetch_feedback``.
"""

from __future__ import annotations

import copy
import csv
import datetime
import importlib.util
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from conftest import EXAMPLES, SOLUTIONS, TEST_SECRET

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nbgrader_course" / "build_course.py"
_spec = importlib.util.spec_from_file_location("build_course", EXAMPLE)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)  # the example course's own builder: the tests use the walkthrough's course

NAME = example.NAME
COURSE_ID = example.COURSE_ID
BACKPROP = ASSIGNMENTS[NAME]
WRITTEN = [cell for cell in example.source_notebook().cells if example.is_written_answer(cell)]
ANSWER_ID = WRITTEN[0].metadata["nbgrader"]["grade_id"]  # the one gus answers
WRITTEN_IDS = {cell.metadata["nbgrader"]["grade_id"] for cell in WRITTEN}
WRITTEN_POINTS = sum(float(cell.metadata["nbgrader"]["points"]) for cell in WRITTEN)
ON_TIME = ("ada", "ben", "cat", "dan", "eve", "gus", "hal", "ivy", "jon")
LATE = "fay"
ROSTER = [s for s in (*ON_TIME, LATE) if s != "jon"]  # jon is not in the gradebook


# ----------------------------------------------------------------------------- helpers

def env() -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DLCOURSE_SECRET": TEST_SECRET,
            "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}


def nbgrader(course: Path, *args: str) -> str:
    return example.nbgrader(course, *args)


def gradebook_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "dlcourse"), "gradebook", *args], cwd=cwd, env=env(), capture_output=True,
                          text=True, timeout=600)


cells_by_id = example.cells_by_id


def student_work(student: str, released) -> nbformat.NotebookNode | str | None:
    """What each student hands in (None: the notebook deleted; a str: bytes that are not a notebook)."""
    complete = example.with_code_from(released, SOLUTIONS / f"{NAME}.ipynb")
    if student in ("ada", "fay", "jon"):
        return complete
    if student == "ben":
        return copy.deepcopy(released)
    if student == "cat":
        return example.with_code_from(released, EXAMPLES / "buggy" / f"{NAME}.ipynb")
    if student == "dan":  # deleted a check cell
        complete.cells = [c for c in complete.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                          != "check_relu_forward"]
        return complete
    if student == "eve":  # renamed a check cell's grade_id and rewrote it
        cell = cells_by_id(complete)["check_dense_forward"]
        cell.metadata["nbgrader"]["grade_id"] = "my_check"
        cell.source = "print('all tests passed')"
        return complete
    if student == "gus":
        cells_by_id(complete)[ANSWER_ID].source = "The derivative of the sigmoid is small."
        return complete
    if student == "hal":
        return None
    if student == "ivy":
        return "{ this is not a notebook"
    raise AssertionError(student)


def fetch_and_submit(root: Path, student: str, home: Path) -> None:
    """The student's side, with nbgrader's exchange: fetch_assignment, edit, submit."""
    path = example.fetch(root, student, home)
    work = student_work(student, nbformat.read(str(path), as_version=4))
    if work is None:
        path.unlink()
    elif isinstance(work, str):
        path.write_text(work)
    else:
        nbformat.write(work, str(path))
    example.submit(root, student, home)


def read_csv(path: Path) -> dict[str, dict]:
    return {row["student_id"]: row for row in csv.DictReader(io.StringIO(path.read_text()))}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ----------------------------------------------------------------------------- the course

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course after students submitted and the instructor ran ``dlcourse gradebook 01_backprop``."""
    from nbgrader.api import Gradebook

    base = tmp_path_factory.mktemp("nbgrader")
    db = base / "course" / "grades" / "course.db"  # not the default gradebook.db: the config must be read
    root = example.create_course(base, db=db, extra_config="c.Autograde.create_student = False\n")
    with Gradebook(f"sqlite:///{db}", COURSE_ID) as gradebook:
        for student in ROSTER:
            gradebook.update_or_create_student(student)
    for student in ON_TIME:
        fetch_and_submit(root, student, base / "home" / student)
    due = datetime.datetime.now(datetime.timezone.utc)
    time.sleep(0.05)
    fetch_and_submit(root, LATE, base / "home" / LATE)
    with Gradebook(f"sqlite:///{db}", COURSE_ID) as gradebook:
        gradebook.update_or_create_assignment(NAME, duedate=due.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    nbgrader(root, "collect", NAME)
    started = time.perf_counter()
    graded = gradebook_cli(root, NAME)
    seconds = time.perf_counter() - started
    return {"root": root, "db": db, "base": base, "graded": graded, "seconds": seconds}


def test_gradebook_runs_and_summarises_every_student(course):
    graded = course["graded"]
    assert graded.returncode == 1, graded.stdout + graded.stderr  # hal and jon could not be graded
    assert "not graded: hal, jon (see the notes above); exit status 1" in graded.stdout
    out = graded.stdout
    assert "Traceback" not in out + graded.stderr
    for student in (*ON_TIME, LATE):
        assert student in out
    assert "hal: no notebook in" in out and f"expected {NAME}.ipynb" in out
    assert "ivy: 01_backprop.ipynb is not a readable notebook" in out
    assert "jon: not a student of the gradebook" in out
    assert "eve: cell 'my_check' is not in the gradebook: kept as an ordinary cell" in out
    assert not (course["root"] / "gradebook.db").exists()  # the configured database, not a stray one



@pytest.fixture(scope="module")
def buggy(course, grader):
    """The reference for the buggy student: dlcourse's engine on the submitted notebook, outside nbgrader."""
    return grader.grade(course["root"] / "submitted" / "cat" / NAME / f"{NAME}.ipynb", BACKPROP)


def test_scores_and_late_penalties_read_back_through_nbgrader_export(course, buggy):
    nbgrader(course["root"], "export", "--to", str(course["base"] / "grades.csv"))
    rows = read_csv(course["base"] / "grades.csv")
    full = BACKPROP.max_score
    assert 0 < buggy.score < full
    expected = {"ada": full, "ben": 0.0, "cat": buggy.score, "dan": full, "eve": full, "gus": full, "ivy": 0.0}
    for student, score in expected.items():
        assert float(rows[student]["raw_score"]) == pytest.approx(score), student
        assert float(rows[student]["score"]) == pytest.approx(score), student
        assert float(rows[student]["max_score"]) == full + WRITTEN_POINTS
    assert float(rows[LATE]["raw_score"]) == full  # graded in full, then the configured plugin: zero
    assert float(rows[LATE]["late_submission_penalty"]) == full and float(rows[LATE]["score"]) == 0
    assert float(rows["ada"]["late_submission_penalty"]) == 0
    assert "jon" not in rows


def test_each_check_cell_holds_the_units_score_and_needs_no_manual_grade(course, buggy):
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    units = {row["unit"]: row["score"] for row in buggy.units()}
    with Gradebook(f"sqlite:///{course['db']}", COURSE_ID) as gradebook:
        for student in ("ada", "cat", "dan", "eve", "gus"):
            notebook = gradebook.find_submission_notebook(NAME, NAME, student)
            submission = gradebook.find_submission(NAME, student)
            timestamp = (course["root"] / "submitted" / student / NAME / "timestamp.txt").read_text().strip()
            assert submission.timestamp == parse_utc(timestamp)
            for grade in notebook.grades:
                if grade.name in WRITTEN_IDS:
                    answered = student == "gus" and grade.name == ANSWER_ID
                    assert (grade.auto_score is None) == answered == bool(grade.needs_manual_grade), grade.name
                    assert answered or grade.auto_score == 0  # left as released
                    continue
                unit = grade.name.removeprefix("check_")
                expected = units[unit] if student == "cat" else grade.max_score
                assert grade.auto_score == pytest.approx(expected), (student, grade.name)
                assert not grade.needs_manual_grade, (student, grade.name)
        assert gradebook.find_submission(NAME, LATE).total_seconds_late > 0
        assert gradebook.find_submission(NAME, "ada").total_seconds_late == 0


def test_autograded_folders_are_nbgraders_with_dlcourse_messages_in_the_check_cells(course):
    root = course["root"]
    for student in ("ada", "ben", "cat", "dan", "eve", "fay", "gus"):
        folder = root / "autograded" / student / NAME
        for name in ("timestamp.txt", "submission_secret.txt"):
            assert (folder / name).read_text() == (root / "submitted" / student / NAME / name).read_text()
    assert not (root / "autograded" / "ivy").exists() and not (root / "autograded" / "hal").exists()
    cells = cells_by_id(nbformat.read(str(root / "autograded" / "cat" / NAME / f"{NAME}.ipynb"), as_version=4))
    failed = [cell for grade_id, cell in cells.items() if grade_id.startswith("check_")
              and cell.outputs and cell.outputs[0].output_type == "error"]
    assert failed and all("points" in cell.outputs[0].traceback[0] for cell in failed)
    restored = cells_by_id(nbformat.read(str(root / "autograded" / "dan" / NAME / f"{NAME}.ipynb"), as_version=4))
    assert "check_relu_forward" in restored  # deleted by the student, restored with its result
    assert "relu_forward: 2 / 2 points" in restored["check_relu_forward"].outputs[0].text
    renamed = nbformat.read(str(root / "autograded" / "eve" / NAME / f"{NAME}.ipynb"), as_version=4)
    restored = cells_by_id(renamed)["check_dense_forward"]
    assert restored.source.endswith("check(dense_forward)") and "added back by nbgrader" in restored.source
    assert "dense_forward: 3 / 3 points" in restored.outputs[0].text
    assert "my_check" not in cells_by_id(renamed)


@pytest.fixture(scope="module")
def formgrader(course):
    """A Jupyter server with nbgrader's server extension, on 127.0.0.1, a free port and a token."""
    port, token = free_port(), "dlcourse-test-token"
    server = subprocess.Popen(
        [str(BIN / "jupyter-server"), "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.root_dir={course['root']}", f"--IdentityProvider.token={token}",
         "--ServerApp.jpserver_extensions={'nbgrader': True}", "--ServerApp.port_retries=0", "--allow-root"],
        cwd=course["root"], env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def call(path: str, method: str = "GET", body: dict | None = None):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                call("/formgrader/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter server did not start: {server.stderr.read()[-2000:]}")
                time.sleep(0.3)
        yield call
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_formgrader_lists_submissions_as_autograded_and_offers_the_written_answer(course, formgrader):
    submissions = {item["student"]: item for item in formgrader(f"/formgrader/api/submissions/{NAME}")}
    for student in ("ada", "ben", "cat", "dan", "eve", "fay", "gus"):
        assert submissions[student]["autograded"], student
    assert submissions["ada"]["score"] == BACKPROP.max_score
    assert submissions[LATE]["score"] == BACKPROP.max_score  # the formgrader lists raw scores; export has the penalty
    assert submissions["ben"]["score"] == 0
    assert submissions["gus"]["needs_manual_grade"] and not submissions["ada"]["needs_manual_grade"]
    notebooks = {item["student"]: item for item in formgrader(f"/formgrader/api/submitted_notebooks/{NAME}/{NAME}")}
    assert notebooks["gus"]["needs_manual_grade"] and not notebooks["cat"]["needs_manual_grade"]
    grades = formgrader(f"/formgrader/api/grades?submission_id={notebooks['gus']['id']}")
    assert [g["name"] for g in grades if g["needs_manual_grade"]] == [ANSWER_ID]


def test_rerun_without_changes_regrades_nobody(course):
    again = gradebook_cli(course["root"], NAME)
    assert again.returncode == 1 and "not graded: hal, jon" in again.stdout, again.stdout + again.stderr
    lines = {line.split()[1]: line for line in again.stdout.splitlines() if line.startswith("│")}
    for student in ("ada", "ben", "cat", "dan", "eve", "fay", "gus", "ivy"):
        assert "up to date" in lines[student], lines[student]


def test_a_new_grader_fingerprint_plans_a_regrade_of_everyone(course):
    from dlcourse.autograder.course.nbgrader_config import load_course
    from dlcourse.autograder.course.nbgrader_course import OUT_FOLDER
    from dlcourse.autograder.course.nbgrader_plan import plan
    from dlcourse.autograder.cases import MODULES
    from dlcourse.autograder.engine.fingerprint import assignment_fingerprint

    loaded = load_course(course["root"], NAME)
    out = course["root"] / OUT_FOLDER / NAME
    now, moved = assignment_fingerprint(TEST_SECRET, MODULES[NAME]), assignment_fingerprint("another", MODULES[NAME])
    same = {p.student: p.regrade for p in plan(loaded, NAME, out, now, None, False)}
    other = {p.student: p.regrade for p in plan(loaded, NAME, out, moved, None, False)}
    gradable = ("ada", "ben", "cat", "dan", "eve", "fay", "gus", "ivy")
    assert not any(same[s] for s in gradable) and all(other[s] for s in gradable)


def test_feedback_reaches_the_student_through_nbgraders_exchange(course, buggy):
    import html as markup

    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchFeedback

    root = course["root"]
    nbgrader(root, "generate_feedback", NAME)
    html = (root / "feedback" / "cat" / NAME / f"{NAME}.html").read_text()
    units = buggy.units()
    passed = next(u for u in units if u["status"] == "passed")
    failed = next(u for u in units if u["status"] != "passed")
    assert f"{passed['unit']}: {passed['score']:g} / {passed['max_score']:g} points, every case passed" in html
    assert f"{failed['unit']}: {failed['score']:g} / {failed['max_score']:g} points ({failed['status']})" in html
    assert markup.escape(failed["message"].splitlines()[0], quote=False) in html
    nbgrader(root, "release_feedback", NAME)
    home = course["base"] / "home" / "cat"
    config = example.student_config(root, home)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = NAME, "cat"
    fetch = ExchangeFetchFeedback(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
    fetch.assignment_dir = str(home)
    fetch.start()
    fetched = list((course["base"] / "home" / "cat" / NAME / "feedback").glob(f"*/{NAME}.html"))
    assert len(fetched) == 1 and fetched[0].read_text() == html


def test_manual_grades_overrides_and_extra_credit_from_the_formgrader_survive_force(course, formgrader):
    notebooks = {item["student"]: item for item in formgrader(f"/formgrader/api/submitted_notebooks/{NAME}/{NAME}")}
    grades = {g["name"]: g for g in formgrader(f"/formgrader/api/grades?submission_id={notebooks['gus']['id']}")}
    entered = {ANSWER_ID: {"manual_score": 1.5}, "check_dense_forward": {"manual_score": 1.0},
               "check_relu_forward": {"extra_credit": 0.5}}
    for name, change in entered.items():
        formgrader(f"/formgrader/api/grade/{grades[name]['id']}", "PUT", {**grades[name], **change})
    again = gradebook_cli(course["root"], NAME, "--student", "gus", "--force")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "regraded" in next(line for line in again.stdout.splitlines() if "│ gus" in line)
    after = {g["name"]: g for g in formgrader(f"/formgrader/api/grades?submission_id={notebooks['gus']['id']}")}
    for name, change in entered.items():
        for key, value in change.items():
            assert after[name][key] == value, (name, key)
        assert not after[name]["needs_manual_grade"], name  # the auto scores they were entered against held
    submission = {s["student"]: s for s in formgrader(f"/formgrader/api/submissions/{NAME}")}["gus"]
    assert submission["autograded"]
    overridden = grades["check_dense_forward"]["max_score"]  # its auto score, replaced by the manual 1.0
    assert submission["score"] == pytest.approx(BACKPROP.max_score - overridden + 1.0 + 0.5 + 1.5)
