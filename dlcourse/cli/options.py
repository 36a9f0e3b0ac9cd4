"""Options and checks shared by the commands: one plain line for every bad argument, never a traceback."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from dlcourse.cli.doctor import choose_isolation, isolation_option  # noqa: F401 - shared with the commands


def backend_option(parser) -> None:
    parser.add_argument("--backend", choices=("tensorflow", "jax", "torch"),
                        help="the Keras backend of the references (default: $KERAS_BACKEND, else tensorflow); "
                             "jax and torch need `pip install dlcourse[jax]` or `[torch]`")


def choose_backend(args) -> None:
    """Must run before anything imports Keras (the references import it lazily, on first use)."""
    if getattr(args, "backend", None):
        os.environ["KERAS_BACKEND"] = args.backend


def unknown_assignment(name: str | None) -> str | None:
    """None if ``name`` is an assignment of the course (or not given); else the one-line reason."""
    from dlcourse.autograder.cases import ASSIGNMENTS

    if name is None or name in ASSIGNMENTS:
        return None
    return f"Expected an assignment among {', '.join(ASSIGNMENTS)}. Received {name!r}."


def in_checkout(relative: str) -> Path | None:
    """``relative`` (``solutions/01_backprop.ipynb``, say) in the nearest folder, from the current one up, that has it:
    the course checkout the command runs in."""
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / relative).is_file():
            return folder / relative
    return None


def no_checkout(relative: str, option: str) -> str:
    """The one line for a command that needs ``relative`` from a course checkout and was run outside one."""
    return (f"Expected a course checkout (a folder with {relative}) here or above. Received {Path.cwd()}: "
            f"run it in the checkout or pass {option}")


def checkout_notebook_option(parser, option: str, folder: str, what: str) -> None:
    """``option FILE``: ``what``, by default ``folder/NN_name.ipynb`` of the course checkout (``checkout_notebook``)."""
    parser.add_argument(option, type=Path, metavar="FILE",
                        help=f"{what} (default: {folder}/NN_name.ipynb of the course checkout that holds the "
                             "current folder)")


def checkout_notebook(given: Path | None, folder: str, assignment: str, option: str) -> tuple[Path | None, str | None]:
    """The notebook ``option`` named, else ``folder/<assignment>.ipynb`` of the course checkout the command runs in;
    None and the one-line reason outside a checkout."""
    relative = f"{folder}/{assignment}.ipynb"
    found = given or in_checkout(relative)
    return (found, None) if found else (None, no_checkout(relative, option))


def progress_bar():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())


def fail(message: str) -> int:
    """Print one plain line (never wrapped, never a traceback) to stderr; return exit status 2."""
    print(" ".join(message.split()), file=sys.stderr)
    return 2


def writable_folder(path: Path) -> str | None:
    """None if ``path`` is (or can be made) a folder we can write in; else a one-line reason."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".dlcourse-probe-"):
            pass
    except OSError as error:
        return f"Expected a writable output folder. Received {path} ({error.strerror or error})"
    return None


def writable_file(path: Path) -> str | None:
    """None if a file can be written at ``path`` (its folder is created if needed); else a one-line reason."""
    if path.is_dir():
        return f"Expected a file path to write. Received a folder: {path}"
    if path.exists() and not os.access(path, os.W_OK):
        return f"Expected a writable file path. Received {path} (permission denied)"
    return writable_folder(path.parent) if str(path.parent) else None

