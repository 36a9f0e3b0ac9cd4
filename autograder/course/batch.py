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
zero) and regraded by the next run. Tasks carry the notebook's bytes, never a path, so a Dask worker
needs no access to the client's files.

A batch dies with its parent: local grading processes get a parent-death signal (SIGKILL), and each
sandboxed worker a lifeline that sweeps its uid once its grading process is gone (``lifeline.py``), so
``kill -9`` of the command leaves nothing running. A Dask client whose cluster has had no worker for
``worker_wait`` seconds ends the notebooks still to grade "not graded: no Dask worker for N s".
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from dlcourse.autograder.course.choice import choose
from dlcourse.autograder.course.discovery import Submission, UnreadableError, discover, survey  # noqa: F401 - API
from dlcourse.autograder.course.feedback import feedback_html
from dlcourse.autograder.course.export import neutralise, unreadable_reason
from dlcourse.autograder.course.records import file_digest, not_graded_record, to_record
from dlcourse.autograder.engine.atomic import write_atomically

RETRIES = 2  # extra attempts at a task that failed for a reason that is not the student's
IN_FLIGHT_PER_WORKER = 4  # tasks (with their notebook bytes) submitted ahead of the workers
WORKER_WAIT = 300.0  # seconds a Dask client waits for a worker while its cluster has none
DASK_POLL = 0.5  # seconds between looks at the Dask futures and workers
PR_SET_PDEATHSIG = 1  # prctl(2)


class GradingUnavailable(RuntimeError):
    """The grader could not grade a notebook (not the student's fault): retried, then "not graded"."""


# ----------------------------------------------------------------------------- one task

_GRADER = None


def grade_notebook(data: bytes, student: str, label: str, digest: str, secret: str, cache: str | None,
                   figures: bool = True, isolation: str | None = None, fingerprint: str | None = None) -> dict:
    """Grade one notebook given as bytes and return its record. Runs in a worker process (local or Dask).

    Args:
        data: the notebook file's bytes.
        label: its path inside the student's folder; its last part names the file the grader sees.
        digest: sha256 of ``data``, kept in the record.
        cache: the reference cache folder, as the worker sees it (None: the worker's ``$DLCOURSE_CACHE``,
            else ``~/.cache/dlcourse/references``).
        fingerprint: the client's grader fingerprint; a worker whose own differs refuses the task.

    Raises:
        GradingUnavailable: the worker cannot grade (another grader version, no sandbox, a grader error).
    """
    global _GRADER
    from dlcourse.autograder.engine.fingerprint import grader_fingerprint
    from dlcourse.autograder.cases import COURSE
    from dlcourse.autograder.engine.grade import Grader
    from dlcourse.autograder.engine.reference_cache import ReferenceCache

    own = grader_fingerprint(secret)
    if fingerprint is not None and own != fingerprint:
        raise GradingUnavailable(f"this worker's grader differs from the client's (fingerprint {own[:12]} != "
                                 f"{fingerprint[:12]}): install the same dlcourse, libraries and KERAS_BACKEND")
    settings = (secret, cache, isolation)
    try:
        if _GRADER is None or _GRADER[0] != settings:
            from dlcourse.autograder.engine.reference_cache import cache_dir

            from dlcourse.autograder.engine.pool import WorkerPool

            _GRADER = (settings, Grader(COURSE, secret=secret, cache=ReferenceCache(Path(cache) if cache else cache_dir()),
                                        isolation=isolation, pool=WorkerPool()))
        grader = _GRADER[1]
        with tempfile.TemporaryDirectory(prefix="dlcourse-task-") as scratch:
            path = Path(scratch) / (Path(label).name or "notebook.ipynb")
            path.write_bytes(data)
            result = grader.grade(path)
            result.label = label
            if _sandbox_cannot_start(grader, result):
                raise GradingUnavailable("the sandboxed worker cannot start on this machine "
                                         "(an empty notebook cannot be loaded either): see `dlcourse doctor`")
    except GradingUnavailable:
        raise
    except Exception as error:  # noqa: BLE001 - a grader-side error is the grader's failure, not the student's
        raise GradingUnavailable(f"grader error: {type(error).__name__}: {error}") from None
    narrowed = _assignment_fingerprint(secret, result.assignment.name) if result.assignment else None
    return to_record(result, student, digest, figures, fingerprint=own, assignment_fingerprint=narrowed)


def close_warm_worker() -> None:
    """Kill the worker this process started ahead for a next submission (one is left when a batch ends)."""
    if _GRADER is not None and _GRADER[1].pool is not None:
        _GRADER[1].pool.close()


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


def _attempts(task: tuple, retries: int) -> dict:
    """Run ``grade_notebook(*task)`` up to ``1 + retries`` times (local workers); the last failure is "not graded"."""
    for attempt in range(retries + 1):
        try:
            return grade_notebook(*task)
        except GradingUnavailable as error:
            if attempt == retries:
                return _unavailable(task, str(error))
    raise AssertionError("unreachable")


def _unavailable(task: tuple, reason: str) -> dict:
    student, label, digest = task[1], task[2], task[3]
    return not_graded_record(student, label, digest, reason, _assignment_of(label))


def _assignment_fingerprint(secret: str, name: str | None) -> str | None:
    """The fingerprint of assignment ``name``'s grades (its cases, references and the engine), or None."""
    from dlcourse.autograder.cases import MODULES
    from dlcourse.autograder.engine.fingerprint import assignment_fingerprint

    return assignment_fingerprint(secret, MODULES[name]) if name in MODULES else None


def _assignment_of(label: str) -> str | None:
    from dlcourse.autograder.cases import COURSE

    assignment = COURSE.by_file_name(Path(label))
    return assignment.name if assignment else None


# ----------------------------------------------------------------------------- the batch

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
    records: list[dict]
    out: Path
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)


def grade_batch(root: Path, out: Path, secret: str, workers: int = 1, scheduler: str | None = None,
                cache: Path | None = None, figures: bool = True, isolation: str | None = None,
                only_assignment: str | None = None, progress=None, force: bool = False,
                students: list[str] | None = None, retries: int = RETRIES,
                worker_cache: str | None = None, worker_wait: float = WORKER_WAIT) -> BatchReport:
    """Grade every notebook under ``root`` that has no up-to-date record in ``out``; rebuild the outputs.

    Args:
        workers: local worker processes (ignored with ``scheduler``).
        scheduler: address of a Dask scheduler ("tcp://host:8786"); each submission becomes a task that
            carries the notebook's bytes.
        cache: the reference cache folder shared by local workers (default ``out/references``).
        only_assignment: grade only notebooks whose path contains this assignment name.
        progress: a callable ``advance(n, description)``, e.g. a rich progress bar's.
        force: regrade every selected notebook, even with an up-to-date record.
        students: grade only these students (the CSV and feedback still cover everyone).
        retries: extra attempts at a notebook whose grading failed for an infrastructure reason.
        worker_cache: the reference cache folder as Dask workers see it (default: the worker's own
            ``$DLCOURSE_CACHE`` or ``~/.cache/dlcourse``); the client's folder is never sent to a cluster.
        worker_wait: with ``scheduler``, how long the cluster may have no worker at all before the notebooks
            still to grade end "not graded: no Dask worker for N s" (default 300).

    Raises:
        ValueError: bad arguments, an unreadable root, no notebook at all, or an unknown student.
    """
    from dlcourse.autograder.engine.fingerprint import grader_fingerprint

    if workers < 1:
        raise ValueError(f"Expected workers >= 1. Received workers={workers}.")
    if retries < 0:
        raise ValueError(f"Expected retries >= 0. Received retries={retries}.")
    if not worker_wait > 0:
        raise ValueError(f"Expected worker_wait > 0 seconds. Received worker_wait={worker_wait}.")
    found = survey(root)
    unknown = sorted(set(students or ()) - set(found.students))
    if unknown:
        raise ValueError(f"Expected students found under {root}. Received unknown: {', '.join(unknown)}")
    submissions = found.submissions
    if only_assignment:
        submissions = [s for s in submissions if only_assignment in f"{s.student}/{s.label}"]
    if not submissions and not found.students:
        raise ValueError(f"Expected notebooks under {root}. Received none.")
    fingerprint = grader_fingerprint(secret)
    results_dir = out / "results"
    cache = cache or out / "references"
    advance = progress or (lambda n, description: None)
    todo, skipped = [], 0
    for submission in submissions:
        if students and submission.student not in students:
            continue
        record_path = results_dir / submission.record_name
        try:
            digest = _digest(submission)
        except UnreadableError:
            digest = None
        narrowed = _assignment_fingerprint(secret, _assignment_of(submission.label))
        if not force and digest and _record_is_current(record_path, digest, fingerprint, narrowed):
            skipped += 1
            advance(1, f"up to date: {submission.student}")
        else:
            todo.append(submission)
    cache_for_tasks = worker_cache if scheduler else str(cache)
    settings = (secret, cache_for_tasks, figures, isolation, fingerprint)
    for record in _run(todo, settings, workers, scheduler, retries, worker_wait):
        write_atomically(results_dir / f"{record['student']}/{record['submission']}.json", json.dumps(record))
        advance(1, f"{'graded' if record['status'] == 'graded' else 'NOT graded'}: {record['student']}")
    records = []
    for submission in submissions:
        record = _read_record(results_dir / submission.record_name)
        records.append(record or not_graded_record(submission.student, submission.label, None, "not graded yet",
                                                   _assignment_of(submission.label)))
    notes = {student: list(texts) for student, texts in found.notes.items()}
    write_outputs(records, out, found.students, notes)
    not_graded = [(f"{r['student']}/{r['submission']}", r.get("reason", "")) for r in records
                  if r.get("status") == "not graded"]
    return BatchReport(graded=len(todo), skipped=skipped, records=records, out=out, not_graded=not_graded,
                       notes=notes)


def _digest(submission: Submission) -> str:
    if submission.member is None:
        try:
            return file_digest(submission.path)
        except OSError as error:
            raise UnreadableError(f"cannot read {submission.label}: {error.strerror}") from None
    import hashlib

    return hashlib.sha256(submission.read_bytes()).hexdigest()


def _run(todo: list[Submission], settings: tuple, workers: int, scheduler: str | None, retries: int,
         worker_wait: float = WORKER_WAIT):
    """Yield a record per submission as tasks finish: on a Dask cluster, a local process pool, or here.

    Notebook bytes are read just before each task is submitted (at most a few tasks ahead of the
    workers), so memory stays small however large the batch.
    """
    if not todo:
        return
    if scheduler:
        yield from _run_dask(todo, settings, scheduler, retries, worker_wait)
        return
    tasks = (_task(submission, settings) for submission in todo)
    if workers == 1:
        try:
            for task in tasks:
                yield task if isinstance(task, dict) else _attempts(task, retries)
        finally:
            close_warm_worker()
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        pending = {}
        for task in tasks:
            if isinstance(task, dict):
                yield task
                continue
            try:
                pending[pool.submit(_attempts, task, retries)] = task
            except Exception as error:  # noqa: BLE001 - BrokenProcessPool: a worker process died earlier
                yield _unavailable(task, f"the grading processes stopped: {type(error).__name__}: {error}")
                continue
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                yield from _drain(pending, until=workers)
        yield from _drain(pending, until=0)


def die_with_parent(parent: int) -> None:
    """Initializer of local grading processes: SIGKILL when ``parent`` (the batch) dies, however it dies.

    Without it a killed batch leaves its grading processes waiting forever on their task queue (whose
    write end they hold themselves), and with them multiprocessing's resource tracker. Their sandboxed
    workers follow them through their lifelines (``lifeline.py``). Linux only; elsewhere nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the batch died before the signal was set
        os._exit(1)


def _drain(pending: dict, until: int):
    """Collect finished local futures until at most ``until`` remain; a dead process is "not graded"."""
    for future in as_completed(list(pending)):
        task = pending.pop(future)
        try:
            yield future.result()
        except Exception as error:  # noqa: BLE001 - e.g. BrokenProcessPool when a worker process is killed
            yield _unavailable(task, f"the grading process failed: {type(error).__name__}: {error}")
        if len(pending) <= until:
            return


def _run_dask(todo: list[Submission], settings: tuple, scheduler: str, retries: int, worker_wait: float):
    """Yield a record per submission from a Dask cluster; when the cluster has had no worker for ``worker_wait``
    seconds (none started, or all gone), every notebook still to grade is "not graded: no Dask worker for N s"."""
    from itertools import count

    from distributed import Client

    with Client(scheduler) as client:
        window = max(1, sum(client.nthreads().values())) * IN_FLIGHT_PER_WORKER
        tasks = (_task(submission, settings) for submission in todo)
        pending: dict = {}  # future -> task
        numbers = count()

        def submit_more() -> list[dict]:
            ready = []
            while len(pending) < window and (task := next(tasks, None)) is not None:
                if isinstance(task, dict):
                    ready.append(task)
                    continue
                future = client.submit(grade_notebook, *task, pure=False, retries=retries,
                                       key=f"dlcourse-grade-{task[3][:16]}-{next(numbers)}")
                pending[future] = task
            return ready

        yield from submit_more()
        seen = time.monotonic()  # when the cluster last had a worker
        while pending:
            done = [future for future in pending if future.done()]
            for future in done:
                task = pending.pop(future)
                try:
                    yield future.result()
                except Exception as error:  # noqa: BLE001 - retries exhausted, a killed worker, a lost task
                    yield _unavailable(task, _dask_reason(error))
                future.release()
            if _has_worker(client):
                seen = time.monotonic()
            elif time.monotonic() - seen >= worker_wait:
                reason = f"no Dask worker for {worker_wait:g} s"
                client.cancel(list(pending))
                for task in [*pending.values(), *tasks]:
                    yield task if isinstance(task, dict) else _unavailable(task, reason)
                return
            yield from submit_more()
            if not done:
                time.sleep(DASK_POLL)


def _has_worker(client) -> bool:
    """Whether the scheduler has a worker now (a scheduler that does not answer has none for us)."""
    try:
        return bool(client.nthreads())
    except Exception:  # noqa: BLE001 - an unreachable scheduler: counted as no worker, so the wait stays bounded
        return False


def _dask_reason(error: Exception) -> str:
    text = str(error)
    if type(error).__name__ == "GradingUnavailable" or isinstance(error, GradingUnavailable):
        return text
    return f"the Dask task failed: {type(error).__name__}: {text}"


def _task(submission: Submission, settings: tuple) -> tuple | dict:
    """The arguments of ``grade_notebook`` for one submission, or its "not graded" record if unreadable."""
    import hashlib

    secret, cache, figures, isolation, fingerprint = settings
    try:
        data = submission.read_bytes()
    except UnreadableError as error:
        return not_graded_record(submission.student, submission.label, None, str(error),
                                 _assignment_of(submission.label))
    digest = hashlib.sha256(data).hexdigest()
    return (data, submission.student, submission.label, digest, secret, cache, figures, isolation, fingerprint)


def _read_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _record_is_current(path: Path, digest: str, fingerprint: str, narrowed: str | None = None) -> bool:
    """Graded from these bytes under what its grade depends on: its assignment's fingerprint (``narrowed``)
    where both it and the record have one, so a change to another assignment regrades nothing here."""
    record = _read_record(path)
    if not (isinstance(record, dict) and record.get("status", "graded") == "graded" and record.get("sha256") == digest):
        return False
    if narrowed and record.get("assignment_fingerprint"):
        return record["assignment_fingerprint"] == narrowed
    return record.get("fingerprint") == fingerprint


# ----------------------------------------------------------------------------- outputs

def write_outputs(records: list[dict], out: Path, students: list[str] | None = None,
                  notes: dict[str, list[str]] | None = None) -> None:
    """``gradebook.csv`` and ``feedback/<student>.html``, rebuilt from the records.

    Args:
        students: every student to list (default: those with a record), so none vanishes.
        notes: ``{student: [reason]}`` shown in the CSV's ``notes`` column.
    """
    write_atomically(out / "gradebook.csv", gradebook_csv(records, students, notes))
    by_student: dict[str, list[dict]] = {}
    for record in records:
        by_student.setdefault(record["student"], []).append(record)
    for student, own in by_student.items():
        write_atomically(out / "feedback" / f"{student}.html", feedback_html(student, own))


NOT_GRADED = "not graded"


def gradebook_csv(records: list[dict], students: list[str] | None = None,
                  notes: dict[str, list[str]] | None = None) -> str:
    """One row per student; per assignment its total and a column per unit, and a ``notes`` column.

    The notebook that counts for an assignment follows ``choice.choose`` (the one named after the
    assignment, else the only one), as nbgrader's gradebook and Gradescope do. An assignment whose
    notebook was not graded, or is ambiguous, reads "not graded" (and so does the total), with the
    reason in ``notes``.
    """
    notes = {student: list(texts) for student, texts in (notes or {}).items()}
    by_key: dict[tuple[str, str], list[dict]] = {}
    units: dict[str, list[str]] = {}
    for record in records:
        assignment = record.get("assignment")
        if not assignment:
            if record.get("status") == NOT_GRADED:
                notes.setdefault(record["student"], []).append(f"{record['submission']}: {record['error']}")
            continue
        by_key.setdefault((record["student"], assignment), []).append(record)
        units.setdefault(assignment, [])
        for row in record["units"]:
            if row["unit"] not in units[assignment]:
                units[assignment].append(row["unit"])
    everyone = sorted(set(students or ()) | {record["student"] for record in records})
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
            candidates = by_key.get((student, assignment), [])
            chosen, reason = choose(assignment, [record["submission"] for record in candidates])
            record = next((r for r in candidates if r["submission"] == chosen), None)
            if candidates and record is None:
                notes.setdefault(student, []).append(f"{assignment}: {reason}")
            elif record is not None and record.get("status") == NOT_GRADED:
                notes.setdefault(student, []).append(f"{record['submission']}: {record['error']}")
                record = None
            elif record is not None and (unreadable := unreadable_reason(record)):
                notes.setdefault(student, []).append(f"{record['submission']}: scored 0: {unreadable}")
            if candidates and record is None:
                complete = False
                row += [NOT_GRADED] + [""] * len(units[assignment])
                continue
            scores = {unit["unit"]: unit["score"] for unit in record["units"]} if record else {}
            subtotal = _score(record) if record else 0.0
            total += subtotal
            row += [f"{subtotal:g}"] + [f"{scores.get(unit, 0.0):g}" for unit in units[assignment]]
        writer.writerow([neutralise(student), f"{total:g}" if complete else NOT_GRADED, *row,
                         neutralise("; ".join(notes.get(student, [])))])
    return buffer.getvalue()


def _score(record: dict) -> float:
    return record.get("score", record["results"]["score"])


