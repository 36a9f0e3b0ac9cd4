"""``dlcourse grade-batch``: grade hundreds of submissions, resumably, on local processes or a Dask cluster.

Layout of ``SUBMISSIONS``: see ``discovery.py`` (a folder per student, notebooks and LMS zips inside;
odd entries are reported, never fatal). Output in ``DIR``::

    results/<student>/<notebook path>.json   one record per notebook (Gradescope results inside)
    gradebook.csv                            one row per student, a column per assignment and unit
    feedback/<student>.html                  per-student feedback, with pictures of wrong arrays

Resuming: a record is written atomically when its notebook is graded, and carries the notebook's
sha256 and the grader's fingerprint (code, references, libraries, backend, keyed hash of the secret).
A rerun skips a notebook whose record has both unchanged and regrades the rest. The CSV and the
feedback are rebuilt from the records at the end, never appended to, so an interrupted batch that
is run again ends exactly where an uninterrupted one would: nothing lost, nothing counted twice.

Infrastructure failures are not grades: a notebook the grader cannot read, a sandbox that cannot
start, a task that dies or raises, are retried, then recorded as "not graded: <reason>" (never as a
zero) and regraded by the next run.

This package: ``grade_batch`` (here: what to grade, and resuming), ``settings.py`` (how: ``Settings``),
``task.py`` (one notebook's task and its grading), ``executors.py`` (where: here, local processes or
Dask; a batch dies with its parent) and ``output.py`` (the CSV and the feedback).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from dlcourse.autograder.course.batch.executors import die_with_parent, executor_for  # noqa: F401 - API
from dlcourse.autograder.course.batch.output import gradebook_csv, write_outputs  # noqa: F401 - API
from dlcourse.autograder.course.batch.settings import RETRIES, WORKER_WAIT, Settings  # noqa: F401 - API
from dlcourse.autograder.course.batch.task import GradingUnavailable  # noqa: F401 - API
from dlcourse.autograder.course.batch.task import Task, assignment_fingerprint, assignment_of
from dlcourse.autograder.course.discovery import Submission, UnreadableError, discover, survey  # noqa: F401 - API
from dlcourse.autograder.course.records import Record, RecordStatus, file_digest, not_graded_record
from dlcourse.autograder.engine.atomic import write_atomically


@dataclass
class BatchReport:
    """What a batch did.

    Attributes:
        graded: notebooks graded in this run (including those that ended "not graded").
        skipped: notebooks whose record was up to date.
        records: the record of every notebook found (graded now, earlier, or not graded).
        out: the output folder.
        not_graded: ``[(student/label, reason)]``: regraded by the next run.
        notes: ``{student: [reason]}``: entries skipped and students with nothing to grade.
    """

    graded: int
    skipped: int
    records: list[Record]
    out: Path
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)


def grade_batch(root: Path, out: Path, settings: Settings, *, only_assignment: str | None = None,
                students: list[str] | None = None, force: bool = False,
                progress: Callable[[int, str], object] | None = None) -> BatchReport:
    """Grade every notebook under ``root`` that has no up-to-date record in ``out``; rebuild the outputs.

    Args:
        settings: how to grade (``Settings``); its ``cache`` defaults to ``out/references``.
        only_assignment: grade only notebooks whose path contains this assignment name.
        students: grade only these students (the CSV and feedback still cover everyone).
        force: regrade every selected notebook, even with an up-to-date record.
        progress: a callable ``advance(n, description)``, e.g. a rich progress bar's.

    Raises:
        ValueError: bad settings, an unreadable root, no notebook at all, or an unknown student.
    """
    from dlcourse.autograder.engine.fingerprint import grader_fingerprint

    settings.check()
    found = survey(root)
    unknown = sorted(set(students or ()) - set(found.students))
    if unknown:
        raise ValueError(f"Expected students found under {root}. Received unknown: {', '.join(unknown)}")
    submissions = found.submissions
    if only_assignment:
        submissions = [s for s in submissions if only_assignment in f"{s.student}/{s.label}"]
    if not submissions and not found.students:
        raise ValueError(f"Expected notebooks under {root}. Received none.")
    fingerprint = grader_fingerprint(settings.secret)
    settings = replace(settings, cache=settings.cache or out / "references")
    results_dir = out / "results"
    advance = progress or (lambda n, description: None)
    todo, skipped = [], 0
    for submission in submissions:
        if students and submission.student not in students:
            continue
        if force or not _is_current(submission, results_dir, settings.secret, fingerprint):
            todo.append(submission)
        else:
            skipped += 1
            advance(1, f"up to date: {submission.student}")
    if todo:
        tasks = (Task.prepare(submission, settings, fingerprint) for submission in todo)
        for record in executor_for(settings).run(tasks):
            write_atomically(results_dir / f"{record.student}/{record.submission}.json", record.to_json())
            advance(1, f"{'graded' if record.graded else 'NOT graded'}: {record.student}")
    records = [_read_record(results_dir / submission.record_name)
               or not_graded_record(submission.student, submission.label, None, "not graded yet",
                                    assignment_of(submission.label)) for submission in submissions]
    notes = {student: list(texts) for student, texts in found.notes.items()}
    write_outputs(records, out, found.students, notes)
    not_graded = [(f"{r.student}/{r.submission}", r.reason or "") for r in records
                  if r.status is RecordStatus.NOT_GRADED]
    return BatchReport(graded=len(todo), skipped=skipped, records=records, out=out,
                       not_graded=not_graded, notes=notes)


def _is_current(submission: Submission, results_dir: Path, secret: str, fingerprint: str) -> bool:
    """Whether the submission's record was graded from its bytes under what its grade depends on: its
    assignment's fingerprint where both it and the record have one (so a change to another assignment
    regrades nothing here), else the grader's."""
    try:
        digest = _digest(submission)
    except UnreadableError:
        return False
    narrowed = assignment_fingerprint(secret, assignment_of(submission.label))
    record = _read_record(results_dir / submission.record_name)
    if record is None or not record.graded or record.sha256 != digest:
        return False
    if narrowed and record.assignment_fingerprint:
        return record.assignment_fingerprint == narrowed
    return record.fingerprint == fingerprint


def _digest(submission: Submission) -> str:
    if submission.member is None:
        try:
            return file_digest(submission.path)
        except OSError as error:
            raise UnreadableError(f"cannot read {submission.label}: {error.strerror}") from None
    return hashlib.sha256(submission.read_bytes()).hexdigest()


def _read_record(path: Path) -> Record | None:
    try:
        return Record.from_json(path.read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return None
