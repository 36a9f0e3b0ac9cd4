"""``dlcourse export``: grades as a file an LMS imports without editing (Canvas, Moodle, or a plain CSV).

The pipeline: read the grades (grade-batch's records, or an nbgrader gradebook) -> match each student
folder to the roster's LMS identifiers -> one column per assignment, numbers or blanks only -> write.

- Canvas (``lib/gradebook_importer.rb``): header ``Student, ID, SIS User ID, SIS Login ID, Section``,
  then one column per assignment (``Title (id)`` matches an existing Canvas assignment, a plain title
  creates one), a second row ``Points Possible`` with each assignment's maximum, then one row per student.
- Moodle (Grades > Import > CSV): the identifier column the import maps to a user field, then one
  column per grade item.
- csv: ``student`` (the folder) and one column per assignment, for any other importer.

A cell is a number or blank, never text: a notebook that was not graded (an infrastructure failure),
a notebook the grader could not read (corrupt), several notebooks competing for one assignment, or
no notebook at all, is a blank cell with its reason in ``Export.blanks``, so the instructor knows
which blanks need attention; a corrupt notebook is never a silent 0. Every text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (OWASP, CSV injection), so a
spreadsheet shows it as text instead of running it as a formula.

A student with grades but no roster row stops the export (nothing is written): an import that quietly
leaves a student out is the mistake this command exists to prevent. Roster students with no grades
get blank cells.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from dlcourse.autograder.course.choice import choose
from dlcourse.autograder.course.records import Record, RecordStatus
from dlcourse.autograder.course.roster import CANVAS_COLUMNS, CANVAS_REQUIRED, Roster
from dlcourse.autograder.engine.atomic import write_atomically

FORMATS = ("canvas", "moodle", "csv")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: what a spreadsheet may run as a formula
POINTS_POSSIBLE = "Points Possible"
NOT_GRADED = "not graded"  # what a blank says of a record that is not a grade


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it but never evaluates it: a leading ``'`` when it starts like a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@dataclass
class Grades:
    """What an export is made from, whatever the source.

    Attributes:
        assignments: ``{assignment: points possible}``, in column order.
        students: every student folder with grades (or a notebook), sorted.
        scores: ``{(student, assignment): score}`` for each cell that has a number.
        blanks: ``{(student, assignment): reason}`` for each cell left blank because something needs attention.
        notes: problems not tied to one cell (a record that cannot be read, a notebook of no assignment).
    """

    assignments: dict[str, float] = field(default_factory=dict)
    students: list[str] = field(default_factory=list)
    scores: dict[tuple[str, str], float] = field(default_factory=dict)
    blanks: dict[tuple[str, str], str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Export:
    """One export.

    Attributes:
        text: the file's content (empty when ``unlisted`` is not).
        rows: the students it has a row for, in order.
        blanks: ``[(student, assignment, reason)]``: blank cells the instructor should look at.
        unlisted: student folders with grades but no roster row: nothing is written while any remain.
        notes: problems not tied to one cell.
        out: where it was written (None when it was not).
    """

    text: str
    rows: list[str]
    blanks: list[tuple[str, str, str]]
    unlisted: list[str]
    notes: list[str]
    out: Path | None = None


# ----------------------------------------------------------------------------- reading the grades

def grades_from_records(graded: Path, only: list[str] | None = None) -> Grades:
    """The grades in grade-batch's output folder (``graded/results/<student>/<notebook>.json``).

    The notebook that counts for an assignment follows ``choice.choose``, as in ``gradebook.csv``.
    Points possible come from the course's assignments (a not-graded record carries no maximum).

    Args:
        graded: the folder given to ``grade-batch --out``.
        only: export only these assignments (default: every assignment that has a record).

    Raises:
        ValueError: no ``results/`` folder, or an assignment in ``only`` with no record.
    """
    from dlcourse.autograder.cases import ASSIGNMENTS

    results = graded / "results"
    if not results.is_dir():
        raise ValueError(f"Expected the output folder of `dlcourse grade-batch` (with a results/ folder). "
                         f"Received {graded}.")
    grades = Grades()
    by_key: dict[tuple[str, str], list[Record]] = {}
    students: set[str] = {path.name for path in results.iterdir() if path.is_dir()}
    for path in sorted(results.rglob("*.json")):
        try:
            record = Record.from_json(path.read_text())
            student, assignment = record.student, record.assignment
        except (OSError, ValueError, KeyError, TypeError) as error:
            grades.notes.append(f"{path.relative_to(results)}: an unreadable record ({type(error).__name__}): "
                                "run grade-batch again")
            continue
        students.add(student)
        if not assignment:
            grades.notes.append(f"{student}: {record.submission}: {record.error or 'no assignment'}")
            continue
        by_key.setdefault((student, assignment), []).append(record)
    present = sorted({assignment for _, assignment in by_key})
    unknown = sorted(set(only or ()) - set(present))
    if unknown:
        raise ValueError(f"Expected assignments that have records in {results} ({', '.join(present) or 'none'}). "
                         f"Received {', '.join(unknown)}.")
    for assignment in (only or present):
        maxima = [r.max_score or 0.0 for (_, a), rs in by_key.items() if a == assignment for r in rs]
        known = ASSIGNMENTS.get(assignment)
        grades.assignments[assignment] = float(known.max_score if known else max(maxima, default=0.0))
    grades.students = sorted(students)
    for (student, assignment), candidates in by_key.items():
        if assignment not in grades.assignments:
            continue
        chosen, reason = choose(assignment, [record.submission for record in candidates])
        record = next((r for r in candidates if r.submission == chosen), None)
        if record is None:
            grades.blanks[student, assignment] = reason
        elif record.status is RecordStatus.NOT_GRADED:
            grades.blanks[student, assignment] = f"{record.submission}: {record.error or NOT_GRADED}"
        elif (unreadable := unreadable_reason(record)) is not None:
            grades.blanks[student, assignment] = f"{record.submission}: the grader could not read it ({unreadable})"
        else:
            grades.scores[student, assignment] = float(record.score)
    return grades


def unreadable_reason(record: Record) -> str | None:
    """Why the grader could not read a recorded notebook (invalid JSON, too large, ...), or None.

    Such a notebook is recorded with every unit in error for one reason, which is also the notebook's
    first notice (``Grader._unreadable``): a score of 0 that no case produced.
    """
    units = record.units
    if not units or any(unit.get("status") != "error" for unit in units):
        return None
    reasons = {str(unit.get("message", "")).partition(": ")[2] for unit in units}
    notices = str(record.results.get("output", "")).splitlines()
    reason = reasons.pop() if len(reasons) == 1 else None
    return reason if reason and reason in notices else None


def grades_from_nbgrader(folder: Path, assignments: list[str]) -> Grades:
    """The grades in an nbgrader course's gradebook, after late penalties (as ``nbgrader export`` computes them).

    A submission that still needs manual grading is blank, with that reason.

    Args:
        folder: the course folder (where ``nbgrader_config.py`` is).
        assignments: the assignment ids to export, in column order.

    Raises:
        ValueError: no assignment given, or a configuration or assignment nbgrader cannot use.
    """
    from nbgrader.api import MissingEntry

    from dlcourse.autograder.course.nbgrader_config import load_course

    if not assignments:
        raise ValueError("Expected at least one --assignment to export from the nbgrader gradebook. Received none.")
    grades = Grades()
    students: set[str] = set()
    for assignment in assignments:
        course = load_course(folder, assignment)
        with course.gradebook() as gradebook:
            grades.assignments[assignment] = float(gradebook.find_assignment(assignment).max_score)
            for student in gradebook.students:
                students.add(student.id)
                try:
                    submission = gradebook.find_submission(assignment, student.id)
                except MissingEntry:
                    continue
                if submission.needs_manual_grade:
                    grades.blanks[student.id, assignment] = "needs manual grading in the formgrader"
                    continue
                penalty = float(submission.late_submission_penalty or 0.0)
                grades.scores[student.id, assignment] = max(0.0, float(submission.score) - penalty)
    grades.students = sorted(students)
    return grades


# ----------------------------------------------------------------------------- writing them

def build_export(grades: Grades, format: str, roster: Roster | None = None,
                 canvas_ids: dict[str, str] | None = None, id_field: str = "email") -> Export:
    """The export file for ``format``, or the students the roster lacks.

    Args:
        format: "canvas", "moodle" or "csv".
        roster: required for canvas and moodle; for csv, it only orders and completes the rows.
        canvas_ids: ``{assignment: Canvas assignment id}``: those columns read ``Title (id)`` and update the
            existing Canvas assignment; the others are created by the import.
        id_field: for moodle, the roster column the import matches users on (default "email").

    Raises:
        ValueError: an unknown format, a missing roster or roster column, a roster row without an identifier,
            or a Canvas id for an assignment that is not exported.
    """
    if format not in FORMATS:
        raise ValueError(f"Expected a format among {', '.join(FORMATS)}. Received {format!r}.")
    if roster is None and format != "csv":
        raise ValueError(f"Expected a --roster for the {format} format (it maps student folders to "
                         f"{format.capitalize()}'s identifiers). Received none.")
    canvas_ids = canvas_ids or {}
    extra = sorted(set(canvas_ids) - set(grades.assignments))
    if extra:
        raise ValueError(f"Expected Canvas ids for exported assignments ({', '.join(grades.assignments)}). "
                         f"Received ids for {', '.join(extra)}.")
    rows = list(roster.rows) if roster else []
    unlisted = [student for student in grades.students if student not in rows]
    if roster is not None and unlisted:
        return Export("", [], [], unlisted, list(grades.notes))
    rows += [student for student in grades.students if student not in rows]
    blanks = []
    for student in rows:
        for assignment in grades.assignments:
            if (student, assignment) in grades.scores:
                continue
            reason = grades.blanks.get((student, assignment), "no notebook")
            blanks.append((student, assignment, reason))
    writer = {"canvas": _canvas, "moodle": _moodle, "csv": _plain}[format]
    buffer = io.StringIO()
    writer(csv.writer(buffer, lineterminator="\r\n"), grades, rows, roster, canvas_ids, id_field)
    return Export(buffer.getvalue(), rows, blanks, [], list(grades.notes))


def _scores(grades: Grades, student: str) -> list[str]:
    return [_number(grades.scores[student, a]) if (student, a) in grades.scores else "" for a in grades.assignments]


def _number(value: float) -> str:
    return f"{value:g}"


def _canvas(writer, grades: Grades, rows: list[str], roster: Roster, canvas_ids: dict[str, str], _id_field) -> None:
    roster.require(CANVAS_REQUIRED)
    for student in rows:
        if not any(roster.value(student, column) for column in ("ID", "SIS User ID", "SIS Login ID")):
            raise ValueError(f"Expected an ID, SIS User ID or SIS Login ID for every roster row (Canvas matches "
                             f"students on them). Received none for {student!r} in {roster.path}.")
    titles = [f"{name} ({canvas_ids[name]})" if name in canvas_ids else name for name in grades.assignments]
    writer.writerow([*CANVAS_COLUMNS, *titles])
    writer.writerow([POINTS_POSSIBLE, *[""] * (len(CANVAS_COLUMNS) - 1), *map(_number, grades.assignments.values())])
    for student in rows:
        writer.writerow([neutralise(roster.value(student, column)) for column in CANVAS_COLUMNS]
                        + _scores(grades, student))


def _moodle(writer, grades: Grades, rows: list[str], roster: Roster, _canvas_ids, id_field: str) -> None:
    roster.require([id_field])
    column = roster.column(id_field)
    for student in rows:
        if not roster.value(student, column):
            raise ValueError(f"Expected a value in the roster's {column!r} column for every student (Moodle matches "
                             f"users on it). Received none for {student!r} in {roster.path}.")
    writer.writerow([neutralise(column), *grades.assignments])
    for student in rows:
        writer.writerow([neutralise(roster.value(student, column)), *_scores(grades, student)])


def _plain(writer, grades: Grades, rows: list[str], _roster, _canvas_ids, _id_field) -> None:
    writer.writerow(["student", *grades.assignments])
    for student in rows:
        writer.writerow([neutralise(student), *_scores(grades, student)])


def export_grades(grades: Grades, format: str, out: Path, roster: Roster | None = None,
                  canvas_ids: dict[str, str] | None = None, id_field: str = "email") -> Export:
    """``build_export``, written to ``out`` atomically when every student is in the roster (else nothing is written)."""
    result = build_export(grades, format, roster, canvas_ids, id_field)
    if not result.unlisted:
        write_atomically(out, result.text)
        result.out = out
    return result
