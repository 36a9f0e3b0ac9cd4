"""Starting sandboxed workers, and starting the next submission's worker ahead in a batch.

A worker costs its start-up before it can load a student's code: the sandbox and NumPy's import
(about 0.2 s), and in the Keras assignments Keras and TensorFlow (2-3 s), paid again for every
submission. ``WorkerPool`` hides that cost in a batch: while one submission is graded, the worker
for the next one is already starting (and importing what the assignment's sandbox offers), so it
is ready when that submission comes.

Isolation is the same as with a worker started on demand:

- A warm worker is started exactly as any worker (``spawn``: a uid leased for it alone, its own
  scratch folder, limits and confinement) and has run no student code: it only imported what its
  sandbox offers every submission (NumPy, and Keras in the Keras assignments).
- ``take`` hands it to exactly one session, which loads one submission into it and, when done,
  kills it and sweeps every process of its uid, as with every worker. A worker never goes back to
  the pool, so no worker ever sees two submissions.
- The pool works only where each worker runs under a uid of its own (the grader is root). The
  submission graded meanwhile runs under another uid, so it can neither signal, trace nor read the
  warm worker's memory, and no process of it outlives its session's uid sweep, which runs before
  the next submission is loaded into the warm worker. Under bubblewrap it cannot even see the warm
  worker (its own PID namespace).

A worker never outlives its grader: each has a lifeline (``lifeline.py``), a root process that holds
its uid lease and sweeps its uid if the grader dies without doing so itself (``kill -9`` included).
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dlcourse.autograder.engine.ipc import remove_objects_of
from dlcourse.autograder.engine.lifeline import Lifeline
from dlcourse.autograder.engine.quota import ScratchWatch
from dlcourse.autograder.engine.sandbox import Sandbox, UidLease, kill_uid, remove_scratch

# What a warm worker imports before any student code, by whether its sandbox offers Keras.
PRELOAD = {False: (), True: ("keras",)}


@dataclass
class Spawned:
    """A started worker: its process, the read end of its reply pipe, its uid lease and scratch folder."""

    process: subprocess.Popen
    reply_fd: int
    lease: UidLease
    scratch: Path | None
    watch: ScratchWatch | None = None  # the bound on the scratch folder's total size (quota.py)
    lifeline: Lifeline | None = None  # sweeps the uid if this grader dies first (lifeline.py)

    @property
    def over_limit(self) -> str | None:
        """Why the scratch watch killed this worker, if it did."""
        return self.watch.exceeded if self.watch is not None else None

    def kill(self) -> None:
        """Kill the worker and every process of its uid, remove every SysV IPC object of that uid (no
        IPC namespace at the fallback level: see ``ipc.py``); remove the scratch folder; release the uid."""
        if self.watch is not None:
            self.watch.stop()
        kill_process(self.process)
        os.close(self.reply_fd)
        try:
            if self.lease.uid is not None and not kill_uid(self.lease.uid):
                raise RuntimeError(f"processes of sandbox uid {self.lease.uid} survive SIGKILL; grading stopped")
            if self.lease.uid is not None and remove_objects_of(self.lease.uid):
                raise RuntimeError(f"SysV IPC objects of sandbox uid {self.lease.uid} survive IPC_RMID; grading stopped")
        finally:
            remove_scratch(self.scratch)  # before the lease: the uid's next worker never sees this one's files
            if self.lifeline is not None:
                self.lifeline.release()  # before the lease: the lifeline holds it too, until it exits
            self.lease.__exit__(None, None, None)


def spawn(sandbox: Sandbox, preload: tuple[str, ...] = ()) -> Spawned:
    """Start a worker in ``sandbox`` under a uid leased for it alone; it first imports ``preload``."""
    lease = UidLease()
    uid = lease.__enter__()
    if uid is not None:
        kill_uid(uid)  # a leased uid runs nothing else: whatever is left from a crashed grader goes
        remove_objects_of(uid)
    scratch = sandbox.scratch(uid)
    read_end, write_end = os.pipe()
    lifeline = None
    try:
        # started first, holding the lease's locked file too: see lifeline.py
        lifeline = Lifeline(uid, lease._file.fileno() if uid is not None else None)
        process = subprocess.Popen(
            sandbox.command(write_end, uid, scratch, preload=preload), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(write_end,),
            env=sandbox.environment(scratch), cwd=scratch, start_new_session=True)
    except BaseException:
        os.close(read_end)
        remove_scratch(scratch)
        if lifeline is not None:
            lifeline.release()
        lease.__exit__(None, None, None)
        raise
    finally:
        os.close(write_end)
    lifeline.watch(process.pid)
    watch = None
    if scratch is not None:
        def stop_worker():  # from the watch's thread: kill only; the session sees the death and closes
            if uid is not None:
                kill_uid(uid)
                return
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        watch = ScratchWatch(scratch, sandbox.limits.tmp_bytes, stop_worker).start()
    return Spawned(process, read_end, lease, scratch, watch, lifeline)


def kill_process(process: subprocess.Popen) -> None:
    """Kill a worker's process group (and the worker itself), wait for it, close its pipes."""
    for target in (lambda: os.killpg(process.pid, signal.SIGKILL), lambda: process.kill()):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for stream in (process.stdin, process.stdout):
        try:
            stream.close()
        except OSError:
            pass


class WorkerPool:
    """At most one warm worker, started ahead for the sandbox of the submission graded last.

    ``take(sandbox)`` returns the warm worker when it was started for an equal sandbox (and forgets
    it), else None; ``prepare(sandbox)`` starts the next one. ``close()`` kills a warm worker left
    over (also at exit). Without a uid per worker (the grader is not root) the pool stays empty.
    """

    def __init__(self):
        self._warm: tuple[Sandbox, Spawned] | None = None
        atexit.register(self.close)

    @staticmethod
    def usable() -> bool:
        return os.geteuid() == 0

    def take(self, sandbox: Sandbox) -> Spawned | None:
        warm, self._warm = self._warm, None
        if warm is None:
            return None
        if warm[0] != sandbox or warm[1].process.poll() is not None:
            warm[1].kill()
            return None
        return warm[1]

    def prepare(self, sandbox: Sandbox) -> None:
        if not self.usable() or (self._warm is not None and self._warm[0] == sandbox):
            return
        self.close()
        self._warm = (sandbox, spawn(sandbox, PRELOAD[sandbox.frameworks]))

    def close(self) -> None:
        warm, self._warm = self._warm, None
        if warm is not None:
            warm[1].kill()
