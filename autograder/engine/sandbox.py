"""How a worker process is started: inside bubblewrap, or, where that is impossible, loudly without.

With bubblewrap (``bwrap``) the worker sees a minimal read-only filesystem: ``/usr``, the Python
interpreter's own prefix with its site-packages hidden, the two worker files, and NumPy. It has no
network, its own PID/IPC/UTS namespaces, a small private ``/tmp``, no capabilities, and, when the
grader runs as root, a real unprivileged uid (so ``RLIMIT_NPROC`` holds; see GRADING.md). The
resource limits are applied by ``prlimit`` before ``bwrap`` starts, so they cover everything inside.

Start-up is a few milliseconds; NumPy's import (about 0.1 s) is the main cost of a worker.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy

ENGINE_DIR = Path(__file__).resolve().parent
WORKER_FILES = ("worker.py", "wire.py")
FIRST_UID = 61000
UID_SLOTS = 256
FRAMEWORK_PACKAGES = ("tensorflow", "keras", "jax", "jaxlib", "torch", "tf_keras", "flax", "optax")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker process (all of its cases together, except wall time)."""

    cpu_seconds: int = 300
    memory_bytes: int = 2 * 1024**3
    processes: int = 64
    file_bytes: int = 16 * 1024**2
    tmp_bytes: int = 64 * 1024**2


@dataclass
class Sandbox:
    """Builds worker command lines for one kind of assignment.

    Args:
        frameworks: whether Keras and its backends are importable (only the Keras assignments).
        limits: resource limits per worker.
        isolation: "bwrap", or "none" (resource limits only); default: bwrap when it works.
    """

    frameworks: bool = False
    limits: Limits = field(default_factory=Limits)
    isolation: str | None = None

    def __post_init__(self):
        if self.isolation is None:
            self.isolation = "bwrap" if bwrap_available() else "none"
        if self.isolation not in ("bwrap", "none"):
            raise ValueError(f"Expected isolation 'bwrap' or 'none'. Received isolation={self.isolation!r}.")

    @property
    def missing_protections(self) -> list[str]:
        """What this sandbox cannot enforce, for the report (empty when fully protected)."""
        missing = []
        if self.isolation == "none":
            missing.append("no bubblewrap: student code can read and write this machine's files and use the network")
            if not self.frameworks:
                missing.append("no bubblewrap: the deep-learning frameworks can be imported by student code")
        if os.geteuid() != 0:
            missing.append("not root: the worker keeps your uid, so the process limit (fork bombs) is not enforced")
        return missing

    def command(self, reply_fd: int, uid: int | None) -> list[str]:
        """The argv that starts a worker replying on ``reply_fd`` as ``uid`` (None: keep ours)."""
        limits = self.limits
        prlimit = [
            "prlimit", f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 5}", f"--as={limits.memory_bytes}",
            f"--fsize={limits.file_bytes}", "--core=0",
        ]
        if uid is not None:
            prlimit.append(f"--nproc={limits.processes}")
        python_args = ["-I", "-S", "-B", "-X", "utf8"]
        if self.isolation == "none":
            script = str(ENGINE_DIR / "worker.py")
            return [*prlimit, "--", _real_python(), *python_args, script, str(reply_fd), *self._paths_host()]
        drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs"] if uid is not None else []
        return [*prlimit, "--", *self._bwrap(), *drop, _real_python(), *python_args, "/grader/worker.py",
                str(reply_fd), "/grader/lib"]

    def environment(self) -> dict[str, str]:
        """A clean environment: nothing that tells the grader apart from the student's own check."""
        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
               "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0", "KERAS_BACKEND": "tensorflow",
               "CUDA_VISIBLE_DEVICES": ""}
        return env

    # ------------------------------------------------------------------------- details

    def _bwrap(self) -> list[str]:
        prefix = Path(sys.base_prefix).resolve()
        args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        if os.geteuid() == 0:
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            args += ["--unshare-user"]
        args += ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "lib", "lib64", "sbin"):
            target = Path("/", name)
            if target.is_symlink():
                args += ["--symlink", os.readlink(target), str(target)]
            elif target.is_dir():
                args += ["--ro-bind", str(target), str(target)]
        if not prefix.is_relative_to("/usr"):
            for parent in reversed(prefix.parents[:-1]):
                args += ["--perms", "0755", "--dir", str(parent)]
            args += ["--ro-bind", str(prefix), str(prefix)]
        for hidden in _site_directories(prefix):
            args += ["--tmpfs", hidden]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp",
                 "--perms", "0755", "--dir", "/grader", "--perms", "0755", "--dir", "/grader/lib"]
        for name in WORKER_FILES:
            args += ["--ro-bind", str(ENGINE_DIR / name), f"/grader/{name}"]
        if self.frameworks:
            args += ["--ro-bind", sysconfig.get_paths()["purelib"], "/grader/lib"]
        else:
            for path in _numpy_paths():
                args += ["--ro-bind", str(path), f"/grader/lib/{path.name}"]
        args += ["--chdir", "/tmp", "--clearenv"]
        for key, value in self.environment().items():
            args += ["--setenv", key, value]
        return args + ["--"]

    def _paths_host(self) -> list[str]:
        if self.frameworks:
            return [sysconfig.get_paths()["purelib"]]
        return [str(path.parent) for path in _numpy_paths()[:1]]


def _real_python() -> str:
    return str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())


def _numpy_paths() -> list[Path]:
    package = Path(numpy.__file__).resolve().parent
    libs = package.parent / "numpy.libs"
    return [package] + ([libs] if libs.is_dir() else [])


def _site_directories(prefix: Path) -> list[str]:
    """Site-package folders of the base interpreter and the system, hidden in the sandbox."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [prefix / "lib" / version / "site-packages", Path("/usr/lib/python3/dist-packages"),
                  Path("/usr/local/lib") / version / "dist-packages", Path("/usr/local/lib") / version / "site-packages",
                  Path("/usr/lib") / version / "site-packages"]
    return [str(path) for path in candidates if path.is_dir() and not path.is_symlink()]


def bwrap_available() -> bool:
    """Whether bubblewrap is installed and can create its namespaces here (probed once)."""
    global _BWRAP_OK
    if _BWRAP_OK is None:
        import subprocess
        _BWRAP_OK = shutil.which("bwrap") is not None and subprocess.run(
            ["bwrap", "--unshare-net", "--unshare-pid", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
             "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--", "/usr/bin/true"],
            capture_output=True, timeout=30).returncode == 0
    return _BWRAP_OK


_BWRAP_OK: bool | None = None


class UidLease:
    """A uid of our own for one worker, so per-uid process limits of concurrent workers don't add up.

    Leases are advisory locks on files in the temporary folder, so separate grader processes (a
    batch, a Dask worker, a test) never hand out the same uid at once. Without root: None.
    ``UidLease.used`` records the uids this process has leased (tests check none is left running).
    """

    used: set[int] = set()

    def __init__(self):
        self.uid: int | None = None
        self._file = None

    def __enter__(self) -> int | None:
        if os.geteuid() != 0:
            return None
        folder = Path(tempfile.gettempdir()) / "dlcourse-uids"
        folder.mkdir(mode=0o700, exist_ok=True)
        start = os.getpid() % UID_SLOTS
        for step in range(UID_SLOTS):
            slot = (start + step) % UID_SLOTS
            handle = open(folder / str(slot), "a")  # noqa: SIM115 - held for the lease
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self._file, self.uid = handle, FIRST_UID + slot
            UidLease.used.add(self.uid)
            return self.uid
        raise RuntimeError(f"all {UID_SLOTS} sandbox uids are in use")

    def __exit__(self, *exc):
        if self._file is not None:
            self._file.close()
            self._file = None
