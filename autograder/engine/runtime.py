"""The student runtime: the only Python packages a sandboxed worker can see.

A worker needs the interpreter's standard library, NumPy, the confinement library (``pyseccomp``)
and, for the Keras assignments, Keras with its backend. Nothing else: never ``dlcourse``,
``autograder``, nbgrader, the cases, the references or the solutions. The set is resolved from
package metadata (each distribution's ``Requires-Dist`` closure and its ``RECORD`` of installed
files), so it is the same whether the grader was installed editable, as a wheel, or by the
Gradescope ``setup.sh``; a whole site-packages folder is never exposed.

With bubblewrap the resolved entries are bound one by one into the sandbox (``entries``). Without
namespaces they are assembled once per machine into a runtime folder that an unprivileged uid can
read and never write (copies; hard links only to root-owned files no worker can write, see
``may_link``): the interpreter's prefix with its standard library (site-packages
left out) and the packages, plus a small folder with the worker's own files (``build``).

The worker's own files (``worker_files``) are the ``.py`` files of one folder, ``sandboxed/`` (``worker.py``,
``wire.py``, ``confine.py`` and the NumPy drivers), at the same paths relative to it; its ``drivers/keras/``
(the Keras drivers, with the model description they share with the references, ``model_spec.py``) only
for the Keras assignments.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import shutil
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

SANDBOXED_DIR = Path(__file__).resolve().parent / "sandboxed"  # every file the worker runs, and nothing else
KERAS_DRIVERS = Path("drivers", "keras")  # within it: for the Keras assignments only
BASE_DISTRIBUTIONS = ("numpy", "pyseccomp")
FRAMEWORK_DISTRIBUTIONS = ("keras",)
WORKER_BACKEND = "tensorflow"  # the sandbox's Keras backend, whatever the grader's references use
BACKEND_DISTRIBUTIONS = {"tensorflow": ("tensorflow-cpu", "tensorflow"), "jax": ("jax", "jaxlib"),
                         "torch": ("torch",)}
NEVER_EXPOSED = frozenset({"dlcourse", "autograder", "nbgrader", "solutions", "assignments"})
LAYOUT = "copies-2"  # in every runtime's key: a runtime assembled by an older rule (hard links) is not reused
STDLIB_LEFT_OUT = frozenset({"site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip"})


class StudentRuntimeError(Exception):
    """The student runtime cannot be assembled (a distribution is missing or would expose the grader)."""


@dataclass(frozen=True)
class Entry:
    """One top-level item of site-packages that the worker may see: ``numpy/``, ``numpy.libs/``, ..."""

    name: str
    path: Path


@functools.lru_cache(maxsize=None)
def distributions(frameworks: bool) -> tuple[metadata.Distribution, ...]:
    """The installed distributions a worker needs, with everything they require (extras left out)."""
    wanted = list(BASE_DISTRIBUTIONS)
    if frameworks:
        wanted += list(FRAMEWORK_DISTRIBUTIONS)
        wanted += [name for name in BACKEND_DISTRIBUTIONS[WORKER_BACKEND] if _installed(name)][:2]
    environment = default_environment() | {"extra": ""}
    found: dict[str, metadata.Distribution] = {}
    while wanted:
        name = _normalize(wanted.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if name in (_normalize(item) for item in BASE_DISTRIBUTIONS + FRAMEWORK_DISTRIBUTIONS):
                raise StudentRuntimeError(f"the student runtime needs {name}, which is not installed") from None
            continue  # an optional requirement of another platform
        found[name] = dist
        for text in dist.requires or ():
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                wanted.append(requirement.name)
    return tuple(found[name] for name in sorted(found))


@functools.lru_cache(maxsize=None)  # reading every RECORD costs 0.2 s for Keras: once per process, not per worker
def entries(frameworks: bool) -> tuple[Entry, ...]:
    """The top-level files and folders of those distributions, from their ``RECORD``s."""
    found: dict[str, Entry] = {}
    for dist in distributions(frameworks):
        site = Path(dist.locate_file("")).resolve()
        for item in dist.files or ():
            parts = Path(item).parts
            if not parts or parts[0] in ("..", "__pycache__") or parts[0].endswith(".pth"):
                continue
            top = parts[0]
            if top.split(".")[0] in NEVER_EXPOSED:
                raise StudentRuntimeError(f"{dist.metadata['Name']} installs {top}, which the worker must never see")
            path = site / top
            if top not in found and (path.is_dir() or path.is_file()):
                found[top] = Entry(top, path)
    return tuple(found[name] for name in sorted(found))


def runtime_root() -> Path:
    """``$DLCOURSE_RUNTIME``; else, for root, ``/var/cache/dlcourse/runtime`` (readable by the
    sandbox uids); else the user's cache folder."""
    if os.environ.get("DLCOURSE_RUNTIME"):
        return Path(os.environ["DLCOURSE_RUNTIME"])
    if os.geteuid() == 0:
        return Path("/var/cache/dlcourse/runtime")
    import platformdirs

    return platformdirs.user_cache_path("dlcourse") / "runtime"


@dataclass(frozen=True)
class Runtime:
    """An assembled runtime: ``root`` holds ``python/`` (interpreter and stdlib) and ``lib/``
    (packages); ``workers`` holds the worker's own files (kept apart: they change more often)."""

    root: Path
    workers: Path

    @property
    def python(self) -> Path:
        return self.root / "python" / "bin" / Path(real_python()).name

    @property
    def library_path(self) -> Path:
        return self.root / "python" / "lib"

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def worker(self) -> Path:
        return self.workers / "worker.py"


def worker_files(frameworks: bool) -> tuple[tuple[str, Path], ...]:
    """``(path in the worker's folder, source file)`` of each ``.py`` file under ``sandboxed/``, at its path
    relative to that folder: ``drivers/keras/`` (the Keras drivers and the model description they share
    with the references) only with ``frameworks``; ``sandboxed/__init__.py`` never, the worker's folder
    being no package."""
    files = []
    for path in sorted(SANDBOXED_DIR.rglob("*.py")):
        relative = path.relative_to(SANDBOXED_DIR)
        if relative == Path("__init__.py") or (relative.is_relative_to(KERAS_DRIVERS) and not frameworks):
            continue
        files.append((relative.as_posix(), path))
    return tuple(files)


@functools.lru_cache(maxsize=None)
def build(frameworks: bool) -> Runtime:
    """The runtime folder for this interpreter, these distributions and these worker files
    (assembled on first use, shared by every grader process of the machine; looked up once per process)."""
    parts = [LAYOUT, real_python(), sys.version, str(os.geteuid() == 0)]
    parts += [f"{dist.metadata['Name']}=={dist.version}" for dist in distributions(frameworks)]
    files = worker_files(frameworks)
    sources = b"".join(name.encode() + b"\0" + source.read_bytes() + b"\0" for name, source in files)
    root = runtime_root()
    packages = _once(root, hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20],
                     lambda staging: _assemble(staging, frameworks))
    workers = _once(root / "workers", hashlib.sha256(sources).hexdigest()[:20],
                    lambda staging: _copy_worker_files(staging, files))
    return Runtime(packages, workers)


def _once(root: Path, key: str, assemble) -> Path:
    """``root/key``, assembled by ``assemble(staging)`` unless it is complete already; atomic and
    locked, so concurrent graders on one machine build it once."""
    target = root / key
    if (target / ".complete").is_file():
        return target
    _make_readable_dirs(root)
    with open(root / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".complete").is_file():
            staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
            assemble(staging)
            for folder, _, _ in os.walk(staging):
                os.chmod(folder, 0o755)
            (staging / ".complete").touch()
            shutil.rmtree(target, ignore_errors=True)
            os.rename(staging, target)
    return target


def _copy_worker_files(staging: Path, files) -> None:
    for name, source in files:
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, staging / name)
        os.chmod(staging / name, 0o644)


def _assemble(staging: Path, frameworks: bool) -> None:
    prefix = Path(sys.base_prefix).resolve()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    python = Path(real_python())
    _link(python, staging / "python" / "bin" / python.name)
    for library in (prefix / "lib").glob("libpython*.so*"):
        _link(library, staging / "python" / "lib" / library.name)
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    for item in stdlib.iterdir():
        if item.name not in STDLIB_LEFT_OUT and not item.name.startswith("config-"):
            _link(item, staging / "python" / "lib" / version / item.name)
    (staging / "python" / "lib" / version / "site-packages").mkdir(parents=True, exist_ok=True)
    for entry in entries(frameworks):
        _link(entry.path, staging / "lib" / entry.name)


def _link(source: Path, target: Path) -> None:
    """Hard-link a file or a tree (copy where links cannot cross file systems), readable by all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, copy_function=_link_file)
    else:
        _link_file(source.resolve(), target)


def _link_file(source, target) -> None:
    """Hard-link ``source`` only where no worker could write through the link (``may_link``), else copy;
    a copy is readable by all and writable by its owner alone."""
    if may_link(source):
        try:
            os.link(source, target)
        except OSError:
            _copy(source, target)
        else:
            if os.stat(target).st_mode & 0o004:
                return
            _copy(source, str(target) + ".tmp")  # a private file: a readable copy replaces the link
            os.replace(str(target) + ".tmp", target)
    else:
        _copy(source, target)


def may_link(source) -> bool:
    """Whether a hard link to ``source`` is safe in a runtime: only for a root grader, and only to a
    file owned by root that neither group nor others may write. A non-root grader's workers run as
    its own uid (or, in the unsafe level ``none``, anywhere it can write), so it always copies."""
    if os.geteuid() != 0:
        return False
    status = os.lstat(source)
    return status.st_uid == 0 and not status.st_mode & (0o022 | 0o6000)


def _copy(source, target) -> None:
    shutil.copy2(source, target)
    os.chmod(target, (os.stat(source).st_mode | 0o444) & 0o755)  # never writable by others, never setuid


def _make_readable_dirs(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-")


def real_python() -> str:
    """The interpreter behind this (virtual) environment, symlinks resolved."""
    return str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())
