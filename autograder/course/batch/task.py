"""One submission's grading task (``Task``) and the function that grades it (``grade_task``), anywhere.

A task carries the notebook's bytes, never a path, so a Dask worker needs no access to the client's
files. Infrastructure failures are not grades: a grader that cannot grade raises ``GradingUnavailable``,
and the task ends as a "not graded" record after its retries (``Task.unavailable``).

Each grading process keeps one grader, and its warm worker for the next submission, while the
settings it grades under stay the same (``_Graders``).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dlcourse.autograder.course.batch.settings import Settings
from dlcourse.autograder.course.discovery import Submission, UnreadableError
from dlcourse.autograder.course.records import Record, not_graded_record, to_record


class GradingUnavailable(RuntimeError):
    """The grader could not grade a notebook (not the student's fault): retried, then "not graded"."""


@dataclass(frozen=True)
class Task:
    """One notebook to grade, as a worker process (local or Dask) receives it.

    Attributes:
        data: the notebook file's bytes.
        label: its path inside the student's folder; its last part names the file the grader sees.
        digest: sha256 of ``data``, kept in the record.
        fingerprint: the client's grader fingerprint; a worker whose own differs refuses the task.
    """

    data: bytes
    student: str
    label: str
    digest: str
    settings: Settings
    fingerprint: str | None = None

    @classmethod
    def prepare(cls, submission: Submission, settings: Settings, fingerprint: str | None) -> Task | Record:
        """The task of one submission (its bytes read now), or its "not graded" record if it cannot be read."""
        try:
            data = submission.read_bytes()
        except UnreadableError as error:
            return not_graded_record(submission.student, submission.label, None, str(error),
                                     assignment_of(submission.label))
        return cls(data, submission.student, submission.label, hashlib.sha256(data).hexdigest(), settings,
                   fingerprint)

    def unavailable(self, reason: str) -> Record:
        """The record of this task when it could not be graded: "not graded: <reason>"."""
        return not_graded_record(self.student, self.label, self.digest, reason, assignment_of(self.label))


def grade_task(task: Task) -> Record:
    """Grade one task and return its record. Runs in a worker process (local or Dask).

    Raises:
        GradingUnavailable: the worker cannot grade (another grader version, no sandbox, a grader error).
    """
    from dlcourse.autograder.engine.fingerprint import grader_fingerprint

    secret = task.settings.secret
    own = grader_fingerprint(secret)
    if task.fingerprint is not None and own != task.fingerprint:
        raise GradingUnavailable(f"this worker's grader differs from the client's (fingerprint {own[:12]} != "
                                 f"{task.fingerprint[:12]}): install the same dlcourse, libraries and KERAS_BACKEND")
    try:
        grader = _GRADERS.get(secret, task.settings.task_cache, task.settings.isolation)
        with tempfile.TemporaryDirectory(prefix="dlcourse-task-") as scratch:
            path = Path(scratch) / (Path(task.label).name or "notebook.ipynb")
            path.write_bytes(task.data)
            result = grader.grade(path)
            result.label = task.label
            if _sandbox_cannot_start(grader, result):
                raise GradingUnavailable("the sandboxed worker cannot start on this machine "
                                         "(an empty notebook cannot be loaded either): see `dlcourse doctor`")
    except GradingUnavailable:
        raise
    except Exception as error:  # noqa: BLE001 - a grader-side error is the grader's failure, not the student's
        raise GradingUnavailable(f"grader error: {type(error).__name__}: {error}") from None
    narrowed = assignment_fingerprint(secret, result.assignment.name) if result.assignment else None
    return to_record(result, task.student, task.digest, task.settings.figures, fingerprint=own,
                     assignment_fingerprint=narrowed)


def grade_with_retries(task: Task, retries: int) -> Record:
    """``grade_task(task)`` up to ``1 + retries`` times (local workers); the last failure is "not graded"."""
    for attempt in range(retries + 1):
        try:
            return grade_task(task)
        except GradingUnavailable as error:
            if attempt == retries:
                return task.unavailable(str(error))
    raise AssertionError("unreachable")


class _Graders:
    """This process's grader, kept while the (secret, cache, isolation) it grades under stay the same."""

    def __init__(self):
        self.key: tuple | None = None
        self.grader = None

    def get(self, secret: str, cache: str | None, isolation: str | None):
        if self.grader is None or self.key != (secret, cache, isolation):
            from dlcourse.autograder.cases import COURSE
            from dlcourse.autograder.engine.grade import Grader
            from dlcourse.autograder.engine.pool import WorkerPool
            from dlcourse.autograder.engine.reference_cache import ReferenceCache, cache_dir

            self.key = (secret, cache, isolation)
            self.grader = Grader(COURSE, secret=secret, cache=ReferenceCache(Path(cache) if cache else cache_dir()),
                                 isolation=isolation, pool=WorkerPool())
        return self.grader

    def close_warm_worker(self) -> None:
        if self.grader is not None and self.grader.pool is not None:
            self.grader.pool.close()


_GRADERS = _Graders()


def close_warm_worker() -> None:
    """Kill the worker this process started ahead for a next submission (one is left when a batch ends)."""
    _GRADERS.close_warm_worker()


def _sandbox_cannot_start(grader, result) -> bool:
    """True when no case passed because no worker could load, and an empty notebook does not load either."""
    if result.assignment is None or not result.results or any(item.verdict.passed for item in result.results):
        return False
    if not any(item.verdict.failure is not None and item.verdict.failure.loading for item in result.results):
        return False
    from dlcourse.autograder.engine.sandbox import Limits, Sandbox
    from dlcourse.autograder.engine.session import Failure, WorkerSession

    assignment, case = result.assignment, result.assignment.cases[0]
    sandbox = Sandbox(frameworks=assignment.frameworks, isolation=grader.isolation,
                      limits=Limits(memory_bytes=assignment.memory_bytes, processes=assignment.processes,
                                    cpu_seconds=assignment.cpu_seconds))
    with WorkerSession(sandbox, []) as session:
        return isinstance(session.run(case.request(case.make_inputs(grader.secret)), case.timeout), Failure)


def assignment_fingerprint(secret: str, name: str | None) -> str | None:
    """The fingerprint of assignment ``name``'s grades (its cases, references and the engine), or None."""
    from dlcourse.autograder.cases import MODULES
    from dlcourse.autograder.engine.fingerprint import assignment_fingerprint as fingerprint

    return fingerprint(secret, MODULES[name]) if name in MODULES else None


def assignment_of(label: str) -> str | None:
    """The name of the assignment a notebook's file name says it is, or None."""
    from dlcourse.autograder.cases import COURSE

    assignment = COURSE.by_file_name(Path(label))
    return assignment.name if assignment else None
