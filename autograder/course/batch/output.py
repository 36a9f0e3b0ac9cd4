"""The outputs of a batch, rebuilt from its records: ``gradebook.csv`` and ``feedback/<student>.html``.

The CSV has one row per student, a column per assignment and unit, and a ``notes`` column; the
notebook that counts for an assignment follows ``choice.choose``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from dlcourse.autograder.course.choice import choose
from dlcourse.autograder.course.export import neutralise, unreadable_reason
from dlcourse.autograder.course.feedback import feedback_html
from dlcourse.autograder.course.records import Record, RecordStatus
from dlcourse.autograder.engine.atomic import write_atomically

def write_outputs(records: list[Record], out: Path, students: list[str] | None = None,
                  notes: dict[str, list[str]] | None = None) -> None:
    """``gradebook.csv`` and ``feedback/<student>.html``, rebuilt from the records.

    Args:
        students: every student to list (default: those with a record), so none vanishes.
        notes: ``{student: [reason]}`` shown in the CSV's ``notes`` column.
    """
    write_atomically(out / "gradebook.csv", gradebook_csv(records, students, notes))
    by_student: dict[str, list[Record]] = {}
    for record in records:
        by_student.setdefault(record.student, []).append(record)
    for student, own in by_student.items():
        write_atomically(out / "feedback" / f"{student}.html", feedback_html(student, own))


NOT_GRADED = "not graded"  # what the CSV says of an assignment (and a total) with no grade


def gradebook_csv(records: list[Record], students: list[str] | None = None,
                  notes: dict[str, list[str]] | None = None) -> str:
    """One row per student; per assignment its total and a column per unit, and a ``notes`` column.

    The notebook that counts for an assignment follows ``choice.choose`` (the one named after the
    assignment, else the only one), as nbgrader's gradebook and Gradescope do. An assignment whose
    notebook was not graded, or is ambiguous, reads "not graded" (and so does the total), with the
    reason in ``notes``.
    """
    notes = {student: list(texts) for student, texts in (notes or {}).items()}
    by_key, units = _by_assignment(records, notes)
    everyone = sorted(set(students or ()) | {record.student for record in records})
    header = ["student", "total"]
    for assignment in sorted(units):
        header += [assignment] + [f"{assignment}:{unit}" for unit in units[assignment]]
    header.append("notes")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for student in everyone:
        row, total, complete = [], 0.0, True
        for assignment in sorted(units):
            record = _counted(student, assignment, by_key.get((student, assignment), []), notes)
            if record is None and (student, assignment) in by_key:
                complete = False
                row += [NOT_GRADED] + [""] * len(units[assignment])
                continue
            scores = {unit["unit"]: unit["score"] for unit in record.units} if record else {}
            subtotal = record.score if record else 0.0
            total += subtotal
            row += [f"{subtotal:g}"] + [f"{scores.get(unit, 0.0):g}" for unit in units[assignment]]
        writer.writerow([neutralise(student), f"{total:g}" if complete else NOT_GRADED, *row,
                         neutralise("; ".join(notes.get(student, [])))])
    return buffer.getvalue()


def _by_assignment(records: list[Record], notes: dict[str, list[str]]) -> tuple[dict, dict[str, list[str]]]:
    """``{(student, assignment): [record]}`` and each assignment's units in order of appearance; a not-graded
    record of no assignment goes to its student's notes."""
    by_key: dict[tuple[str, str], list[Record]] = {}
    units: dict[str, list[str]] = {}
    for record in records:
        if not record.assignment:
            if record.status is RecordStatus.NOT_GRADED:
                notes.setdefault(record.student, []).append(f"{record.submission}: {record.error}")
            continue
        by_key.setdefault((record.student, record.assignment), []).append(record)
        known = units.setdefault(record.assignment, [])
        for row in record.units:
            if row["unit"] not in known:
                known.append(row["unit"])
    return by_key, units


def _counted(student: str, assignment: str, candidates: list[Record], notes: dict[str, list[str]]) -> Record | None:
    """The graded record that counts for ``assignment`` among ``candidates``, or None (why: in ``notes``)."""
    chosen, reason = choose(assignment, [record.submission for record in candidates])
    record = next((r for r in candidates if r.submission == chosen), None)
    if candidates and record is None:
        notes.setdefault(student, []).append(f"{assignment}: {reason}")
    elif record is not None and record.status is RecordStatus.NOT_GRADED:
        notes.setdefault(student, []).append(f"{record.submission}: {record.error}")
        return None
    elif record is not None and (unreadable := unreadable_reason(record)):
        notes.setdefault(student, []).append(f"{record.submission}: scored 0: {unreadable}")
    return record
