"""Confinement a worker applies to itself before any student code runs; none of it can be undone.

Each layer needs no privilege and no namespace, so it holds where bubblewrap cannot run (Docker's
default seccomp profile, Gradescope, most Kubernetes pods):

- ``no_new_privs``: nothing the worker executes can gain privileges (setuid binaries stay inert).
- Landlock (Linux 5.13+): the worker may read only the listed folders and write only its own
  scratch folder; with ABI 4+ it can neither bind nor connect TCP sockets, with ABI 6+ it cannot
  signal processes outside its own sandbox. Written here with ``ctypes`` over the three system
  calls, because the PyPI binding (``landlock`` 1.0.0.dev5) is an alpha without network or scope
  rules.
- seccomp (through libseccomp, via ``pyseccomp``): ``socket`` fails with EACCES, so no network,
  not even on loopback, and so do the kernel features that go around it or outlive the worker:
  io_uring (``IORING_OP_SOCKET`` makes a socket without ``socket()``), SysV IPC (``shmget``,
  ``semget``, ``msgget``: objects that outlive every process) and POSIX message queues
  (``mq_open``). A system call of another ABI (i386 through ``int 0x80``, x32) kills the process:
  libseccomp's filter matches native numbers only, so another ABI's ``socket`` would pass.

A layer that loaded is not yet a layer that holds: ``prove`` tries each bypass from inside the
confined worker (before any student code) and reports a layer "on" only when every try failed.

It imports only the standard library (and ``pyseccomp`` when present), because it runs inside the
sandbox, beside ``worker.py``.
"""

from __future__ import annotations

import ctypes
import errno
import os

PR_SET_NO_NEW_PRIVS = 38
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

# File-system rights, by the ABI version that introduced them.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_ABI1 = (1 << 13) - 1
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ_RIGHTS = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
# Denied by the seccomp filter: sockets, and what makes sockets without socket() or outlives the worker.
DENIED = ("socket", "io_uring_setup", "io_uring_enter", "io_uring_register", "shmget", "semget", "msgget",
          "mq_open")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def no_new_privs() -> None:
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when it has none (or it is disabled)."""
    version = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                            ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def landlock(read: list[str], write: list[str]) -> int:
    """Allow reading (and executing) beneath ``read`` and everything beneath ``write``; deny every
    other file access, TCP (ABI 4+) and signals out of the domain (ABI 6+). Returns the ABI used."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError(errno.ENOSYS, "Landlock is not available in this kernel")
    handled = FS_ABI1 | (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0) | \
        (FS_IOCTL_DEV if abi >= 5 else 0)
    attr = _RulesetAttr(handled, (NET_BIND_TCP | NET_CONNECT_TCP) if abi >= 4 else 0,
                        (SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                            ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for paths, rights in ((read, READ_RIGHTS), (write, handled)):
            for path in paths:
                _allow(int(ruleset), path, rights & handled)
        no_new_privs()
        if _libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(int(ruleset))
    return abi


def _allow(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = _PathBeneathAttr(rights, fd)
        if _libc.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                         ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)


def deny_syscalls() -> None:
    """A seccomp filter under which every call of ``DENIED`` fails with EACCES and a system call of
    another ABI kills the process (libseccomp, through pyseccomp)."""
    import ctypes.util

    find_library = ctypes.util.find_library
    ctypes.util.find_library = lambda name: _libseccomp() if name == "seccomp" else find_library(name)
    try:
        import pyseccomp
    finally:
        ctypes.util.find_library = find_library

    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    rules.set_attr(pyseccomp.Attr.ACT_BADARCH, pyseccomp.KILL_PROCESS)
    for name in DENIED:
        rules.add_rule(pyseccomp.ERRNO(errno.EACCES), name)
    rules.load()


def _libseccomp() -> str | None:
    """libseccomp's path, found without ``ldconfig`` (a sandbox may have no ``/etc/ld.so.cache``)."""
    import glob
    import sysconfig

    folders = [f"/usr/lib/{sysconfig.get_config_var('MULTIARCH') or ''}", "/usr/lib64", "/usr/lib", "/lib64", "/lib"]
    for folder in folders:
        found = sorted(glob.glob(os.path.join(folder, "libseccomp.so.2*")))
        if found:
            return found[0]
    return None


def apply(read: list[str], write: list[str], sockets: bool = False) -> dict[str, str]:
    """Apply every layer that works here; return ``{layer: "on" | reason it is off}``. With ``sockets``
    the seccomp filter is not loaded."""
    layers = {}
    try:
        no_new_privs()
        layers["no_new_privs"] = "on"
    except OSError as error:
        layers["no_new_privs"] = f"off: {error}"
    if not sockets:
        try:
            deny_syscalls()
            layers["seccomp"] = "on"
        except Exception as error:  # noqa: BLE001 - libseccomp missing, or a kernel without seccomp
            layers["seccomp"] = f"off: {type(error).__name__}: {error}"
    try:
        layers["landlock"] = f"on (ABI {landlock(read, write)})"
    except OSError as error:
        layers["landlock"] = f"off: {error.strerror or error}"
    return layers


# ----------------------------------------------------------------------------- proof

PR_GET_NO_NEW_PRIVS = 39
SYS_IO_URING_SETUP = 425  # the same number on every architecture since Linux 5.1
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
MISSING = (errno.ENOSYS, errno.EAFNOSUPPORT, errno.ENOENT)  # the kernel (or the sandbox) has no such thing


def prove(applied: dict[str, str], canary: str | None = None, writable: str | None = None) -> dict[str, str]:
    """Each layer as it holds here, proven by trying what it must stop: ``{layer: "on (...)" | "off: ..."}``.

    Called inside the confined worker before any student code. A layer is "on" only when no try got
    through; its detail names what was tried and, when it is off, what got through and what
    ``apply`` said (``applied``). ``canary`` is a file outside the read list that the worker's uid
    may read, ``writable`` a folder outside the write list that its uid may write (both made by
    the grader); where the sandbox hides them (bubblewrap) the other tries remain.
    """
    return {
        "no_new_privs": "on (proven: PR_GET_NO_NEW_PRIVS reads 1)" if _libc.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1
        else f"off: PR_GET_NO_NEW_PRIVS reads 0 ({applied.get('no_new_privs', 'not applied')})",
        "seccomp": _verdict(applied.get("seccomp", "off: not applied"), _seccomp_tries()),
        "landlock": _verdict(applied.get("landlock", "off: not applied"), _landlock_tries(canary, writable)),
    }


def _verdict(applied: str, tries: dict[str, str]) -> str:
    """"on (...)" when no try got through and one was refused; else "off: ..." saying why."""
    through = [name for name, outcome in tries.items() if outcome == "through"]
    blocked = [name for name, outcome in tries.items() if outcome == "blocked"]
    if through:
        why = f"although it loaded, {applied}" if applied.startswith("on") else applied.removeprefix("off: ")
        return f"off: {', '.join(through)} got through ({why})"
    if not blocked:
        return f"off: nothing could be tried ({applied.removeprefix('off: ')})"
    prefix = applied.removesuffix(")") + "; " if applied.startswith("on (") else "on ("
    return f"{prefix}proven: {', '.join(blocked)} blocked)"


def _seccomp_tries() -> dict[str, str]:
    """Each way to a socket or to an object that outlives the worker: "blocked", "through" or "missing"."""
    tries = {
        "socket(AF_INET)": _try(lambda: _libc.socket(2, 2, 0), os.close),
        "socket(AF_UNIX)": _try(lambda: _libc.socket(1, 1, 0), os.close),
        "io_uring_setup": _try(lambda: _libc.syscall(SYS_IO_URING_SETUP, ctypes.c_uint(1),
                                                      ctypes.create_string_buffer(120)), os.close),
        "shmget": _try(lambda: _libc.shmget(IPC_PRIVATE, ctypes.c_size_t(4096), IPC_CREAT | 0o600),
                       lambda ident: _libc.shmctl(ident, IPC_RMID, None)),
        "semget": _try(lambda: _libc.semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600),
                       lambda ident: _libc.semctl(ident, 0, IPC_RMID)),
        "msgget": _try(lambda: _libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o600),
                       lambda ident: _libc.msgctl(ident, IPC_RMID, None)),
    }
    if hasattr(_libc, "mq_open"):  # in libc since glibc 2.34
        name = f"/dlcourse-probe-{os.getpid()}".encode()
        tries["mq_open"] = _try(lambda: _libc.mq_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600, None),
                                lambda fd: (_libc.mq_close(fd), _libc.mq_unlink(name)))
    return tries


def _try(make, undo) -> str:
    """Call ``make`` (a C call returning -1 on failure); undo what it made when it succeeds."""
    result = make()
    if result >= 0:
        undo(result)
        return "through"
    return "missing" if ctypes.get_errno() in MISSING else "blocked"


def _landlock_tries(canary: str | None, writable: str | None) -> dict[str, str]:
    """Reading and writing where the worker must not: "blocked" (refused), "through" or "missing"."""
    def attempt(action) -> str:
        try:
            action()
        except PermissionError:
            return "blocked"
        except OSError:
            return "missing"
        return "through"

    def read() -> None:
        with open(canary, "rb") as handle:
            handle.read(1)

    def write() -> None:
        path = os.path.join(writable, f"probe-{os.getpid()}")
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(path)

    tries = {"listing /": attempt(lambda: os.listdir("/"))}
    if canary:
        tries["reading a file outside the read list"] = attempt(read)
    if writable:
        tries["writing outside the scratch folder"] = attempt(write)
    return tries
