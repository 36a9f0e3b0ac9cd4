"""The grader's secret: the seed material of hidden cases. It never enters a sandbox.

One secret per course, so that every command and every machine that grades the course draws the same
hidden cases (a student's score must not depend on where it was computed). It is found, in order:

1. ``DLCOURSE_SECRET``, for machines that share no folder with the course (a Dask worker, a CI job);
2. the course's own file, ``.dlcourse-secret`` (mode 0600), in the folder a command works in or any
   folder above it, as git finds ``.git``: ``dlcourse secret`` makes it once in the course folder, and
   ``dlcourse gradebook``, ``grade-batch``, ``grade`` and ``gradescope build`` run from that folder (or
   below it) all find it;
3. this machine's secret, made once in the user's config folder (``platformdirs``:
   ``$XDG_CONFIG_HOME/dlcourse/secret``, by default ``~/.config/dlcourse/secret``), mode 0600. Hidden
   cases then differ from any other machine's, so the commands warn whenever they fall back to it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

COURSE_FILE = ".dlcourse-secret"
ENVIRONMENT = "DLCOURSE_SECRET"


@dataclass(frozen=True)
class Secret:
    """A secret and where it was found.

    Args:
        value: the seed material.
        source: ``$DLCOURSE_SECRET``, or the path of the file it was read from.
        machine: whether it is this machine's own secret (no course secret was found).
    """

    value: str
    source: str
    machine: bool = False


def find_secret(start: Path | None = None) -> Secret:
    """The course's secret as the module says: the environment, else ``.dlcourse-secret`` in ``start``
    (default: the current folder) or above, else this machine's (made on first use)."""
    value = os.environ.get(ENVIRONMENT)
    if value:
        return Secret(value, f"${ENVIRONMENT}")
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / COURSE_FILE
        if path.is_file():
            return Secret(_read(path), str(path))
    path = machine_secret_path()
    _make(path)
    return Secret(_read(path), str(path), machine=True)


def grader_secret(start: Path | None = None) -> str:
    """The value of :func:`find_secret`."""
    return find_secret(start).value


def make_course_secret(course: Path) -> tuple[Path, bool]:
    """``course/.dlcourse-secret``, made (0600, 32 random bytes as hex) unless it exists; ``(path, made now)``."""
    path = Path(course) / COURSE_FILE
    existed = path.is_file()
    _make(path)
    return path, not existed


def machine_secret_path() -> Path:
    import platformdirs

    return platformdirs.user_config_path("dlcourse") / "secret"


def _read(path: Path) -> str:
    value = path.read_text().strip()
    if not value:
        raise ValueError(f"Expected a secret in {path}. Received an empty file: remove it, or write the course's "
                         "secret into it")
    return value


def _make(path: Path) -> None:
    """Write a new secret at ``path`` unless one is there: atomic, so concurrent first uses agree."""
    if path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(secrets.token_hex(32) + "\n")
    try:
        os.link(temporary, path)  # the first writer wins; everyone reads the same secret
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
