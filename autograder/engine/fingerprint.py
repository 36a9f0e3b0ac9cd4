"""What a grade depends on besides the notebook: the grader's fingerprint.

A batch record, an nbgrader grade or a cached reference is reused only while the fingerprint that
made it is unchanged. It covers the package version, the source of the references
(``dlcourse/references/**``), the grading cases (``dlcourse/autograder/cases/**``) and the engine
(``dlcourse/autograder/engine/**``), the Keras backend and library versions, and (for grades, not for
references) a keyed hash of the secret, never the secret itself.

A grade of one assignment depends on less: ``assignment_fingerprint`` covers the engine, that
assignment's cases module and the case and reference modules it imports (followed through their own
imports), so a change to one assignment's cases or references regrades that assignment only.
"""

from __future__ import annotations

import ast
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


def _module_file(module: str, folders: dict[str, Path]) -> Path | None:
    """The file of a case or reference module (``dlcourse.references.gan``) under ``folders``, or None."""
    for prefix, label in (("dlcourse.references", "references"), ("dlcourse.autograder.cases", "cases")):
        if module == prefix or module.startswith(prefix + "."):
            parts = module[len(prefix):].strip(".").split(".") if module != prefix else []
            base = folders[label].joinpath(*parts)
            for candidate in (base.with_suffix(".py") if parts else None, base / "__init__.py"):
                if candidate is not None and candidate.is_file():
                    return candidate
    return None


def _imported(path: Path, folders: dict[str, Path]) -> set[Path]:
    """The case and reference modules ``path`` imports (``from dlcourse.references import gan`` included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {file for name in names if (file := _module_file(name, folders)) is not None}
    return found


def assignment_files(module: str, root: Path | None = None) -> list[tuple[str, Path]]:
    """``(label, file)`` of everything one assignment's grades depend on: every engine file, its cases module
    (``dlcourse.autograder.cases.gan``) and the case and reference modules reached through its imports."""
    folders = code_folders(root)
    start = _module_file(module, folders)
    if start is None:
        raise ValueError(f"Expected a module of the grading cases. Received {module!r}.")
    seen, frontier = set(), [start]
    while frontier:
        path = frontier.pop()
        if path not in seen:
            seen.add(path)
            frontier += sorted(_imported(path, folders) - seen)
    files = [("engine", path) for path in folders["engine"].rglob("*.py")]
    for path in seen:
        label = "cases" if path.is_relative_to(folders["cases"]) else "references"
        files.append((label, path))
    return sorted(((f"{label}/{path.relative_to(folders[label]).as_posix()}", path) for label, path in files))


@functools.lru_cache(maxsize=None)
def assignment_digest(module: str, root: Path | None = None) -> str:
    """sha256 over the package version and ``assignment_files`` of the assignment whose cases are ``module``."""
    digest = hashlib.sha256(f"dlcourse={dlcourse.__version__};{module}".encode())
    for label, path in assignment_files(module, root):
        digest.update(b"\0" + label.encode() + b"\0")
        with open(path, "rb") as stream:
            digest.update(hashlib.file_digest(stream, "sha256").digest())
    return digest.hexdigest()


def assignment_fingerprint(secret: str | None, module: str) -> str:
    """``grader_fingerprint`` narrowed to one assignment (its cases ``module``, see ``cases.MODULES``): a grade
    is stale only when something it depends on changed (``assignment_digest``), the environment, or the secret."""
    keyed = hmac.new((secret or "").encode(), b"dlcourse grader fingerprint", hashlib.sha256).hexdigest()
    return hashlib.sha256(f"{assignment_digest(module)}|{environment_key()}|{keyed}".encode()).hexdigest()[:32]
