"""What a grade depends on besides the notebook: the grader's fingerprint.

A batch record, an nbgrader grade or a cached reference is reused only while the fingerprint that
made it is unchanged. It covers the package version, the source of the references
(``dlcourse/references/**``), the grading cases (``dlcourse/autograder/cases/**``) and the engine
(``dlcourse/autograder/engine/**``), the Keras backend and library versions, and (for grades, not for
references) a keyed hash of the secret, never the secret itself.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from importlib import metadata
from pathlib import Path

import dlcourse

GRADER_DIR = Path(__file__).resolve().parents[1]  # autograder/ in a checkout, dlcourse/autograder/ installed
REFERENCES_DIR = Path(dlcourse.__file__).resolve().parent / "references"
LIBRARIES = ("keras", "tensorflow-cpu", "tensorflow", "jax", "torch", "numpy", "scipy")


def environment_key() -> str:
    """Keras backend and library versions: what a reference value depends on besides its inputs."""
    parts = [os.environ.get("KERAS_BACKEND", "tensorflow")]
    for package in LIBRARIES:
        try:
            parts.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return ";".join(parts)


def code_folders(root: Path | None = None) -> dict[str, Path]:
    """The references, cases and engine: this process's, or those under ``root`` (a checkout, or the
    folder an install put ``dlcourse/`` in); labelled alike in both layouts."""
    if root is None:
        grader, references = GRADER_DIR, REFERENCES_DIR
    else:
        grader = root / "autograder" if (root / "autograder").is_dir() else root / "dlcourse" / "autograder"
        references = root / "dlcourse" / "references"
    return {"references": references, "cases": grader / "cases", "engine": grader / "engine"}


@functools.lru_cache(maxsize=None)
def code_digest(root: Path | None = None) -> str:
    """sha256 over the path and bytes of every ``.py`` file of the references, cases and engine."""
    digest = hashlib.sha256(f"dlcourse={dlcourse.__version__}".encode())
    for label, folder in code_folders(root).items():
        for path in sorted(folder.rglob("*.py")):
            digest.update(b"\0" + f"{label}/{path.relative_to(folder).as_posix()}".encode() + b"\0")
            with open(path, "rb") as stream:
                digest.update(hashlib.file_digest(stream, "sha256").digest())
    return digest.hexdigest()


def reference_fingerprint() -> str:
    """Code and environment: the key prefix of every cached reference value."""
    return hashlib.sha256(f"{code_digest()}|{environment_key()}".encode()).hexdigest()


def grader_fingerprint(secret: str | None) -> str:
    """Code, environment and a keyed hash of the secret: a grade made under another one is stale."""
    keyed = hmac.new((secret or "").encode(), b"dlcourse grader fingerprint", hashlib.sha256).hexdigest()
    return hashlib.sha256(f"{reference_fingerprint()}|{keyed}".encode()).hexdigest()[:32]
