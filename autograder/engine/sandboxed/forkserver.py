"""The fork server: Keras workers forked from one process that has already imported Keras.

Every Keras worker spends about 2 s of one core importing TensorFlow (2,847 modules), and a batch starts
one worker per submission: about half of a Keras assignment's CPU (measured on 2 cores). Forked from a
process that has done it, a worker is ready in 40 ms. The grader (``engine/forkserver.py``) starts this
file as root with the student runtime's Python (``python -I -S forkserver.py FD CONFIG``), in the
sandbox's environment. Like Android's zygote, it never loads student code and holds nothing of the
grader's: it imports what every warm worker imports (``worker.py`` with its drivers, then the sandbox's
``preload``; one thread, TensorFlow starts none at import) and then serves fork requests on the
control socket, descriptor FD (``SOCK_SEQPACKET``, one message a request):

    request: ``{"uid", "scratch", "environment", "limits", "read", "write"}`` (JSON) with four descriptors
             (``SCM_RIGHTS``): the worker's stdin, its stdout (its stderr too), its reply pipe, and a
             status pipe.
    answer:  the child's pid (ASCII digits).

The child, before its worker runs anything: a session of its own; the four descriptors at 0, 1, 2 and 3
and every other one closed (the control socket and the other workers' pipes among them); its scratch
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
import sys

PR_CAPBSET_DROP = 24
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
            control.send(str(pid).encode())
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

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    empty = (Data * 2)()
    if libc.capset(ctypes.byref(Header(LINUX_CAPABILITY_VERSION_3, 0)), empty) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid) or os.getgroups() not in ([], [uid]):
        raise PermissionError(f"could not become uid {uid}")
    with open("/proc/self/status") as stream:
        capabilities = {key: value.strip() for key, _, value in (line.partition(":") for line in stream)
                        if key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}
    if any(int(value, 16) for value in capabilities.values()):
        raise PermissionError(f"capabilities left: {capabilities}")


if __name__ == "__main__":
    main(sys.argv)
