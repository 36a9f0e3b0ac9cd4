"""The fork server (``forkserver.py``, ``sandboxed/forkserver.py``): a forked Keras worker is confined exactly as a
started one, reports how it died as a started one does, and the server dies with its grader.

Real workers of the Keras sandbox, a uid per worker (root), at both levels that fork: fallback (Landlock) and
bubblewrap (each forked worker in namespaces and a ``/tmp`` of its own, as bubblewrap starts one).
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

def keras_sandbox(level: str, frameworks: bool = True) -> Sandbox | None:
    """The Keras sandbox (or the NumPy one) at ``level``, where its workers may be forked here (None elsewhere)."""
    try:
        sandbox = Sandbox(isolation=level, frameworks=frameworks)
    except ValueError:  # bubblewrap cannot make namespaces here, say
        return None
    return sandbox if forkserver.usable(sandbox) else None


@pytest.fixture(params=["fallback", "bwrap"])
def keras(request) -> Sandbox:
    sandbox = keras_sandbox(request.param)
    if sandbox is None:
        pytest.skip(f"forked workers at level {request.param} need root (and Landlock, or bubblewrap)")
    return sandbox


@pytest.fixture(params=[("fallback", True), ("bwrap", True), ("fallback", False), ("bwrap", False)],
                ids=["keras-fallback", "keras-bwrap", "numpy-fallback", "numpy-bwrap"])
def any_kind(request) -> Sandbox:
    """Each kind of worker a pool forks: Keras or NumPy, at either level."""
    sandbox = keras_sandbox(*request.param)
    if sandbox is None:
        pytest.skip(f"forked workers at level {request.param[0]} need root (and Landlock, or bubblewrap)")
    return sandbox

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
        "home": [os.getcwd(), os.environ["HOME"], os.environ.get("TMPDIR")],
        "pid": os.getpid(),
        "processes": sorted(int(name) for name in os.listdir("/proc") if name.isdigit()),
        "tmp bytes": os.statvfs("/tmp").f_blocks * os.statvfs("/tmp").f_frsize,
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


def forked_session(pool, keras, sources):
    """A session whose worker is the pool's warm one: forked (``forked`` asserts it once the worker runs)."""
    pool.prepare(keras)
    return WorkerSession(keras, cells(*sources), pool=pool)


def forked(session) -> bool:
    return isinstance(session._worker.process, ForkedProcess)


def test_a_forked_worker_is_confined_exactly_as_a_started_one(pool, any_kind):
    keras = any_kind
    with WorkerSession(keras, cells(REPORT)) as started:  # no pool: started by exec, as every worker was
        expected = call(started, "report")
        assert isinstance(started._worker.process, subprocess.Popen)
    with forked_session(pool, keras, [REPORT]) as session:
        received = call(session, "report")
        assert forked(session)
    assert expected["status"] == received["status"] == "ok", (expected, received)
    confined, alike = received["value"], dict(expected["value"])
    if keras.isolation == "fallback":  # each its own scratch folder, and a PID among this machine's
        alike.update({key: confined[key] for key in ("home", "pid", "processes")})
    assert confined == alike
    assert confined["ids"][0][0] >= 1000 and confined["status"]["CapBnd"] == "0000000000000000"
    assert confined["status"]["NoNewPrivs"] == "1" and confined["status"]["Seccomp"] == "2"
    assert confined["descriptors"] == ["pipe"] * 4  # stdin, stdout and stderr, the reply pipe: no socket
    assert confined["signal the parent"] == confined["read the parent's memory"] == "PermissionError"
    assert confined["write home"] == "allowed"
    if keras.isolation == "fallback":
        assert confined["read /etc/hostname"] == confined["write /tmp"] == "PermissionError"
        assert confined["session leader"] and confined["home"][0] == confined["home"][1] == confined["home"][2]
    else:  # PID 2 of a PID namespace of its own, whose PID 1 is its init; a /tmp of its own, bounded
        assert confined["pid"] == 2 and confined["processes"] == [1, 2] and confined["home"] == ["/tmp", "/tmp", None]
        assert confined["tmp bytes"] == keras.limits.tmp_bytes and confined["write /tmp"] == "allowed"


SHARE = """
import os


def leave_a_file():
    open("/tmp/left-by-the-first", "w").write("x")
    return sorted(os.listdir("/tmp")), {name: os.readlink(f"/proc/self/ns/{name}") for name in ("pid", "net", "ipc",
                                                                                                  "uts", "mnt")}
"""


def test_forked_bubblewrap_workers_share_no_namespace_or_tmp(pool):
    """Two workers forked by one server (inside one bubblewrap sandbox) see neither each other's files nor the
    same namespaces, nor the grader's."""
    keras = keras_sandbox("bwrap")
    if keras is None:
        pytest.skip("forked bubblewrap workers need root and bubblewrap")
    seen = []
    for _ in range(2):
        with forked_session(pool, keras, [SHARE]) as session:
            reply = call(session, "leave_a_file")
            assert reply["status"] == "ok" and forked(session), reply
            seen.append(reply["value"])
    (files_1, spaces_1), (files_2, spaces_2) = seen
    assert files_1 == files_2 == ["left-by-the-first"]  # the second began with an empty /tmp
    ours = {name: os.readlink(f"/proc/self/ns/{name}") for name in spaces_1}
    for name in spaces_1:
        assert len({spaces_1[name], spaces_2[name], ours[name]}) == 3, name


INIT = """
def init_status():
    lines = open("/proc/1/status").read().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)
            if key in ("Uid", "CapEff", "CapPrm", "CapInh")}
"""


def test_a_forked_bubblewrap_workers_init_keeps_no_capability(pool):
    """The namespace's init (root, our code: it only reaps) drops every capability once it has forked the worker."""
    keras = keras_sandbox("bwrap")
    if keras is None:
        pytest.skip("forked bubblewrap workers need root and bubblewrap")
    with forked_session(pool, keras, [INIT]) as session:
        reply = call(session, "init_status")
        assert reply["status"] == "ok" and forked(session), reply
    status = reply["value"]
    assert status["Uid"].split()[0] == "0"
    assert status["CapEff"] == status["CapPrm"] == status["CapInh"] == "0000000000000000", status


def test_a_forked_worker_that_dies_is_reported_as_a_started_one(pool, keras):
    for unit, words in (("exit_3", "exited with code 3"), ("segfault", "SIGSEGV: a segmentation fault")):
        with forked_session(pool, keras, [REPORT]) as session:
            failure = call(session, unit)
        assert words in failure.message, failure


def test_the_fork_server_survives_a_submission_and_forks_the_next_ones(pool, keras):
    """A student's daemon kills whatever it may: the server (root, its worker's parent) is not among it, nor the
    next submission's warm worker, and the server forks on."""
    with forked_session(pool, keras, [REPORT, DAEMON]) as session:
        assert call(session, "report")["status"] == "ok" and forked(session)
        ancestors = ancestors_of(session._worker.process.pid)
        assert call(session, "leave_a_daemon")["status"] == "ok"
        time.sleep(2.0)  # the daemon keeps killing whatever it can
    server = pool.server_for(keras).process
    assert server.pid in ancestors and server.poll() is None and pool._warm[1].process.poll() is None
    with forked_session(pool, keras, [REPORT]) as session:
        assert call(session, "report")["status"] == "ok" and forked(session)


def ancestors_of(pid: int) -> list[int]:
    """The parent of ``pid``, its parent, and so on up to PID 1 (as this process sees them)."""
    found = []
    while pid > 1:
        with open(f"/proc/{pid}/status") as stream:
            pid = int(next(line for line in stream if line.startswith("PPid:")).split()[1])
        found.append(pid)
    return found


LOADED = """
import sys


def loaded():
    return "keras" in sys.modules
"""


def test_one_pool_forks_each_kind_of_worker_from_a_server_of_its_own(pool):
    numpy, keras = keras_sandbox("bwrap", frameworks=False), keras_sandbox("bwrap")
    if numpy is None or keras is None:
        pytest.skip("forked bubblewrap workers need root and bubblewrap")
    for sandbox, module in ((numpy, "numpy"), (keras, "keras"), (numpy, "numpy")):
        with forked_session(pool, sandbox, [LOADED]) as session:
            reply = call(session, "loaded")
            assert reply["status"] == "ok" and forked(session) and reply["value"] is (module == "keras"), reply
    assert pool.server_for(numpy) is not pool.server_for(keras) and len(pool._servers) == 2


def test_a_dead_fork_server_leaves_the_pool_starting_its_workers(pool, keras):
    with forked_session(pool, keras, [REPORT]) as session:
        assert call(session, "report")["status"] == "ok" and forked(session)
    pool._discard_warm()
    pool.server_for(keras).process.kill()
    pool.server_for(keras).process.wait()
    pool.prepare(keras)
    assert not pool.forking and isinstance(pool._warm[1].process, subprocess.Popen)
    with WorkerSession(keras, cells(REPORT), pool=pool) as started:
        assert call(started, "report")["status"] == "ok"


GRADER_KILLED = """
import os, signal, sys
from dlcourse.autograder.engine.pool import WorkerPool
from dlcourse.autograder.engine.sandbox import Sandbox
pool = WorkerPool()
sandbox = Sandbox(isolation=sys.argv[1], frameworks=True)
pool.prepare(sandbox)
server = pool.server_for(sandbox)
warm = pool._warm[1].process.pid
print(server.process.pid, warm, server._home, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_fork_server_and_its_workers_die_with_their_grader_and_the_server_removes_its_home(keras):
    grader = subprocess.run([sys.executable, "-c", GRADER_KILLED, keras.isolation], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert grader.returncode == -signal.SIGKILL, grader.stderr[-2000:]
    server, warm, home = grader.stdout.split()
    assert gone_within([int(server), int(warm)], 10), "the fork server or its warm worker outlived its grader"
    if keras.isolation == "fallback":  # made before the server started (Keras's config goes there)
        assert not os.path.exists(home)
    else:  # its HOME was its sandbox's own /tmp
        assert home == "None"


def test_a_fork_server_whose_workers_are_confined_less_is_not_used(monkeypatch, keras):
    """Before its first worker is handed out, a forked worker must prove every layer a started one proves:
    here the server's children may read the whole filesystem, the probe sees it, and the pool starts its
    workers itself."""
    widened = Sandbox.confinement
    monkeypatch.setattr(Sandbox, "confinement", lambda self, scratch: {
        **widened(self, scratch), "read": [*widened(self, scratch)["read"], "/"]})
    pool = WorkerPool()
    try:
        pool.prepare(keras)
        assert not pool.forking and isinstance(pool._warm[1].process, subprocess.Popen)
    finally:
        pool.close()
