"""The fork server: workers forked from one process that has already imported what they import.

Every Keras worker spends about 2 s of one core importing TensorFlow (2,847 modules), and a batch starts
one worker per submission: about half of a Keras assignment's CPU (measured on 2 cores). Forked from a
process that has done it, a worker is ready in 40 ms. A NumPy worker saves less (NumPy's import, and
under bubblewrap the sandbox's set-up): a fifth to a third of a NumPy assignment's CPU under bubblewrap.
The grader (``engine/forkserver.py``) starts this file as root with the student runtime's Python
(``python -I -S forkserver.py FD CONFIG``), in the sandbox's environment: under bubblewrap inside a
bubblewrap sandbox like a worker's (``Sandbox.fork_server_command``), keeping the capabilities its
children need until they drop them all. Like Android's zygote, it never loads student code and holds
nothing of the grader's: it imports what every warm worker imports (``worker.py`` with its drivers, then
the sandbox's ``preload``; one thread, TensorFlow starts none at import) and then serves fork requests on
the control socket, descriptor FD (``SOCK_SEQPACKET``, one message a request):

    request: ``{"uid", "scratch", "environment", "limits", "read", "write"}`` (JSON; under bubblewrap also
             ``"namespaces": {"tmp_bytes"}``) with four descriptors
             (``SCM_RIGHTS``): the worker's stdin, its stdout (its stderr too), its reply pipe, and a
             status pipe.
    answer:  the child's pid (ASCII digits), and in the message's credentials (``SCM_CREDENTIALS``), where the
             kernel translates it into the grader's PID namespace.

The child, before its worker runs anything: a session of its own; the four descriptors at 0, 1, 2 and 3
and every other one closed (the control socket and the other workers' pipes among them); under bubblewrap
(``"namespaces"`` in the request), the namespaces and ``/tmp`` bubblewrap gives a worker, in which the
worker is PID 2 (``_own_namespaces``); its scratch
folder as working directory, HOME and TMPDIR; the limits ``prlimit`` sets for a worker started by
``exec``; no capability in its bounding set; the leased uid as its only uid, gid and group, and no
inheritable capability (``setpriv --clear-groups --bounding-set=-all --inh-caps=-all``); then the
worker's own confinement (``confine.apply``: no_new_privs, seccomp, Landlock) and its request loop.

When a child exits, the server writes its exit code (minus the signal that killed it) on the child's
status pipe and closes it. The server exits at end-of-file on its control socket: when the grader
closes it, or dies; it then removes its own HOME (``settings["home"]``, a private folder of the grader's
making, where Keras wrote its config at import).
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import socket
import struct
import sys

PR_CAPBSET_DROP = 24
PR_SET_PDEATHSIG = 1
CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
NAMESPACES = ("mnt", "pid", "ipc", "net", "uts")
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus")  # what bubblewrap's --proc leaves read-only
LINUX_CAPABILITY_VERSION_3 = 0x20080522
CHILD_FDS = 4  # stdin, stdout, reply, status: what a request carries


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[1]))
    settings = json.loads(argv[2])
    sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), *settings["path"]]
    import worker  # its drivers and wire: what every worker imports before any student code

    for module in settings.get("preload", ()):
        try:
            __import__(module)
        except Exception:  # noqa: BLE001 - the student's own import will say what is wrong
            pass
    try:
        _serve(control, worker)
    finally:
        if settings.get("home"):
            shutil.rmtree(settings["home"], ignore_errors=True)


def _serve(control: socket.socket, worker) -> None:
    """Fork a worker for each request (see the module) until end-of-file on ``control``."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meant for the grader: it closes the socket
    statuses: dict[int, int] = {}  # a live child's pid -> the write end of its status pipe
    while True:
        readable, _, _ = select.select([control, wake_read], [], [])
        if wake_read in readable:
            os.read(wake_read, 4096)
            _reap(statuses)
        if control in readable:
            try:
                message, fds, _, _ = socket.recv_fds(control, 1 << 16, CHILD_FDS)
            except OSError:
                return
            if not message:
                return  # the grader closed its end, or died
            if len(fds) != CHILD_FDS:
                for fd in fds:
                    os.close(fd)
                control.send(b"0")
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _become_worker(worker, json.loads(message), fds)  # never returns
            for fd in fds[:3]:
                os.close(fd)
            statuses[pid] = fds[3]
            # the pid in the credentials too: the kernel gives it to the grader as the grader sees it (under
            # bubblewrap this process sees another PID namespace's numbers)
            control.sendmsg([str(pid).encode()], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS,
                                                   struct.pack("3i", pid, os.getuid(), os.getgid()))])
            _reap(statuses)


def _reap(statuses: dict[int, int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = statuses.pop(pid, None)
        if fd is not None:
            try:
                os.write(fd, str(os.waitstatus_to_exitcode(status)).encode())
            except OSError:
                pass
            os.close(fd)


def _become_worker(worker, request: dict, fds: list[int]) -> None:
    """The child: become the worker that ``request`` describes (see the module), then run its loop."""
    try:
        os.setsid()
        for target, fd in enumerate((fds[0], fds[1], fds[1], fds[2])):
            os.dup2(fd, target)
        os.closerange(CHILD_FDS, os.sysconf("SC_OPEN_MAX"))
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGCHLD, signal.SIGINT):
            signal.signal(number, signal.SIG_DFL)
        if "namespaces" in request:
            _own_namespaces(int(request["namespaces"]["tmp_bytes"]))  # returns in the worker only
        os.chdir(request["scratch"])
        os.environ.clear()
        os.environ.update(request["environment"])
        import tempfile

        tempfile.tempdir = None  # TMPDIR is the scratch folder's now
        limits = request["limits"]
        for name, (soft, hard) in limits.items():
            resource.setrlimit(getattr(resource, name), (soft, hard))
        _drop_to(int(request["uid"]))
        import confine

        worker.CONFINEMENT = confine.apply(request["read"], request["write"])
        sys.argv = [worker.__file__, "3"]
        worker.main()
    except BaseException:  # noqa: BLE001 - whatever happened, the child ends here, never back in the loop
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)


def _own_namespaces(tmp_bytes: int) -> None:
    """Under bubblewrap: what bubblewrap gives a worker it starts, for this child of the server's sandbox. Returns
    in the worker only, which is then PID 2 of its own PID namespace, as a started one is:

    - this process (``A``, the server's child, whose pid the grader holds) makes new mount, PID, IPC, network,
      UTS (and, where it can, cgroup) namespaces, then a private ``/tmp`` of ``tmp_bytes`` (tmpfs, 1777);
    - its child is the namespace's init (PID 1): it mounts the namespace's ``/proc`` (``/proc/sys`` and the
      like read-only, as bubblewrap leaves them) and forks the worker (PID 2); it dies with ``A`` (SIGKILL:
      the grader's ``kill``), and the kernel then kills everything in the namespace; ``A`` and the init
      keep no capability once their child is forked;
    - the worker's end (its exit code, or the signal that killed it) is passed up and ``A`` ends as it did, so
      the server reports it as for a worker forked without namespaces. ``A`` and the init hold none of the
      worker's pipes and run nothing of the student's (the worker cannot signal them: another uid).
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    before = {name: os.readlink(f"/proc/self/ns/{name}") for name in NAMESPACES}
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS), "unshare")
    libc.unshare(CLONE_NEWCGROUP)  # bubblewrap's --unshare-cgroup-try: where the kernel offers it
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    _check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_bytes},mode=1777".encode()),
           "mount /tmp")
    alive_read, alive_write = os.pipe()  # open in A until it ends: the init's check that A is alive
    status_read, status_write = os.pipe()  # the worker's wait status, from the init to A
    init = os.fork()
    if init:
        for fd in (alive_read, status_write):
            os.close(fd)
        _hold_nothing()
        _no_capabilities(libc)  # A only waits from here on
        os.waitpid(init, 0)
        _end_as(os.read(status_read, 64))
    os.close(status_read)
    os.close(alive_write)
    _check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    if select.select([alive_read], [], [], 0)[0]:  # A died before the line above
        os._exit(1)
    _check(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount /proc")
    for name in PROC_READ_ONLY:
        path = f"/proc/{name}".encode()
        if os.path.exists(path):
            _check(libc.mount(path, path, None, MS_BIND | MS_REC, None), f"bind {name}")
            _check(libc.mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY, None), f"read-only {name}")
    worker = os.fork()
    if worker:
        _hold_nothing()
        _no_capabilities(libc)  # the init only reaps from here on
        while True:  # reap what the worker leaves (an init's duty) until the worker itself ends
            pid, status = os.waitpid(-1, 0)
            if pid == worker:
                os.write(status_write, str(status).encode())
                os._exit(0)
    os.close(status_write)
    os.close(alive_read)
    after = {name: os.readlink(f"/proc/self/ns/{name}") for name in NAMESPACES}
    shared = [name for name in NAMESPACES if after[name] == before[name]]
    tmp = os.statvfs("/tmp")
    if shared or os.getpid() != 2 or tmp.f_blocks * tmp.f_frsize > tmp_bytes:
        raise PermissionError(f"not in namespaces of its own (shared: {shared}, pid {os.getpid()}) or /tmp unbounded")


def _no_capabilities(libc) -> None:
    """Empty this process's effective, permitted and inheritable capabilities (``capset``)."""
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    if libc.capset(ctypes.byref(Header(LINUX_CAPABILITY_VERSION_3, 0)), (Data * 2)()) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def _hold_nothing() -> None:
    """A or the init: none of the worker's descriptors (its pipes reach end-of-file when it ends)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in range(CHILD_FDS):
        os.dup2(devnull, fd)
    os.close(devnull)


def _end_as(status: bytes) -> None:
    """End this process as the worker whose ``os.waitpid`` status this is ended: same exit code, or same signal."""
    code = os.waitstatus_to_exitcode(int(status)) if status.strip().isdigit() else 1
    if code < 0:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a copy of the server dumps no core
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code if code >= 0 else 1)


def _check(result: int, what: str) -> None:
    if result != 0:
        import ctypes

        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _drop_to(uid: int) -> None:
    """``setpriv --reuid=UID --regid=UID --clear-groups --bounding-set=-all --inh-caps=-all`` on this process."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    cap = 0
    while libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _no_capabilities(libc)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid) or os.getgroups() not in ([], [uid]):
        raise PermissionError(f"could not become uid {uid}")
    with open("/proc/self/status") as stream:
        capabilities = {key: value.strip() for key, _, value in (line.partition(":") for line in stream)
                        if key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}
    if any(int(value, 16) for value in capabilities.values()):
        raise PermissionError(f"capabilities left: {capabilities}")


if __name__ == "__main__":
    main(sys.argv)
