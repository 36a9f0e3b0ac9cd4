"""Starting sandboxed workers, and starting the next submissions' workers ahead in a batch.

A worker costs its start-up before it can load a student's code: the sandbox and NumPy's import
(about 0.2 s), and in the Keras assignments Keras and TensorFlow (2-3 s of one core), paid again for
every submission. ``WorkerPool`` hides that cost in a batch: while one submission is graded, the
workers for the next ones (``depth``, 2 by default) are already starting (and importing what the
assignment's sandbox offers), so one is ready when a submission comes. Two ahead rather than one: a
submission graded faster than TensorFlow imports (one that raises NotImplementedError everywhere, say)
would otherwise leave the next one waiting for the rest of that import, while the import, one thread,
leaves a core idle; two imports started a submission apart use both cores of a small machine. Each
warm Keras worker holds about 0.5 GB resident (measured: 490 MB after ``import keras``).

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

Workers are forked rather than started where that confines them alike (``forkserver.py``: bubblewrap,
and the fallback level with Landlock): the pool starts one fork server for each kind of worker (Keras or
NumPy), which imports what they import once, and before handing out its first forked worker proves that
one holds every layer a started worker holds.

A worker never outlives its grader: each has a lifeline (``lifeline.py``), a root process that holds
its uid lease and sweeps its uid if the grader dies without doing so itself (``kill -9`` included).
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from dlcourse.autograder.engine import forkserver
from dlcourse.autograder.engine.forkserver import ForkServer, ForkServerError
from dlcourse.autograder.engine.ipc import remove_objects_of
from dlcourse.autograder.engine.lifeline import Lifeline
from dlcourse.autograder.engine.quota import ScratchWatch
from dlcourse.autograder.engine.sandbox import Sandbox, UidLease, kill_uid, remove_scratch

# What a warm worker imports before any student code, by whether its sandbox offers Keras.
PRELOAD = {False: (), True: ("keras",)}


@dataclass
class Spawned:
    """A started worker: its process, the read end of its reply pipe, its uid lease and scratch folder."""

    process: subprocess.Popen | forkserver.ForkedProcess
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


def spawn(sandbox: Sandbox, preload: tuple[str, ...] = (), server: ForkServer | None = None) -> Spawned:
    """Start a worker in ``sandbox`` under a uid leased for it alone; it first imports ``preload``. With ``server``
    (for this sandbox and preload) the worker is forked by it; ``ForkServerError`` if it does not."""
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
        lifeline = Lifeline(uid, lease._file.fileno() if uid is not None else None, scratch)
        if server is not None:
            process = server.fork(sandbox, uid, scratch, write_end)
        else:
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


def kill_process(process: subprocess.Popen | forkserver.ForkedProcess) -> None:
    """Kill a worker's process group (and the worker itself), wait for it, close its pipes. A forked worker's group
    is left to the uid sweep: its parent, the fork server, may have reaped it, and its pid be another's by now."""
    group = [lambda: os.killpg(process.pid, signal.SIGKILL)] if isinstance(process, subprocess.Popen) else []
    for target in (*group, lambda: process.kill()):
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
    """Up to ``depth`` warm workers, started ahead for the sandbox of the submission graded last.

    ``take(sandbox)`` returns the oldest warm worker when it was started for an equal sandbox (and
    forgets it), else None (and kills those left for another sandbox); ``prepare(sandbox)`` starts
    workers until ``depth`` are warm. ``close()`` kills the warm workers left over and ends the fork
    server (also at exit). Without a uid per worker (the grader is not root) the pool stays empty.

    Workers are forked by a fork server where ``forkserver.usable`` says a forked worker is confined
    as a started one (one server for each kind of worker, for the pool's life, started with its first); a
    server that fails is ended, and the pool starts that kind of worker itself from then on.
    """

    def __init__(self, depth: int = 2):
        if depth < 1:
            raise ValueError(f"Expected a depth of at least 1 warm worker. Received depth={depth}.")
        self.depth = depth
        self._lock = threading.RLock()  # two sessions of one submission may take workers at once (alongside.py)
        self._ahead: list[tuple[Sandbox, Spawned]] = []  # oldest first: the next one taken
        self._servers: dict[tuple, ForkServer] = {}  # by ``forkserver.kind``: one for each kind of worker forked
        self._failed: set[tuple] = set()  # kinds whose server failed: their workers are started
        atexit.register(self.close)

    @property
    def _warm(self) -> tuple[Sandbox, Spawned] | None:
        """The warm worker the next ``take`` hands out (None when there is none)."""
        return self._ahead[0] if self._ahead else None

    @staticmethod
    def usable() -> bool:
        return os.geteuid() == 0

    def take(self, sandbox: Sandbox) -> Spawned | None:
        with self._lock:
            return self._take(sandbox)

    def _take(self, sandbox: Sandbox) -> Spawned | None:
        if self._ahead and self._ahead[0][0] != sandbox:
            self._discard_warm()  # all of them were started for the other sandbox
        while self._ahead:
            warm = self._ahead.pop(0)[1]
            if warm.process.poll() is None:
                return warm
            warm.kill()  # died while warm (never handed out): the next one, if any
        return None

    def prepare(self, sandbox: Sandbox) -> None:
        if not self.usable():
            return
        with self._lock:
            if self._ahead and self._ahead[0][0] != sandbox:
                self._discard_warm()
            while len(self._ahead) < self.depth:
                self._ahead.append((sandbox, self._spawn(sandbox)))

    def forks(self, sandbox: Sandbox) -> bool:
        """Whether this pool forks the workers of ``sandbox`` (or will, with its first one): a worker costs a fork."""
        return self.usable() and forkserver.kind(sandbox) not in self._failed and forkserver.usable(sandbox)

    @property
    def forking(self) -> bool:
        """Whether a fork server is running (it forked some of this pool's workers)."""
        return bool(self._servers)

    def server_for(self, sandbox: Sandbox) -> ForkServer | None:
        """The fork server of ``sandbox``'s kind of worker, if one runs."""
        return self._servers.get(forkserver.kind(sandbox))

    def close(self) -> None:
        with self._lock:
            self._discard_warm()
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.close()

    def _discard_warm(self) -> None:
        ahead, self._ahead = self._ahead, []
        for _, warm in ahead:
            warm.kill()

    def _spawn(self, sandbox: Sandbox) -> Spawned:
        preload = PRELOAD[sandbox.frameworks]
        if not self.forks(sandbox):
            return spawn(sandbox, preload)
        kind = forkserver.kind(sandbox)
        try:
            server = self._servers.get(kind)
            if server is None:
                server = self._servers[kind] = ForkServer(sandbox, preload)
                from dlcourse.autograder.engine.protections import holds_in  # (it starts sessions of ours)

                if not holds_in(sandbox, spawn(sandbox, preload, server)):  # detected, not assumed
                    raise ForkServerError("a forked worker does not prove the confinement of a started one")
            return spawn(sandbox, preload, server)
        except (ForkServerError, OSError):
            self._failed.add(kind)
            server = self._servers.pop(kind, None)
            if server is not None:
                server.close()
            return spawn(sandbox, preload)
