"""The chroot jail: the fallback level's filesystem boundary where Landlock is missing and the grader is root.

Without namespaces (Docker's default seccomp profile) and without Landlock (kernels before 5.13, or
Docker's older profile, which answers ENOSYS), nothing stops a worker from reading whatever its uid
can read: the instructor's world-readable checkout, its solutions, other courses. As root, the
grader then starts each worker inside a jail: ``chroot`` (Docker keeps CAP_SYS_CHROOT) into a folder
that is a complete root for the worker and holds nothing else, and the switch to the worker's leased
uid in the same step (``chroot --userspec``), so the jail cannot be left (no CAP_SYS_CHROOT, no
``/proc``, no descriptor open outside it).

The folder (``build``) is assembled once per machine beside the runtime folders, and holds:

- ``runtime/`` and ``workers/``: the student runtime and the worker's files (``runtime.build``);
- the shared libraries that the interpreter and every extension module of the runtime need, at
  their absolute paths (found with ``ldd``), the dynamic loader, ``libgcc_s`` (glibc loads it to
  unwind threads) and ``libseccomp`` (``confine.py`` loads it), with ``/etc/ld.so.cache``;
- ``dev/``: ``null``, ``zero``, ``random`` and ``urandom`` (CAP_MKNOD, which Docker keeps; left out
  where it is missing: Python and NumPy use ``getrandom``);
- ``proc/self/exe``, a symlink to ``/interpreter`` (itself one to the runtime's interpreter): TensorFlow
  aborts where ``readlink("/proc/self/exe")`` fails, and reads ``/proc/self/cmdline`` when that path
  names a ``python``; nothing else of ``/proc`` is needed;
- ``tmp/``: root's, mode 0755, where each worker gets its scratch folder (``dlcourse-worker-*``,
  its uid's, 0700), removed when its session ends.

Every file is root-owned and writable by root alone (copies, or hard links to such files: see
``runtime.may_link``), every folder 0755; nothing in it is setuid. ``/proc`` (but for that one
symlink) and ``/sys`` are absent (mounting them needs CAP_SYS_ADMIN): NumPy and Keras on TensorFlow
run without them. The bounding
set of capabilities is left as it is: after the uid switch the worker holds no capability, sets
``no_new_privs`` before any student code (``confine.py``), and the jail holds no setuid file that
could give one back.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import os
import re
import stat
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from dlcourse.autograder.engine import runtime

RUNTIME, WORKERS = Path("/runtime"), Path("/workers")  # where the runtime and the worker's files are, inside
SCRATCH = "tmp"
INTERPRETER = Path("/interpreter")  # what /proc/self/exe names: not a "python" path (see above)
DEVICES = {"null": (1, 3), "zero": (1, 5), "random": (1, 8), "urandom": (1, 9)}
TOP_LEVEL_LINKS = ("bin", "lib", "lib32", "lib64", "libx32", "sbin")  # merged-/usr symlinks, mirrored
EXTRA_LIBRARIES = ("libgcc_s.so.1", "libseccomp.so.2")  # loaded with dlopen, so not in any DT_NEEDED
ELF_MAGIC = b"\x7fELF"
_LDD_LINE = re.compile(r"^\s*(?:\S+\s+=>\s+)?(/\S+)\s+\(0x[0-9a-f]+\)\s*$")


@dataclass(frozen=True)
class Jail:
    """An assembled jail: ``root`` on this machine; ``runtime`` as the worker sees it from inside."""

    root: Path
    runtime: runtime.Runtime

    @property
    def scratch_parent(self) -> Path:
        """The folder (outside view) under which each worker's scratch folder is made."""
        return self.root / SCRATCH

    def inside(self, outside: Path) -> Path:
        """The path a worker sees for ``outside``, a path within the jail."""
        return Path("/") / Path(outside).relative_to(self.root)


@functools.lru_cache(maxsize=None)
def build(frameworks: bool) -> Jail:
    """The jail for this runtime and these worker files (assembled on first use, once per machine)."""
    if os.geteuid() != 0:
        raise PermissionError("a chroot jail needs root")
    built = runtime.build(frameworks)
    key = hashlib.sha256(f"jail-1\n{built.root}\n{built.workers}".encode()).hexdigest()[:20]
    folder = runtime._once(runtime.runtime_root(), f"jail-{key}", lambda staging: _assemble(staging, built))
    return Jail(folder, runtime.Runtime(RUNTIME, WORKERS))


def _assemble(staging: Path, built: runtime.Runtime) -> None:
    for name in TOP_LEVEL_LINKS:
        top = Path("/", name)
        if top.is_symlink():
            link = os.readlink(top)
            link = os.path.relpath(link, "/") if os.path.isabs(link) else link
            (staging / link).mkdir(parents=True, exist_ok=True)
            os.symlink(link, staging / name)
    runtime._link(built.root, staging / RUNTIME.relative_to("/"))
    runtime._link(built.workers, staging / WORKERS.relative_to("/"))
    for library in sorted(_needed_libraries(staging) | _extra_libraries()):
        _place(library, staging)
    if Path("/etc/ld.so.cache").is_file():
        _place(Path("/etc/ld.so.cache"), staging)
    _make_devices(staging / "dev")
    (staging / "proc" / "self").mkdir(parents=True)
    os.symlink(INTERPRETER, staging / "proc" / "self" / "exe")
    os.symlink(runtime.Runtime(RUNTIME, WORKERS).python, staging / INTERPRETER.relative_to("/"))
    (staging / SCRATCH).mkdir()
    for folder, _, files in os.walk(staging):
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink() and path.stat().st_mode & (0o022 | 0o6000) and not _is_device(path):
                raise runtime.StudentRuntimeError(f"{path} would be writable by a worker, or setuid")


def _needed_libraries(staging: Path) -> set[Path]:
    """The absolute paths (outside the jail) of every shared library the jail's ELF files need."""
    found: set[Path] = set()
    for folder, _, files in os.walk(staging):
        for name in files:
            path = Path(folder, name)
            if path.is_symlink() or not _is_elf(path):
                continue
            listing = subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=60,
                                     env={"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": str(path.parent)})
            for line in listing.stdout.splitlines():
                match = _LDD_LINE.match(line)
                if match and not Path(match.group(1)).resolve().is_relative_to(staging.resolve()):
                    found.add(Path(match.group(1)))
    return found


def _extra_libraries() -> set[Path]:
    folders = [f"/usr/lib/{sysconfig.get_config_var('MULTIARCH') or ''}", "/usr/lib64", "/usr/lib", "/lib64", "/lib"]
    found = set()
    for name in EXTRA_LIBRARIES:
        for folder in folders:
            matches = sorted(glob.glob(os.path.join(folder, name + "*")))
            if matches:
                found.add(Path(matches[0]))
                break
    return found


def _place(path: Path, staging: Path) -> None:
    """Put ``path`` at the same place in the jail: the file at its real path, and a symlink at each
    name on the way that is one (``libc.so.6`` -> ``libc-2.36.so``)."""
    real = path.resolve()
    target = staging / real.relative_to("/")
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        runtime._link_file(real, target)
    name = staging / path.relative_to("/")
    if name.resolve() != target.resolve() and not os.path.lexists(name):
        name.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(real, name)


def _make_devices(folder: Path) -> None:
    folder.mkdir()
    for name, (major, minor) in DEVICES.items():
        try:
            os.mknod(folder / name, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        except PermissionError:  # no CAP_MKNOD here: the worker does without (getrandom, no /dev/null)
            return


def _is_device(path: Path) -> bool:
    return stat.S_ISCHR(path.lstat().st_mode)


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as stream:
            return stream.read(4) == ELF_MAGIC
    except OSError:
        return False
