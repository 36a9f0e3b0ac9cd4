"""``dlcourse gradebook``: grade an nbgrader course's submissions with dlcourse, in place of ``nbgrader autograde``.

The pipeline, for one assignment:

    load_course          the course's nbgrader configuration, read as nbgrader's apps read it
    plan                 who needs grading: new or changed notebooks, a new grader fingerprint,
                         grades that nbgrader's own autograde replaced, everyone with --force
                         (--student limits the run to those students, by the same rule)
    grade_batch          dlcourse's sandboxed grading of those notebooks (local workers or Dask)
    autograde_student    nbgrader's own Autograde converter writes autograded/<student>/<assignment>/,
                         records the submission and its timestamp, saves the scores and applies the
                         course's late-submission plugin (see ``nbgrader_autograded``)
    rows                 one summary row per student, read back from nbgrader's gradebook

What was graded, and under which grader fingerprint, is kept in ``<root>/dlcourse-grading/<assignment>/``
(``state/<student>.json`` beside the batch records), with what dlcourse wrote (each grade cell's auto
score and the digest of each autograded notebook), so a rerun regrades exactly the students whose
notebooks, timestamp, grading cases or grader changed, and those whose grades ``nbgrader autograde``
(the formgrader's Autograde button) replaced. Afterwards nbgrader's own
``generate_feedback``, ``release_feedback`` and ``fetch_feedback`` work unchanged.
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SAWarning

from dlcourse.autograder.course.batch import Settings, grade_batch
from dlcourse.autograder.course.feedback import feedback_html
from dlcourse.autograder.course.nbgrader_config import Course, CourseConfigError, load_course
from dlcourse.autograder.course.nbgrader_plan import Plan, plan
from dlcourse.autograder.course.records import Record, RecordStatus


OUT_FOLDER = "dlcourse-grading"  # not an importable name: nbgrader puts the course folder on sys.path


@dataclass
class Row:
    """One student's line in the summary.

    Attributes:
        status: "graded" (first time), "regraded", "up to date", "scored 0" or "not graded".
        score: the score after the late penalty (None when the gradebook has none).
        seconds_late: how late the submission was, per the gradebook's due date and extensions.
        penalty: the late-submission penalty the course's plugin assigned.
        notes: one line each: what went wrong, or what nbgrader said about this student.
    """

    student: str
    status: str
    score: float | None = None
    max_score: float | None = None
    seconds_late: float = 0.0
    penalty: float = 0.0
    notes: list[str] = field(default_factory=list)


def grade_course(course: Course | Path, assignment: str, secret: str, students: list[str] | None = None,
                 force: bool = False, workers: int = 1, scheduler: str | None = None, feedback: bool = False,
                 isolation: str | None = None, progress=None, on_total=None) -> list[Row]:
    """Grade ``assignment`` of an nbgrader course; return one row per student.

    Args:
        course: the course folder (where ``nbgrader_config.py`` is), or a course ``load_course`` returned.
        assignment: the assignment id in nbgrader's gradebook.
        secret: the grader's secret (hidden cases).
        students: grade only these students (each regraded only if needed); default: everyone who submitted.
        force: regrade even students whose grades are up to date.
        workers: local grading processes; ignored with ``scheduler`` (a Dask address).
        feedback: also write dlcourse's HTML feedback into nbgrader's ``feedback/`` layout.
        isolation: the sandbox level (default: ``$DLCOURSE_ISOLATION``, else the strongest that works).
        progress: ``advance(n, description)``, e.g. a rich progress bar's.
        on_total: called once with the number of notebooks about to be graded.

    Raises:
        CourseConfigError: the configuration, database or assignment cannot be used, or a student named
            in ``students`` did not submit (nothing changed).
    """
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own session warnings, not the user's
    warnings.filterwarnings("ignore", message="Cell is missing an id field")  # cells nbgrader adds back
    if not isinstance(course, Course):
        course = load_course(course, assignment)
    out = course.root / OUT_FOLDER / assignment
    plans = plan(course, assignment, out, _fingerprint(secret, assignment), students, force)
    todo = [p for p in plans if p.regrade and p.notebooks and not p.unreadable and not p.problem]
    if on_total:
        on_total(sum(len(p.notebooks) for p in todo))
    records = _grade_notebooks(todo, out, secret, workers, scheduler, isolation, progress)
    return [_finish(course, assignment, item, out, records, feedback) for item in plans]


# ----------------------------------------------------------------------------- grading

def _grade_notebooks(todo: list[Plan], out: Path, secret: str, workers: int, scheduler: str | None,
                     isolation: str | None, progress) -> dict[tuple[str, str], Record]:
    """Grade the planned students' notebooks with ``grade_batch``; ``{(student, notebook id): record}``.

    The batch reads a mirror, ``out/submissions/<student>/<notebook>.ipynb`` (so any nbgrader directory
    structure works), and regrades exactly the planned students (``force`` and ``students``).
    """
    if not todo:
        return {}
    inbox = out / "submissions"
    for item in todo:
        mirror = inbox / item.student
        if mirror.is_dir():
            shutil.rmtree(mirror)
        mirror.mkdir(parents=True)
        for path in item.notebooks:
            shutil.copyfile(path, mirror / path.name)
    planned = [item.student for item in todo]
    try:
        report = grade_batch(inbox, out, Settings(secret, workers=workers, scheduler=scheduler, isolation=isolation),
                             progress=progress, force=True, students=planned)
    except OSError as error:
        if not scheduler:
            raise
        raise CourseConfigError(f"Expected a Dask scheduler that answers at {scheduler}. Received: "
                                f"{type(error).__name__}: {error}") from None
    return {(record.student, Path(record.submission).stem): record for record in report.records
            if record.student in planned}


def _not_graded_reason(record: Record) -> str | None:
    """Why a record is not a grade (the grader failed, not the student), or None for a grade."""
    if record.status is RecordStatus.NOT_GRADED:
        return f"not graded: {record.reason or record.error or 'grader failure'}"
    return None


# ----------------------------------------------------------------------------- nbgrader side

def _finish(course: Course, assignment: str, item: Plan, out: Path, records: dict, feedback: bool) -> Row:
    """Write the student's grades (if planned) and return their row, read back from the gradebook."""
    from nbgrader.converters import NbGraderException

    row = Row(item.student, "up to date", notes=list(item.notes))
    if item.problem:
        row.status, row.notes = "not graded", row.notes + [item.problem]
        return row
    if item.regrade and item.unreadable:
        _score_unreadable(course, assignment, item)
        row.status = "scored 0"
        row.notes += [f"{reason}: scored 0; no autograded/ folder (nbgrader cannot open it either)"
                      for _, reason in item.unreadable]
        _write_state(course, assignment, out, item)
    elif item.regrade:
        own = {path.stem: records.get((item.student, path.stem)) for path in item.notebooks}
        missing = [name for name, record in own.items() if record is None]
        failures = [_not_graded_reason(record) for record in own.values() if record is not None]
        failures = [reason for reason in failures if reason]
        if missing or failures:
            row.status = "not graded"
            row.notes += failures + [f"no dlcourse result for {name}.ipynb" for name in missing]
            return row
        logged = len(course.messages)
        unchanged = bool(item.previous) and item.previous.get("notebooks") == item.state["notebooks"]
        try:
            from dlcourse.autograder.course.nbgrader_autograded import autograde_student

            row.notes += autograde_student(course, assignment, item.student, own, unchanged)
        except NbGraderException:
            row.status = "not graded"
            row.notes.append("nbgrader: " + _nbgrader_error(course.messages[logged:]))
            return row
        row.status = "graded" if item.previous is None else "regraded"
        _write_state(course, assignment, out, item)
        for record in own.values():
            if record.error:
                row.notes.append(record.error)
        if feedback:
            _write_feedback(course, assignment, item.student, own)
    _read_scores(course, assignment, row)
    return row


def _fingerprint(secret: str, assignment: str) -> str:
    """What this assignment's grades depend on (``fingerprint.assignment_fingerprint``): a change to another
    assignment's cases regrades nobody here."""
    from dlcourse.autograder.cases import MODULES
    from dlcourse.autograder.engine.fingerprint import assignment_fingerprint, grader_fingerprint

    return assignment_fingerprint(secret, MODULES[assignment]) if assignment in MODULES else grader_fingerprint(secret)


def _nbgrader_error(messages: list[str]) -> str:
    """nbgrader's reason in one line: the error line of a traceback it logged (a plugin that raised, say),
    else its first error message that is not a pointer to the traceback."""
    for message in messages:
        if message.startswith("ERROR") and "Traceback (most recent call last)" in message:
            lines = [line.strip() for line in message.splitlines() if line.strip()]
            return lines[-1]
    said = [line.split(": ", 1)[1] for line in messages if line.startswith("ERROR") and "error processing" not in line
            and "see the" not in line.lower()]
    return said[0].splitlines()[0] if said else "autograde failed"


def _score_unreadable(course: Course, assignment: str, item: Plan) -> None:
    """0 for every grade cell of a notebook nbgrader cannot read; the submission and its timestamp recorded.

    An earlier ``autograded/`` folder goes (as nbgrader's own converter removes a failed one), so the
    formgrader does not show an older notebook beside the new score.
    """
    from nbgrader.utils import rmtree

    folder = course.autograded_folder(item.student, assignment)
    if folder.is_dir():
        rmtree(str(folder))
    with course.gradebook() as gradebook:
        gradebook.update_or_create_student(item.student)
        options = {"timestamp": item.state["timestamp"]} if item.state.get("timestamp") else {}
        gradebook.update_or_create_submission(assignment, item.student, **options)
        for path, _ in item.unreadable:
            notebook = gradebook.find_submission_notebook(path.stem, assignment, item.student)
            for grade in notebook.grades:
                grade.auto_score = 0.0
                grade.needs_manual_grade = False
        gradebook.db.commit()


def _write_state(course: Course, assignment: str, out: Path, item: Plan) -> None:
    """What was graded (``item.state``) and what that wrote (``written``: see ``nbgrader_drift``)."""
    from dlcourse.autograder.course.nbgrader_drift import written
    from dlcourse.autograder.engine.atomic import write_atomically

    state = {**item.state, "written": written(course, assignment, item.student)}
    write_atomically(out / "state" / f"{item.student}.json", json.dumps(state, indent=1))


def _read_scores(course: Course, assignment: str, row: Row) -> None:
    from nbgrader.api import MissingEntry

    with course.gradebook() as gradebook:
        try:
            submission = gradebook.find_submission(assignment, row.student)
        except MissingEntry:
            return
        row.penalty = float(submission.late_submission_penalty or 0.0)
        row.score = float(submission.score) - row.penalty
        row.max_score = float(submission.max_score)
        row.seconds_late = float(submission.total_seconds_late or 0.0)


def _write_feedback(course: Course, assignment: str, student: str, records: dict) -> None:
    """dlcourse's HTML feedback as ``feedback/<student>/<assignment>/<notebook>.html``, ready for release_feedback."""
    target = course.feedback_folder(student, assignment)
    source = course.autograded_folder(student, assignment)
    target.mkdir(parents=True, exist_ok=True)
    for name in ("timestamp.txt", "submission_secret.txt"):
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)
    for notebook, record in records.items():
        (target / f"{notebook}.html").write_text(feedback_html(student, [record]), encoding="utf-8")


# ----------------------------------------------------------------------------- for --similarity DIR

def graded_notebooks(course: Course, assignment: str) -> tuple[Path, list[Record]]:
    """The folder where each student's graded notebooks are kept (``submissions/<student>/``, as the batch read
    them; ``dlcourse similarity`` reads them there) and the batch's records of them."""
    out = course.root / OUT_FOLDER / assignment
    records = []
    for path in sorted((out / "results").glob("*/*.json")):
        try:
            records.append(Record.from_json(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out / "submissions", records


def released_notebooks(course: Course, assignment: str) -> list[Path]:
    """The notebooks nbgrader released for ``assignment`` (``release/<assignment>/``): the students' stubs."""
    folder = Path(course.coursedir.format_path(course.coursedir.release_directory, ".", assignment))
    return sorted(folder.glob("*.ipynb"))


def print_rows(rows: list[Row], assignment: str, console) -> None:
    """The summary table: student, score, late, status; then each note on its own line."""
    from rich.table import Table

    table = Table(title=f"{assignment}: {len(rows)} students")
    for column in ("student", "score", "late", "status"):
        table.add_column(column)
    for row in rows:
        score = f"{row.score:g} / {row.max_score:g}" if row.score is not None else "-"
        late = ""
        if row.seconds_late > 0:
            late = f"{_duration(row.seconds_late)} late" + (f", penalty {row.penalty:g}" if row.penalty else "")
        table.add_row(row.student, score, late, row.status)
    console.print(table)
    for row in rows:
        for note in row.notes:
            console.print(f"{row.student}: {note}", markup=False, highlight=False, soft_wrap=True)


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.2g} s"
