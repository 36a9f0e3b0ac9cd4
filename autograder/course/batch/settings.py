"""How a batch grades (``Settings``): the secret, the reference cache, figures, isolation, and where it runs.

One object, given to ``grade_batch`` and carried by every task (``task.Task``), so a worker anywhere
grades as the client asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RETRIES = 2  # extra attempts at a task that failed for a reason that is not the student's
WORKER_WAIT = 300.0  # seconds a Dask client waits for a worker while its cluster has none


@dataclass(frozen=True)
class Settings:
    """How to grade a batch.

    Attributes:
        secret: the course secret (hidden cases' inputs, fingerprints).
        workers: local worker processes (ignored with ``scheduler``).
        scheduler: address of a Dask scheduler ("tcp://host:8786"); each submission becomes a task that
            carries the notebook's bytes.
        cache: the reference cache folder shared by local workers (``grade_batch``'s default: ``out/references``).
        worker_cache: the reference cache folder as Dask workers see it (default: the worker's own
            ``$DLCOURSE_CACHE`` or ``~/.cache/dlcourse``); the client's folder is never sent to a cluster.
        figures: pictures of wrong arrays in the records (and so in the feedback).
        isolation: how student code is isolated (None: ``$DLCOURSE_ISOLATION``, else the strongest that works).
        retries: extra attempts at a notebook whose grading failed for an infrastructure reason.
        worker_wait: with ``scheduler``, how long the cluster may have no worker at all before the notebooks
            still to grade end "not graded: no Dask worker for N s".
    """

    secret: str
    workers: int = 1
    scheduler: str | None = None
    cache: Path | None = None
    worker_cache: str | None = None
    figures: bool = True
    isolation: str | None = None
    retries: int = RETRIES
    worker_wait: float = WORKER_WAIT

    def check(self) -> None:
        """Raises: ValueError: a count or a wait out of range."""
        if self.workers < 1:
            raise ValueError(f"Expected workers >= 1. Received workers={self.workers}.")
        if self.retries < 0:
            raise ValueError(f"Expected retries >= 0. Received retries={self.retries}.")
        if not self.worker_wait > 0:
            raise ValueError(f"Expected worker_wait > 0 seconds. Received worker_wait={self.worker_wait}.")

    @property
    def task_cache(self) -> str | None:
        """The reference cache folder as the grading processes see it (None: their own default)."""
        if self.scheduler:
            return self.worker_cache
        return str(self.cache) if self.cache is not None else None
