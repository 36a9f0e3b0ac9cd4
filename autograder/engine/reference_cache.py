"""Reference outputs, computed once per case and inputs, and kept on disk.

The key covers the case, the exact inputs and the grader's reference fingerprint (the source of
every reference, case and engine module, the library versions and the Keras backend: see
``fingerprint.py``), so a cached value is only reused where it would be recomputed identically.
Files are written by the grader only and read back with the same no-pickle format as everything
else (``wire``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from dlcourse.autograder.engine.sandboxed import wire
from dlcourse.autograder.engine.atomic import write_atomically
from dlcourse.autograder.engine.case import Case
from dlcourse.autograder.engine.fingerprint import reference_fingerprint


def cache_dir() -> Path:
    """``$DLCOURSE_CACHE/references``, else the user's cache folder (``platformdirs``:
    ``$XDG_CACHE_HOME/dlcourse/references``, by default ``~/.cache/dlcourse/references`` on Linux)."""
    if os.environ.get("DLCOURSE_CACHE"):
        return Path(os.environ["DLCOURSE_CACHE"]) / "references"
    import platformdirs

    return platformdirs.user_cache_path("dlcourse") / "references"


class ReferenceCache:
    """Expected outputs by (case, inputs, environment); in memory and, unless ``folder`` is None, on disk."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self._memory: dict[str, dict] = {}
        self.fingerprint = reference_fingerprint()
        self.hits = self.misses = 0

    def expected(self, case: Case, inputs: dict) -> dict:
        if case.fresh:  # inputs never seen before nor again: computed here, kept nowhere
            self.misses += 1
            return case.reference(**inputs)
        key = hashlib.sha256(b"\0".join([case.id.encode(), self.fingerprint.encode(), wire.encode(inputs)])).hexdigest()
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


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a cached value, readable by the grader only: the cache folder is made private (0700) and
    each file 0600, so hidden cases' expected values stay out of a worker's reach even without Landlock."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
    write_atomically(path, data, mode=0o600)


def warm(cases, secret: str | None, cache: ReferenceCache) -> int:
    """Compute the reference of each case (hidden ones from ``secret``) into ``cache``; return how many
    were computed. Fresh cases (inputs drawn anew at every grading) have no reference to keep."""
    before = cache.misses
    for case in cases:
        if not case.fresh:
            cache.expected(case, case.make_inputs(secret if case.hidden else None))
    return cache.misses - before
