"""Batch grading an instructor can rerun and trust: records' fingerprints, discovery, notebook choice, "not graded",
a rerun that grades only what changed, and a batch killed with ``kill -9`` that resumes where it stopped."""

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
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.course.batch import Settings, discover, gradebook_csv, grade_batch
from dlcourse.autograder.course.choice import choose
from dlcourse.autograder.course.discovery import survey
from dlcourse.autograder.course.records import Record, file_digest
from dlcourse.autograder.engine.fingerprint import grader_fingerprint
from conftest import ASSIGNMENTS_DIR, EXAMPLES, SOLUTIONS, TEST_SECRET

BIN = Path(sys.executable).parent
BACKPROP = ASSIGNMENTS["01_backprop"]


def read_csv(path: Path) -> dict[str, dict]:
    return {row["student"]: row for row in csv.DictReader(io.StringIO(path.read_text()))}


def zip_with(target: Path, members: dict[str, bytes]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


# ----------------------------------------------------------------------------- discovery and the CSV

@pytest.fixture(scope="module")
def classroom(tmp_path_factory) -> Path:
    """ann: the solution; bob: only an LMS zip; cat: only .py; dan: nothing; eve: odd entries and the
    untouched assignment; fay: two unnamed notebooks; gus: a corrupt zip member (unreadable)."""
    root = tmp_path_factory.mktemp("submitted")
    solution = (SOLUTIONS / "01_backprop.ipynb").read_bytes()
    (root / "ann").mkdir()
    (root / "ann" / "01_backprop.ipynb").write_bytes(solution)
    zip_with(root / "bob" / "submissions.zip", {"bob_123/01_backprop.ipynb": solution, "__MACOSX/._x.ipynb": b""})
    (root / "cat").mkdir()
    (root / "cat" / "layers.py").write_text("x = 1\n")
    (root / "dan").mkdir()
    (root / "eve" / "01_backprop.ipynb").mkdir(parents=True)
    (root / "eve" / "old.ipynb").symlink_to(root / "eve" / "missing.ipynb")
    (root / "eve" / "hw").mkdir()
    shutil.copy(ASSIGNMENTS_DIR / "01_backprop.ipynb", root / "eve" / "hw" / "01_backprop.ipynb")
    (root / "fay").mkdir()
    for name in ("a.ipynb", "b.ipynb"):
        (root / "fay" / name).write_bytes(solution)
    os.mkfifo(root / "fay" / "pipe.ipynb")
    corrupt = zip_with(root / "gus" / "bundle.zip", {"01_backprop.ipynb": solution})
    data = bytearray(corrupt.read_bytes())
    where = data.index(b'"cells"')  # stored uncompressed: flip a byte of the member's data, not its header
    data[where] ^= 0x20
    corrupt.write_bytes(bytes(data))
    return root


def test_survey_reports_odd_entries_and_keeps_every_student(classroom):
    found = survey(classroom)
    assert found.students == ["ann", "bob", "cat", "dan", "eve", "fay", "gus"]
    labels = {(s.student, s.label) for s in found.submissions}
    assert labels == {("ann", "01_backprop.ipynb"), ("bob", "submissions.zip/bob_123/01_backprop.ipynb"),
                      ("eve", "hw/01_backprop.ipynb"), ("fay", "a.ipynb"), ("fay", "b.ipynb"),
                      ("gus", "bundle.zip/01_backprop.ipynb")}
    assert found.notes["cat"] == ["nothing to grade: no .ipynb notebook (found 1 .py)"]
    assert found.notes["dan"] == ["nothing to grade: an empty folder"]
    assert "skipped 01_backprop.ipynb: a folder, not a notebook" in found.notes["eve"]
    assert "skipped old.ipynb: a link to nothing" in found.notes["eve"]
    assert found.notes["fay"] == ["skipped pipe.ipynb: not a regular file"]


@pytest.fixture(scope="module")
def graded(classroom, tmp_path_factory, reference_cache):
    out = tmp_path_factory.mktemp("graded")
    return grade_batch(classroom, out, Settings(TEST_SECRET, cache=reference_cache.folder, figures=False)), out


def test_batch_grades_zips_notes_odd_entries_and_never_drops_a_student(graded):
    report, out = graded
    rows = read_csv(out / "gradebook.csv")
    assert sorted(rows) == ["ann", "bob", "cat", "dan", "eve", "fay", "gus"]
    assert float(rows["ann"]["total"]) == float(rows["bob"]["total"]) == BACKPROP.max_score
    assert float(rows["eve"]["total"]) == 0 and "a link to nothing" in rows["eve"]["notes"]
    assert "nothing to grade: no .ipynb notebook" in rows["cat"]["notes"]
    assert "nothing to grade: an empty folder" in rows["dan"]["notes"]


def test_several_candidate_notebooks_are_named_never_summed_nor_the_best_taken(graded):
    _, out = graded
    fay = read_csv(out / "gradebook.csv")["fay"]
    assert fay["01_backprop"] == fay["total"] == "not graded"
    assert "several notebooks could be 01_backprop (a.ipynb, b.ipynb)" in fay["notes"]


def test_an_unreadable_notebook_is_not_graded_never_a_zero_and_is_retried(graded, classroom, reference_cache):
    report, out = graded
    gus = read_csv(out / "gradebook.csv")["gus"]
    assert gus["total"] == gus["01_backprop"] == "not graded"
    assert "cannot read bundle.zip/01_backprop.ipynb" in gus["notes"]
    assert [name for name, _ in report.not_graded] == ["gus/bundle.zip/01_backprop.ipynb"]
    record = json.loads((out / "results" / "gus" / "bundle.zip" / "01_backprop.ipynb.json").read_text())
    assert record["status"] == "not graded" and record["units"] == []
    assert "Not graded: cannot read bundle.zip/01_backprop.ipynb" in (out / "feedback" / "gus.html").read_text()
    again = grade_batch(classroom, out, Settings(TEST_SECRET, cache=reference_cache.folder, figures=False))
    assert again.graded == 1 and again.skipped == 5  # only the not-graded notebook is tried again


def test_a_record_reads_back_to_the_bytes_it_was_written_as(graded):
    _, out = graded
    texts = [path.read_text() for path in sorted((out / "results").rglob("*.json"))]
    assert {Record.from_json(text).status for text in texts} == {"graded", "not graded"}
    assert all(Record.from_json(text).to_json() == text for text in texts)


def test_records_carry_the_fingerprint_and_a_new_secret_regrades_everything(graded, classroom, reference_cache):
    _, out = graded
    record = json.loads((out / "results" / "ann" / "01_backprop.ipynb.json").read_text())
    assert record["fingerprint"] == grader_fingerprint(TEST_SECRET) and record["status"] == "graded"
    assert record["score"] == record["max_score"] == BACKPROP.max_score
    settings = Settings(TEST_SECRET, cache=reference_cache.folder, figures=False)
    other = grade_batch(classroom, out, replace(settings, secret=TEST_SECRET + "-rotated"), students=["ann"])
    assert other.graded == 1 and other.skipped == 0
    back = grade_batch(classroom, out, settings, students=["ann"])
    assert back.graded == 1  # graded under the rotated secret: stale again
    same = grade_batch(classroom, out, settings, students=["ann"])
    assert same.graded == 0 and same.skipped == 1
    forced = grade_batch(classroom, out, settings, students=["ann", "eve"], force=True)
    assert forced.graded == 2 and forced.skipped == 0
    assert sorted(read_csv(out / "gradebook.csv")) == ["ann", "bob", "cat", "dan", "eve", "fay", "gus"]


def test_an_unknown_student_is_a_clear_error(classroom, tmp_path):
    with pytest.raises(ValueError, match="Received unknown: zed"):
        grade_batch(classroom, tmp_path, Settings(TEST_SECRET), students=["zed"])


def test_a_grader_failure_is_retried_then_not_graded(tmp_path, reference_cache):
    """A reference cache that cannot be written (a file where the folder should be) fails every attempt."""
    root = tmp_path / "submitted"
    (root / "ann").mkdir(parents=True)
    shutil.copy(SOLUTIONS / "01_backprop.ipynb", root / "ann" / "01_backprop.ipynb")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    report = grade_batch(root, tmp_path / "out", Settings(TEST_SECRET, cache=blocked, figures=False, retries=1))
    (name, reason), = report.not_graded
    assert name == "ann/01_backprop.ipynb" and reason.startswith("grader error: ")
    row = read_csv(tmp_path / "out" / "gradebook.csv")["ann"]
    assert row["total"] == "not graded" and "not graded: grader error" in row["notes"]
    fixed = grade_batch(root, tmp_path / "out", Settings(TEST_SECRET, cache=reference_cache.folder, figures=False))
    assert fixed.graded == 1 and not fixed.not_graded
    assert float(read_csv(tmp_path / "out" / "gradebook.csv")["ann"]["total"]) == BACKPROP.max_score


def test_the_csv_takes_the_notebook_named_after_the_assignment():
    def record(label, score):
        return Record("s", label, assignment="01_backprop", score=score, results={"score": score})

    rows = read_csv_text(gradebook_csv([record("draft.ipynb", 38), record("final/01_backprop.ipynb", 12)]))
    assert rows["s"]["01_backprop"] == "12"
    assert choose("01_backprop", ["x.ipynb"]) == ("x.ipynb", None)
    assert choose("01_backprop", [])[0] is None


def read_csv_text(text: str) -> dict[str, dict]:
    return {row["student"]: row for row in csv.DictReader(io.StringIO(text))}


# ----------------------------------------------------------------------------- the command line

def dlcourse(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DLCOURSE_SECRET": TEST_SECRET}
    return subprocess.run([str(BIN / "dlcourse"), *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("command", [
    ["grade-batch", "{submissions}", "--out", "{blocked}/out"],
    ["grade", "{notebook}", "--json", "{blocked}/results.json"],
    ["grade", "{notebook}", "--json", "{folder}"],
    ["check", "{notebook}", "--json", "{blocked}/results.json"],
    ["gradescope", "build", "--assignment", "01_backprop", "--out", "{blocked}/autograder.zip"],
    ["gradescope", "grade", "{submissions}", "--assignment", "01_backprop", "--json", "{blocked}/results.json"],
    ["release", "--assignments", "{blocked}/assignments"],
])
def test_an_unwritable_output_is_exit_2_with_one_line(command, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    (tmp_path / "sub" / "ann").mkdir(parents=True)
    shutil.copy(ASSIGNMENTS_DIR / "01_backprop.ipynb", tmp_path / "sub" / "ann" / "01_backprop.ipynb")
    values = {"submissions": str(tmp_path / "sub"), "blocked": str(blocked), "folder": str(tmp_path),
              "notebook": str(tmp_path / "sub" / "ann" / "01_backprop.ipynb")}
    completed = dlcourse(*[part.format(**values) for part in command])
    output = (completed.stdout + completed.stderr).strip()
    assert completed.returncode == 2, output
    assert "Traceback" not in output and len(output.splitlines()) == 1, output
    assert output.startswith(("Expected", "dlcourse release: Not a directory")), output

# ----------------------------------------------------------------------------- a small class, rerun and resumed

def read_csv_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


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


@pytest.fixture(scope="module")
def four_students(tmp_path_factory) -> Path:
    return make_submissions(tmp_path_factory.mktemp("submitted"), {
        "ann": SOLUTIONS / "01_backprop.ipynb", "ben": EXAMPLES / "buggy" / "01_backprop.ipynb",
        "cat": "{ this is not a notebook", "dan": ASSIGNMENTS_DIR / "01_backprop.ipynb"})


@pytest.fixture(scope="module")
def batch(four_students, tmp_path_factory, reference_cache):
    out = tmp_path_factory.mktemp("batch")
    return grade_batch(four_students, out, Settings(TEST_SECRET, workers=2, cache=reference_cache.folder)), out


def test_batch_writes_a_record_per_notebook_a_csv_row_per_student_and_feedback(batch):
    report, out = batch
    assert report.graded == 4 and report.skipped == 0
    rows = {row["student"]: row for row in read_csv_rows(out / "gradebook.csv")}
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


def test_batch_rerun_grades_only_what_changed(batch, four_students, reference_cache):
    _, out = batch
    before = (out / "gradebook.csv").read_text()
    again = grade_batch(four_students, out, Settings(TEST_SECRET, cache=reference_cache.folder))
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
    assert len(read_csv_rows(interrupted / "gradebook.csv")) == len(layout)
    assert not list(interrupted.rglob("*.part"))


def test_discover_takes_the_student_from_the_first_folder():
    found = discover(EXAMPLES)
    assert [(s.student, s.label) for s in found] == [("buggy", "01_backprop.ipynb"), ("cheat", "01_backprop.ipynb"),
                                                     ("complete", "01_backprop.ipynb")]


# ----------------------------------------------------------------------------- behaviours kept from the single-file batch

def graded_as_seven(graded: list[str]):
    """A stand-in for ``grade_with_retries`` (no sandbox): every task scores 7, its student noted in ``graded``."""
    def grade(task, retries):
        graded.append(task.student)
        return Record(task.student, task.label, task.digest, assignment="01_backprop", score=7.0,
                      results={"score": 7.0}, fingerprint=grader_fingerprint(TEST_SECRET))
    return grade


@pytest.mark.parametrize("record", [
    lambda digest: "{ cut short",
    lambda digest: "[1, 2]",
    lambda digest: json.dumps({"submission": "01_backprop.ipynb", "sha256": digest, "status": "graded",
                               "fingerprint": grader_fingerprint(TEST_SECRET)}),
    lambda digest: json.dumps({"student": "bob", "submission": "01_backprop.ipynb", "sha256": digest,
                               "status": "lost", "assignment": "01_backprop", "score": 3.0}),
], ids=["not JSON", "not an object", "no student", "an unknown status"])
def test_a_malformed_record_is_no_record_graded_again_never_a_traceback(record, tmp_path, monkeypatch):
    """A results file that is not a record counts as none: its notebook is graded again, and until it is (another
    student named) the CSV reads "not graded yet". The single-file batch (6adde90) stopped with a traceback on
    a list or on a current record without a student, and counted an unknown status's score as a grade."""
    from dlcourse.autograder.course.batch import executors

    graded = []
    monkeypatch.setattr(executors, "grade_with_retries", graded_as_seven(graded))
    notebook = ASSIGNMENTS_DIR / "01_backprop.ipynb"
    root = make_submissions(tmp_path / "submitted", {"ann": notebook, "bob": notebook})
    out = tmp_path / "out"
    (out / "results" / "bob").mkdir(parents=True)
    (out / "results" / "bob" / "01_backprop.ipynb.json").write_text(record(file_digest(notebook)))
    grade_batch(root, out, Settings(TEST_SECRET), students=["ann"])
    bob = read_csv(out / "gradebook.csv")["bob"]
    assert graded == ["ann"] and bob["total"] == "not graded" and "not graded: not graded yet" in bob["notes"]
    again = grade_batch(root, out, Settings(TEST_SECRET))
    assert graded == ["ann", "bob"] and again.graded == 1 and again.skipped == 1
    assert read_csv(out / "gradebook.csv")["bob"]["total"] == "7"


def test_local_processes_drain_a_full_window_to_a_task_per_worker_before_topping_it_up(monkeypatch):
    """As the single-file batch did: 4 tasks per worker are submitted, then collected until one per worker is
    left, then the window is filled again; the last tasks are collected to none (not topped up task by task)."""
    from concurrent.futures import Future

    from dlcourse.autograder.course.batch import executors

    pending, seen = [0], []

    class Pool:  # every task finishes at once; what matters is when the executor submits and collects
        def __init__(self, **options):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, function, task, retries):
            seen.append(pending[0])
            pending[0] += 1
            future = Future()
            future.set_result(task)
            return future

    monkeypatch.setattr(executors, "ProcessPoolExecutor", Pool)
    records = []
    for record in executors.ProcessPool(workers=2, retries=0).run(range(22)):
        pending[0] -= 1
        records.append(record)
    assert sorted(records) == list(range(22))
    assert seen == [*range(8), *range(2, 8), *range(2, 8), 2, 3]  # pending before each submission
