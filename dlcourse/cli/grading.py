"""``dlcourse grade``, ``dlcourse check`` and ``dlcourse warm``: one notebook, a folder or a zip."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from rich.console import Console

from dlcourse.cli.options import (backend_option, choose_backend, choose_isolation, fail, isolation_option,
                                  unknown_assignment, writable_file, writable_folder)


def grade(subparsers) -> None:
    parser = subparsers.add_parser("grade", help="grade a notebook, a folder of notebooks, or a zip (all cases)",
                                   description="Grade submissions with every case, hidden ones included. Exits 0 "
                                               "whenever grading ran, whatever the score.")
    _grading_arguments(parser, "a .ipynb file, a folder of them, or a .zip", public_only=False)


def check(subparsers) -> None:
    parser = subparsers.add_parser("check", help="check your notebook against the public cases",
                                   description="A student's own check: the public cases only, in the same "
                                               "sandbox and with the same messages as grading.")
    _grading_arguments(parser, "your notebook (.ipynb)", public_only=True)


def warm(subparsers) -> None:
    parser = subparsers.add_parser("warm", help="precompute the public checks' references (checks then need no Keras)",
                                   description="Compute the Keras references of every public case into the reference "
                                               "cache ($DLCOURSE_CACHE, else ~/.cache/dlcourse), once per install: "
                                               "check() in a notebook and `dlcourse check` then answer without "
                                               "importing Keras or TensorFlow. `make` runs it.")
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all of them")
    backend_option(parser)
    parser.set_defaults(func=_run_warm)


def _grading_arguments(parser, path_help: str, public_only: bool) -> None:
    """What ``grade`` and ``check`` share: the path, ``--json``, ``--assignment``, backend and isolation."""
    parser.add_argument("path", type=Path, help=path_help)
    parser.add_argument("--json", type=Path, metavar="FILE", help="write Gradescope-format results here")
    parser.add_argument("--assignment", help="grade as this assignment (default: from the notebook)")
    backend_option(parser)
    isolation_option(parser)
    parser.set_defaults(func=lambda args: _run(args, public_only=public_only))


def _run(args, public_only: bool) -> int:
    from dlcourse.autograder.cases import ASSIGNMENTS, COURSE
    from dlcourse.autograder.engine.grade import Grader
    from dlcourse.autograder.engine.reference_cache import ReferenceCache, cache_dir
    from dlcourse.autograder.engine.report import gradescope, print_result, print_summary
    from dlcourse.cli.secret import course_secret

    choose_backend(args)
    console = Console(stderr=False, soft_wrap=False)
    problem = choose_isolation(args)
    if problem:
        return fail(problem)
    problem = unknown_assignment(args.assignment) or (writable_file(args.json) if args.json else None)
    if problem:
        return fail(problem)
    with tempfile.TemporaryDirectory(prefix="dlcourse-") as scratch:
        skipped: list[str] = []
        try:
            notebooks = collect_notebooks(args.path, Path(scratch), skipped)
        except ValueError as error:
            return fail(str(error))
        for note in skipped:
            console.print(f"[yellow]note: {note}[/]", highlight=False)
        grader = Grader(COURSE, public_only=public_only, secret=None if public_only else course_secret(),
                        cache=ReferenceCache(cache_dir()))
        assignment = ASSIGNMENTS.get(args.assignment) if args.assignment else None
        results = []
        for notebook, label in notebooks:
            result = grader.grade(notebook, assignment)
            result.label = label
            print_result(result, console)
            results.append(result)
    if len(results) > 1:
        print_summary(results, console)
    if args.json:
        try:
            args.json.write_text(json.dumps(gradescope(results), indent=2))
        except OSError as error:
            return fail(f"Expected a writable --json path. Received {args.json} ({error.strerror})")
    if len(results) == 1 and results[0].error:
        return 2
    return 0


def _run_warm(args) -> int:
    from dlcourse.autograder.cases import ASSIGNMENTS
    from dlcourse.autograder.engine.reference_cache import ReferenceCache, cache_dir, warm as warm_cases

    choose_backend(args)
    unknown = [name for name in args.assignments if name not in ASSIGNMENTS]
    if unknown:
        return fail(f"Expected assignments among {', '.join(ASSIGNMENTS)}. Received {', '.join(unknown)}.")
    folder = cache_dir()
    problem = writable_folder(folder)
    if problem:
        return fail(problem)
    cache = ReferenceCache(folder)
    for name in args.assignments or list(ASSIGNMENTS):
        computed = warm_cases(ASSIGNMENTS[name].public_cases(), None, cache)
        print(f"{name}: {computed} public references computed into {folder}", flush=True)
    return 0


def collect_notebooks(path: Path, scratch: Path, skipped: list[str] | None = None) -> list[tuple[Path, str]]:
    """The notebooks under ``path`` with the names reports give them: see ``discovery.notebooks_in``."""
    from dlcourse.autograder.course.discovery import notebooks_in

    return notebooks_in(path, scratch, skipped)

