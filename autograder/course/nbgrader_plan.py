"""Who needs grading in an nbgrader course, and why: one ``Plan`` per student's submission folder.

A student is regraded when their notebooks (sha256), their ``timestamp.txt`` or the grader's
fingerprint differ from what was graded last time (``<out>/state/<student>.json``), when
nbgrader's formgrader would not list them as autograded, when nbgrader's own autograde replaced
what dlcourse wrote (``nbgrader_drift``), or with ``--force``. ``--student`` limits the run to the
students named, with the same rule; a named student who did not submit stops the run before
anything is written. Problems that stop one student (no notebook, a student the gradebook does not
have, a broken ``timestamp.txt``) are recorded here and never stop the others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dlcourse.autograder.course.nbgrader_config import Course, CourseConfigError
from dlcourse.autograder.course.nbgrader_drift import REPLACED, replaced
from dlcourse.autograder.course.records import file_digest


@dataclass
class Plan:
    """What to do with one student's submission folder."""

    student: str
    folder: Path
    notebooks: list[Path] = field(default_factory=list)  # readable notebooks the gradebook knows
    state: dict = field(default_factory=dict)
    previous: dict | None = None
    problem: str | None = None  # not graded at all
    regrade: bool = False
    unreadable: list[tuple[Path, str]] = field(default_factory=list)  # scored 0
    notes: list[str] = field(default_factory=list)



def plan(course: Course, assignment: str, out: Path, fingerprint: str, students: list[str] | None,
         force: bool) -> list[Plan]:
    """One ``Plan`` per submission folder (or per student named), each with its current and previous state.

    Args:
        course: the loaded course.
        out: dlcourse's folder for this assignment (``state/<student>.json`` is read from it).
        fingerprint: the grader fingerprint grades are made under now.
        students: only these students (each regraded only if needed, as everyone); None: everyone who submitted.
        force: regrade everyone planned.

    Raises:
        CourseConfigError: a student named in ``students`` has no submission of the assignment.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.converters import Autograde

    api = NbGraderAPI(coursedir=course.coursedir, parent=course.app)
    submitted = sorted(api.get_submitted_students(assignment))
    excluded = set(filter(None, course.coursedir.student_id_exclude.split(",")))
    autograded = api.get_autograded_students(assignment)
    unknown = sorted(set(students or ()) - set(submitted))
    if unknown:
        raise CourseConfigError(f"Expected students who submitted {assignment}. Received unknown: "
                                f"{', '.join(unknown)} (no {course.submission_folder(unknown[0], assignment)})")
    with course.gradebook() as gradebook:
        known = {notebook.name for notebook in gradebook.find_assignment(assignment).notebooks}
        enrolled = {student.id for student in gradebook.students}
    create_student = Autograde(coursedir=course.coursedir, parent=course.app).create_student
    names = students if students else [s for s in submitted if s not in excluded]
    plans = []
    for student in names:
        item = Plan(student, course.submission_folder(student, assignment))
        plans.append(item)
        found = _known_notebooks(item, assignment, known, addable=student in enrolled or create_student)
        if not found:
            continue
        timestamp = _read_timestamp(item.folder)
        if timestamp and not _is_time(timestamp):
            item.problem = f"timestamp.txt holds {timestamp[:40]!r}, not a time"
            continue
        _fill_state(item, found, {"fingerprint": fingerprint, "timestamp": timestamp}, out / "state")
        item.regrade = bool(force or item.regrade or (student not in autograded and not item.unreadable))
        if not item.regrade and replaced(course, assignment, student, item.previous.get("written")):
            item.regrade = True
            item.notes.append(REPLACED)
    return plans


def _known_notebooks(item: Plan, assignment: str, known: set[str], addable: bool) -> list[Path]:
    """The notebooks in ``item``'s folder that the gradebook knows as ``assignment``'s (the others are noted as
    skipped); none, with ``item.problem`` saying why, when there is no folder, no such notebook, or a student
    that the gradebook neither has nor may add (``addable``: enrolled, or Autograde.create_student)."""
    folder = item.folder
    if not folder.is_dir():
        item.problem = f"no submission folder {folder}"
        return []
    if not addable:
        item.problem = (f"not a student of the gradebook (Autograde.create_student is False): add them with "
                        f"`nbgrader db student add {item.student}`")
        return []
    expected = ", ".join(sorted(n + ".ipynb" for n in known))
    found = sorted(path for path in folder.glob("*.ipynb") if path.is_file())
    for path in found:
        if path.stem not in known:
            item.notes.append(f"skipped {path.name}: not a notebook of {assignment} (expected {expected})")
    found = [path for path in found if path.stem in known]
    if not found:
        item.problem = f"no notebook in {folder} (expected {expected})"
    return found


def _is_time(timestamp: str) -> bool:
    """Whether nbgrader reads ``timestamp`` (a ``timestamp.txt``) as a time."""
    from nbgrader.utils import parse_utc

    try:
        parse_utc(timestamp)
    except (ValueError, OverflowError):
        return False
    return True


def _fill_state(item: Plan, found: list[Path], state: dict, folder: Path) -> None:
    """``item``'s readable and unreadable notebooks of ``found``, its state now (``state`` and the notebooks'
    digests) and the one graded last time (``folder/<student>.json``); ``item.regrade`` when the two differ
    (what dlcourse ``written`` aside)."""
    for path in found:
        reason = _unreadable(path)
        if reason:
            item.unreadable.append((path, reason))
        else:
            item.notebooks.append(path)
    item.state = {**state, "notebooks": {path.name: file_digest(path) for path in found}}
    item.previous = _read_json(folder / f"{item.student}.json")
    graded = {key: value for key, value in (item.previous or {}).items() if key != "written"} or None
    item.regrade = graded != item.state


def _read_timestamp(folder: Path) -> str | None:
    try:
        return (folder / "timestamp.txt").read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _unreadable(path: Path) -> str | None:
    """Why nbgrader could not read this notebook, or None."""
    import nbformat

    try:
        nbformat.read(str(path), as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds for a broken file
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"{path.name} is not a readable notebook ({first[:120]})"
    return None


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
