"""Scores into nbgrader's gradebook, through nbgrader's own API, so `nbgrader export` and the formgrader show them.

Each solution notebook has one locked nbgrader grade cell per unit, ``check_<unit>``, worth the
unit's points; ``nbgrader generate_assignment`` stores those cells in the gradebook. Here each
cell's ``auto_score`` is set to the unit's score from dlcourse's sandboxed grading, instead of
from ``nbgrader autograde`` (which runs the tests inside the student's own kernel, where they can
be patched: see GRADING.md).
"""

from __future__ import annotations

from pathlib import Path

from autograder.course.batch import BatchReport, grade_batch
from autograder.course.feedback import feedback_html


def grade_course(course: Path, assignment: str, secret: str, workers: int = 1, scheduler: str | None = None,
                 progress=None) -> tuple[BatchReport, list[str]]:
    """Grade ``course/submitted/*/<assignment>/`` and record the scores; return the batch and any problems."""
    submitted = course / "submitted"
    if not submitted.is_dir():
        raise ValueError(f"Expected an nbgrader course folder with submitted/. Received {course}")
    report = grade_batch(submitted, course / "dlcourse" / assignment, secret, workers=workers,
                         scheduler=scheduler, only_assignment=assignment, progress=progress)
    problems = write_gradebook(course, assignment, report.records)
    for record in report.records:
        target = course / "feedback" / record["student"] / assignment / f"{Path(record['submission']).stem}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(feedback_html(record["student"], [record]), encoding="utf-8")
    return report, problems


def write_gradebook(course: Path, assignment: str, records: list[dict]) -> list[str]:
    """Set ``auto_score`` of each ``check_<unit>`` grade cell from the records; return what did not fit."""
    from nbgrader.api import Gradebook, MissingEntry

    problems = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for record in records:
            student, notebook = record["student"], Path(record["submission"]).stem
            gradebook.update_or_create_student(student)
            gradebook.update_or_create_submission(assignment, student)
            for unit in record["units"]:
                try:
                    grade = gradebook.find_grade(f"check_{unit['unit']}", notebook, assignment, student)
                except MissingEntry:
                    problems.append(f"{student}: no grade cell check_{unit['unit']} in {assignment}/{notebook}")
                    continue
                grade.auto_score = float(unit["score"])
            if record.get("error"):
                problems.append(f"{student}: {record['error']}")
        gradebook.db.commit()
    return problems
