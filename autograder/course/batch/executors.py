"""Where tasks are graded: here (``Serial``), on local processes (``ProcessPool``) or a Dask cluster (``Dask``).

Each executor has one method, ``run(tasks) -> iterator of records``, a record per task as tasks finish.
``tasks`` is a lazy iterator of ``Task``s (a notebook's bytes are read as its task is made) and of the
records of notebooks that could not be read, which pass straight through. Local processes and Dask keep
at most a few tasks per worker submitted ahead (``Window``), so memory stays small however large the batch.

A batch dies with its parent: local grading processes get a parent-death signal (SIGKILL), and each
sandboxed worker a lifeline that sweeps its uid once its grading process is gone (``lifeline.py``), so
``kill -9`` of the command leaves nothing running. A Dask client whose cluster has had no worker for
``worker_wait`` seconds ends the notebooks still to grade "not graded: no Dask worker for N s".
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from itertools import count
from multiprocessing import get_context
from typing import Protocol

from dlcourse.autograder.course.batch.settings import Settings
from dlcourse.autograder.course.batch.task import GradingUnavailable, Task, close_warm_worker, grade_task, \
    grade_with_retries
from dlcourse.autograder.course.records import Record

IN_FLIGHT_PER_WORKER = 4  # tasks (with their notebook bytes) submitted ahead of the workers
DASK_POLL = 0.5  # seconds between looks at the Dask futures and workers
PR_SET_PDEATHSIG = 1  # prctl(2)


class Executor(Protocol):
    def run(self, tasks: Iterable[Task | Record]) -> Iterator[Record]:
        """A record per task, as tasks finish (a record among ``tasks`` is yielded as it is)."""


def executor_for(settings: Settings) -> Executor:
    """The executor ``settings`` ask for: a Dask cluster, a local process pool, or this process."""
    if settings.scheduler:
        return Dask(settings.scheduler, settings.retries, settings.worker_wait)
    if settings.workers > 1:
        return ProcessPool(settings.workers, settings.retries)
    return Serial(settings.retries)


class Window:
    """The tasks submitted ahead of the workers: at most ``size`` at once, topped up as they finish.

    Args:
        tasks: what the executor was given; a record among them is handed back by ``fill`` unsubmitted.
        submit: starts a task, returning its future.
        refused: the record of a task that ``submit`` raised for (None: the error propagates).
    """

    def __init__(self, tasks: Iterable[Task | Record], size: int, submit: Callable,
                 refused: Callable[[Task, Exception], Record] | None = None):
        self.tasks, self.size, self.submit, self.refused = iter(tasks), size, submit, refused
        self.pending: dict = {}  # future -> task

    def fill(self) -> Iterator[Record]:
        """Submit tasks until ``size`` are pending or none is left; yield the records met on the way."""
        while len(self.pending) < self.size and (task := next(self.tasks, None)) is not None:
            if isinstance(task, Record):
                yield task
                continue
            try:
                self.pending[self.submit(task)] = task
            except Exception as error:  # e.g. BrokenProcessPool: a worker process died earlier
                if self.refused is None:
                    raise
                yield self.refused(task, error)

    def abandon(self, reason: str) -> Iterator[Record]:
        """Every task still pending or never submitted, "not graded: <reason>"."""
        for task in [*self.pending.values(), *self.tasks]:
            yield task if isinstance(task, Record) else task.unavailable(reason)
        self.pending.clear()


class Serial:
    """One task at a time, in this process; its warm worker is killed at the end."""

    def __init__(self, retries: int):
        self.retries = retries

    def run(self, tasks: Iterable[Task | Record]) -> Iterator[Record]:
        try:
            for task in tasks:
                yield task if isinstance(task, Record) else grade_with_retries(task, self.retries)
        finally:
            close_warm_worker()


class ProcessPool:
    """``workers`` local processes (spawned, each dying with this one), up to ``IN_FLIGHT_PER_WORKER`` tasks each
    ahead: the window is filled, drained until a task per worker is left, and filled again, as the single-file
    batch did (Dask's is topped up as each task finishes)."""

    def __init__(self, workers: int, retries: int):
        self.workers, self.retries = workers, retries

    def run(self, tasks: Iterable[Task | Record]) -> Iterator[Record]:
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"),
                                 initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            window = Window(tasks, self.workers * IN_FLIGHT_PER_WORKER,
                            lambda task: pool.submit(grade_with_retries, task, self.retries),
                            lambda task, error: task.unavailable(
                                f"the grading processes stopped: {type(error).__name__}: {error}"))
            yield from window.fill()
            while window.pending:  # a full window drains to a task per worker, then is topped up; the last, to none
                yield from _drain(window.pending, until=self.workers if len(window.pending) >= window.size else 0)
                yield from window.fill()


def _drain(pending: dict, until: int) -> Iterator[Record]:
    """Collect finished local futures until at most ``until`` remain; a dead process is "not graded"."""
    for future in as_completed(list(pending)):
        task = pending.pop(future)
        try:
            yield future.result()
        except Exception as error:  # noqa: BLE001 - e.g. BrokenProcessPool when a worker process is killed
            yield task.unavailable(f"the grading process failed: {type(error).__name__}: {error}")
        if len(pending) <= until:
            return


class Dask:
    """Tasks on the Dask cluster at ``scheduler``, ``IN_FLIGHT_PER_WORKER`` per worker thread ahead; Dask retries.

    When the cluster has had no worker for ``worker_wait`` seconds (none started, or all gone), every
    notebook still to grade is "not graded: no Dask worker for N s".
    """

    def __init__(self, scheduler: str, retries: int, worker_wait: float):
        self.scheduler, self.retries, self.worker_wait = scheduler, retries, worker_wait

    def run(self, tasks: Iterable[Task | Record]) -> Iterator[Record]:
        from distributed import Client

        with Client(self.scheduler) as client:
            numbers = count()

            def submit(task: Task):
                return client.submit(grade_task, task, pure=False, retries=self.retries,
                                     key=f"dlcourse-grade-{task.digest[:16]}-{next(numbers)}")

            window = Window(tasks, max(1, sum(client.nthreads().values())) * IN_FLIGHT_PER_WORKER, submit)
            yield from window.fill()
            seen = time.monotonic()  # when the cluster last had a worker
            while window.pending:
                done = [future for future in window.pending if future.done()]
                for future in done:
                    task = window.pending.pop(future)
                    try:
                        yield future.result()
                    except Exception as error:  # noqa: BLE001 - retries exhausted, a killed worker, a lost task
                        yield task.unavailable(_dask_reason(error))
                    future.release()
                if _has_worker(client):
                    seen = time.monotonic()
                elif time.monotonic() - seen >= self.worker_wait:
                    client.cancel(list(window.pending))
                    yield from window.abandon(f"no Dask worker for {self.worker_wait:g} s")
                    return
                yield from window.fill()
                if not done:
                    time.sleep(DASK_POLL)


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
