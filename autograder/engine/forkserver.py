"""The grader's end of the fork server (``sandboxed/forkserver.py``): workers forked, not started.

``ForkServer(sandbox, preload)`` starts the server (root, the student runtime's Python, the sandbox's
environment) and ``fork`` asks it for one worker, which it hands back as a ``ForkedProcess``: what
``pool.Spawned`` and the session use of a ``subprocess.Popen`` (``pid``, ``stdin``, ``stdout``, ``wait``,
``poll``, ``kill``), the exit code read from the status pipe the server writes when it reaps the child.

Used only where a forked worker is confined exactly as a started one, and where it pays: under
bubblewrap, and at the fallback level with Landlock (not in the chroot jail, whose later imports would
not find the runtime where the server found it), as root (a uid per worker), in a batch
(``WorkerPool``), one server for each kind of worker (``kind``: Keras or NumPy, at one level). Under
bubblewrap the server runs in a bubblewrap sandbox like a worker's, and each child makes the
namespaces and the ``/tmp`` that bubblewrap gives a worker it starts, before anything else (``sandboxed/forkserver.py``); the server's PIDs are its namespace's, so
the pid of each child comes with the kernel's translation (``SCM_CREDENTIALS``). Everything else about a
worker is unchanged: its uid lease and lifeline, its scratch folder and watch (fallback), and the sweep
of its uid after its submission.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path


FORK_SECONDS = 120.0  # the first fork waits for the server's imports


class ForkServerError(RuntimeError):
    """The server did not fork (it died, or answered something else): the caller starts the worker itself."""


class ForkedProcess:
    """A worker forked by the server: the parts of ``subprocess.Popen`` that the grader uses."""

    def __init__(self, pid: int, stdin_fd: int, stdout_fd: int, status_fd: int):
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = open(stdin_fd, "wb", buffering=0)
        self.stdout = open(stdout_fd, "rb", buffering=0)
        self._status = status_fd
        self._pidfd = os.pidfd_open(pid)  # signals reach this process, never a later one with its pid

    def poll(self) -> int | None:
        return self._read_status(0.0)

    def wait(self, timeout: float | None = None) -> int | None:
        code = self._read_status(timeout)
        if code is None and self._status >= 0:
            raise subprocess.TimeoutExpired(f"forked worker {self.pid}", timeout)
        return code

    def kill(self) -> None:
        if self._pidfd < 0:  # reaped: its pid may be another process's by now
            return
        try:
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _read_status(self, timeout: float | None) -> int | None:
        """The exit code once the server has reaped the worker (None: still running; or gone with the server,
        which closes the pipe without a word)."""
        if self._status < 0:
            return self.returncode
        readable, _, _ = select.select([self._status], [], [], timeout)
        if not readable:
            return None
        text = os.read(self._status, 64)
        os.close(self._status)
        os.close(self._pidfd)
        self._status = self._pidfd = -1
        self.returncode = int(text) if text.lstrip(b"-").isdigit() else None
        return self.returncode


class ForkServer:
    """One fork server for workers of ``sandbox`` that import ``preload`` (see the module)."""

    def __init__(self, sandbox, preload: tuple[str, ...]):
        self._socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self._lock = threading.Lock()
        settings = {"preload": list(preload)}
        environment = sandbox.environment()
        self._home = None  # under bubblewrap the server's HOME is its own /tmp, gone with it
        if sandbox.isolation != "bwrap":
            self._home = tempfile.mkdtemp(prefix="dlcourse-forkserver-")  # root's (0700): Keras writes its config here
            settings["home"] = self._home
            environment.update(HOME=self._home, KERAS_HOME=os.path.join(self._home, ".keras"))
        try:
            self.process = subprocess.Popen(
                sandbox.fork_server_command(theirs.fileno(), settings),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), cwd="/", start_new_session=True, env=environment)
        finally:
            theirs.close()

    def fork(self, sandbox, uid: int, scratch: Path | None, reply_fd: int) -> ForkedProcess:
        """A worker of ``sandbox`` (its limits, environment and confinement; Keras as the server's) for ``uid``,
        writing to ``scratch`` (None under bubblewrap: a ``/tmp`` of its own) and replying on ``reply_fd`` (the
        caller closes its copy)."""
        limits = sandbox.limits
        request = {"uid": uid, "scratch": str(scratch or "/tmp"), "environment": sandbox.environment(scratch),
                   "limits": {"RLIMIT_CPU": [limits.cpu_seconds, limits.cpu_seconds + 5],
                              "RLIMIT_AS": [limits.memory_bytes] * 2, "RLIMIT_FSIZE": [limits.file_bytes] * 2,
                              "RLIMIT_CORE": [0, 0], "RLIMIT_NPROC": [limits.processes] * 2},
                   **sandbox.confinement(scratch)}
        if sandbox.isolation == "bwrap":  # as bubblewrap starts a worker: PWD from its --chdir /tmp
            request.update(namespaces={"tmp_bytes": limits.tmp_bytes},
                           environment={**request["environment"], "PWD": "/tmp"})
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        status_read, status_write = os.pipe()
        try:
            with self._lock:
                self._socket.settimeout(FORK_SECONDS)
                socket.send_fds(self._socket, [json.dumps(request).encode()],
                                [stdin_read, stdout_write, reply_fd, status_write])
                answer, pid = _pid_received(self._socket)
                problem = None if pid > 0 else f"answered {answer[:40]!r}"
        except OSError as error:
            problem = f"did not answer: {error}"
        finally:
            for fd in (stdin_read, stdout_write, status_write):  # the server's copies, or nobody's
                os.close(fd)
        if problem:
            for fd in (stdin_write, stdout_read, status_read):
                os.close(fd)
            raise ForkServerError(f"the fork server {problem}")
        return ForkedProcess(pid, stdin_write, stdout_read, status_read)

    def close(self) -> None:
        """End the server (end-of-file on its socket; killed if it lingers). Its workers are the pool's to kill."""
        self._socket.close()
        deadline = time.monotonic() + 5
        while self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)  # the server removes it on its way out, unless killed


def _pid_received(control: socket.socket) -> tuple[bytes, int]:
    """The server's answer, and the pid it names as this process sees it: the one in the message's credentials,
    translated by the kernel from the server's PID namespace (bubblewrap's) into ours; 0 if the answer names none."""
    answer, ancillary, _, _ = control.recvmsg(64, socket.CMSG_SPACE(struct.calcsize("3i")))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and answer.isdigit() and int(answer) > 0:
            return answer, struct.unpack("3i", data[:struct.calcsize("3i")])[0]
    return answer, 0


def kind(sandbox) -> tuple[str, bool]:
    """What one fork server's workers share: the level (its command, the children's namespaces) and the runtime
    (with Keras or not: what it imported). Their limits and confinement come with each request."""
    return sandbox.isolation, sandbox.frameworks


def usable(sandbox) -> bool:
    """Whether workers of ``sandbox`` may be forked (see the module): bubblewrap or fallback with Landlock, as root."""
    return (sandbox.isolation in ("bwrap", "fallback") and not sandbox.jailed
            and os.geteuid() == 0 and hasattr(os, "pidfd_open") and os.environ.get("DLCOURSE_FORK_SERVER", "1") != "0")
