"""The fork server (``forkserver.py``, ``sandboxed/forkserver.py``): a forked Keras worker is confined exactly as a
started one, reports how it died as a started one does, and the server dies with its grader.

Real workers at the fallback level (Landlock, a uid per worker: root), the Keras sandbox.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from dlcourse.autograder.engine import forkserver
from dlcourse.autograder.engine.forkserver import ForkedProcess
from dlcourse.autograder.engine.pool import WorkerPool
from dlcourse.autograder.engine.sandbox import Sandbox
from dlcourse.autograder.engine.session import WorkerSession
from conftest import DAEMON, gone_within

KERAS = Sandbox(isolation="fallback", frameworks=True)
pytestmark = pytest.mark.skipif(not forkserver.usable(KERAS), reason="forked workers need root and Landlock")

REPORT = """
import os, resource


def report():
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    fds = []
    for name in os.listdir("/proc/self/fd"):
        try:
            fds.append(os.readlink(f"/proc/self/fd/{name}").split(":")[0])
        except FileNotFoundError:  # the listing's own, closed by now
            pass

    def attempt(action):
        try:
            action()
            return "allowed"
        except OSError as error:
            return type(error).__name__

    parent = os.getppid()
    return {
        "ids": [list(os.getresuid()), list(os.getresgid()), os.getgroups()],
        "status": {key: status[key].strip() for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
                                                         "NoNewPrivs", "Seccomp")},
        "limits": {name: list(resource.getrlimit(getattr(resource, name)))
                   for name in ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_NPROC")},
        "descriptors": sorted(fds),
        "home": os.getcwd() == os.environ["HOME"] == os.environ["TMPDIR"],
        "environment": sorted(os.environ),
        "session leader": os.getsid(0) == os.getpid(),
        "signal the parent": attempt(lambda: os.kill(parent, 0)),
        "read the parent's memory": attempt(lambda: open(f"/proc/{parent}/mem", "rb").read(1)),
        "read /etc/hostname": attempt(lambda: open("/etc/hostname").read()),
        "write /tmp": attempt(lambda: open("/tmp/dlcourse-forked-probe", "w").close()),
        "write home": attempt(lambda: open(os.path.join(os.environ["HOME"], "probe"), "w").close()),
    }


def exit_3():
    os._exit(3)


def segfault():
    import ctypes
    ctypes.string_at(0)
"""


def cells(*sources):
    return [{"label": f"cell {index}", "statements": [[1, source]]} for index, source in enumerate(sources, start=1)]


def call(session, unit, timeout=60.0):
    return session.run({"op": "run", "unit": unit, "driver": "call", "args": []}, timeout)


@pytest.fixture
def pool():
    pool = WorkerPool()
    yield pool
    pool.close()


def forked_session(pool, sources):
    """A session whose worker is the pool's warm one: forked (``forked`` asserts it once the worker runs)."""
    pool.prepare(KERAS)
    return WorkerSession(KERAS, cells(*sources), pool=pool)


def forked(session) -> bool:
    return isinstance(session._worker.process, ForkedProcess)


def test_a_forked_worker_is_confined_exactly_as_a_started_one(pool):
    with WorkerSession(KERAS, cells(REPORT)) as started:  # no pool: started by exec, as every worker was
        expected = call(started, "report")
        assert isinstance(started._worker.process, subprocess.Popen)
    with forked_session(pool, [REPORT]) as session:
        received = call(session, "report")
        assert forked(session)
    assert expected["status"] == received["status"] == "ok", (expected, received)
    assert received["value"] == expected["value"]
    confined = received["value"]
    assert confined["ids"][0][0] >= 1000 and confined["status"]["CapBnd"] == "0000000000000000"
    assert confined["status"]["NoNewPrivs"] == "1" and confined["status"]["Seccomp"] == "2"
    assert confined["descriptors"] == ["pipe"] * 4  # stdin, stdout and stderr, the reply pipe: no socket
    assert confined["signal the parent"] == confined["read the parent's memory"] == "PermissionError"
    assert confined["read /etc/hostname"] == confined["write /tmp"] == "PermissionError"
    assert confined["write home"] == "allowed" and confined["session leader"] and confined["home"]


def test_a_forked_worker_that_dies_is_reported_as_a_started_one(pool):
    for unit, words in (("exit_3", "exited with code 3"), ("segfault", "SIGSEGV: a segmentation fault")):
        with forked_session(pool, [REPORT]) as session:
            failure = call(session, unit)
        assert words in failure.message, failure


def test_the_fork_server_survives_a_submission_and_forks_the_next_ones(pool):
    """A student's daemon kills whatever it may: the server (root, its worker's parent) is not among it, nor the
    next submission's warm worker, and the server forks on."""
    with forked_session(pool, [REPORT, DAEMON]) as session:
        assert call(session, "report")["status"] == "ok" and forked(session)
        with open(f"/proc/{session._worker.process.pid}/status") as stream:
            parent = int(next(line for line in stream if line.startswith("PPid:")).split()[1])
        assert call(session, "leave_a_daemon")["status"] == "ok"
        time.sleep(2.0)  # the daemon keeps killing whatever it can
    server = pool._server.process
    assert parent == server.pid and server.poll() is None and pool._warm[1].process.poll() is None
    with forked_session(pool, [REPORT]) as session:
        assert call(session, "report")["status"] == "ok" and forked(session)


def test_a_dead_fork_server_leaves_the_pool_starting_its_workers(pool):
    with forked_session(pool, [REPORT]) as session:
        assert call(session, "report")["status"] == "ok" and forked(session)
    pool._discard_warm()
    pool._server.process.kill()
    pool._server.process.wait()
    pool.prepare(KERAS)
    assert not pool.forking and isinstance(pool._warm[1].process, subprocess.Popen)
    with WorkerSession(KERAS, cells(REPORT), pool=pool) as started:
        assert call(started, "report")["status"] == "ok"


GRADER_KILLED = """
import os, signal, sys
from dlcourse.autograder.engine.pool import WorkerPool
from dlcourse.autograder.engine.sandbox import Sandbox
pool = WorkerPool()
pool.prepare(Sandbox(isolation="fallback", frameworks=True))
assert pool.forking
print(pool._server.process.pid, pool._server._home, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_fork_server_dies_with_its_grader_and_removes_its_home():
    grader = subprocess.run([sys.executable, "-c", GRADER_KILLED], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert grader.returncode == -signal.SIGKILL, grader.stderr[-2000:]
    server, home = grader.stdout.split()
    assert gone_within([int(server)], 10), "the fork server outlived its grader"
    assert not os.path.exists(home)  # made before the server started (Keras's config goes there); removed on its way out


def test_a_fork_server_whose_workers_are_confined_less_is_not_used(monkeypatch):
    """Before its first worker is handed out, a forked worker must prove every layer a started one proves:
    here the server's children may write the whole temporary folder, the probe sees it, and the pool starts
    its workers itself."""
    import tempfile

    widened = Sandbox.confinement
    monkeypatch.setattr(Sandbox, "confinement", lambda self, scratch: {
        **widened(self, scratch), "write": [str(scratch), tempfile.gettempdir()]})
    pool = WorkerPool()
    try:
        pool.prepare(KERAS)
        assert not pool.forking and isinstance(pool._warm[1].process, subprocess.Popen)
    finally:
        pool.close()
