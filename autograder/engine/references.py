"""Reference outputs, computed once per case and inputs, and kept on disk.

The key covers the case, the exact inputs, the source of the modules that define the case and its
reference, the library versions and the Keras backend, so a cached value is only reused where it
would be recomputed identically. Files are written by the grader
only and read back with the same no-pickle format as everything else (``wire``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from autograder.engine import wire
from autograder.engine.case import Case


def cache_dir() -> Path:
    """``$DLCOURSE_CACHE``, else ``~/.cache/dlcourse/references``."""
    root = os.environ.get("DLCOURSE_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dlcourse"
    return Path(root) / "references"


def environment_key() -> str:
    """Library versions and backend: what a reference value depends on besides its inputs."""
    parts = [os.environ.get("KERAS_BACKEND", "tensorflow")]
    for package in ("keras", "tensorflow-cpu", "tensorflow", "jax", "torch", "numpy"):
        try:
            parts.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return ";".join(parts)


class ReferenceCache:
    """Expected outputs by (case, inputs, environment); in memory and, unless ``folder`` is None, on disk."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self._memory: dict[str, dict] = {}
        self._environment = environment_key()
        self.hits = self.misses = 0

    def expected(self, case: Case, inputs: dict) -> dict:
        code = "".join(_source_digest(function.__module__) for function in (case.reference, case.inputs))
        key = hashlib.sha256(b"\0".join([case.id.encode(), self._environment.encode(), code.encode(),
                                          wire.encode(inputs)])).hexdigest()
        if key in self._memory:
            self.hits += 1
            return self._memory[key]
        path = self.folder / f"{key}.npz" if self.folder else None
        value = None
        if path is not None and path.is_file():
            try:
                value = wire.decode(path.read_bytes())
            except wire.WireError:
                value = None
        if value is None:
            self.misses += 1
            value = case.reference(**inputs)
            if path is not None:
                _write_atomically(path, wire.encode(value))
        else:
            self.hits += 1
        self._memory[key] = value
        return value


@functools.lru_cache(maxsize=None)
def _source_digest(module_name: str) -> str:
    """A digest of the module that defines a reference or a case: a changed reference is never served stale."""
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if not path:
        return module_name
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.replace(temporary, path)
