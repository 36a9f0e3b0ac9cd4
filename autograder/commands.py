"""The ``dlcourse grade`` and ``dlcourse check`` commands (plugged into ``dlcourse.cli``)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from rich.console import Console

MAX_ZIP_BYTES = 512 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000


def grade(subparsers) -> None:
    parser = subparsers.add_parser("grade", help="grade a notebook, a folder of notebooks, or a zip (all cases)",
                                   description="Grade submissions with every case, hidden ones included. Exits 0 "
                                               "whenever grading ran, whatever the score.")
    parser.add_argument("path", type=Path, help="a .ipynb file, a folder of them, or a .zip")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write Gradescope-format results here")
    _common(parser)
    parser.set_defaults(func=lambda args: _run(args, public_only=False))


def check(subparsers) -> None:
    parser = subparsers.add_parser("check", help="check your notebook against the public cases",
                                   description="A student's own check: the public cases only, in the same "
                                               "sandbox and with the same messages as grading.")
    parser.add_argument("path", type=Path, help="your notebook (.ipynb)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write Gradescope-format results here")
    _common(parser)
    parser.set_defaults(func=lambda args: _run(args, public_only=True))


def grade_batch(subparsers) -> None:
    parser = subparsers.add_parser("grade-batch", help="grade a folder of students' submissions, resumably",
                                   description="Grade SUBMISSIONS/<student>/**/*.ipynb into DIR: a results file "
                                               "per notebook, gradebook.csv and per-student HTML feedback. Run it "
                                               "again after an interruption: finished notebooks are not regraded.")
    parser.add_argument("submissions", type=Path)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="local worker processes (default 1)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--no-figures", action="store_true", help="leave heat maps out of the feedback")
    parser.add_argument("--no-sandbox", action="store_true", help=argparse_no_sandbox_help)
    _backend_option(parser)
    parser.set_defaults(func=_run_batch)


def gradebook(subparsers) -> None:
    parser = subparsers.add_parser("gradebook", help="grade an nbgrader course's submissions into its gradebook",
                                   description="Grade COURSE/submitted/*/ASSIGNMENT/ with dlcourse, write the "
                                               "scores into COURSE/gradebook.db through nbgrader's API (so "
                                               "`nbgrader export` and the formgrader show them), and write "
                                               "feedback to COURSE/feedback/.")
    parser.add_argument("course", type=Path, help="the nbgrader course folder")
    parser.add_argument("assignment", help="the assignment name, e.g. 01_backprop")
    parser.add_argument("--workers", type=int, default=1, metavar="N")
    parser.add_argument("--scheduler", metavar="ADDRESS")
    parser.set_defaults(func=_run_gradebook)


def gradescope(subparsers) -> None:
    parser = subparsers.add_parser("gradescope", help="build a Gradescope autograder zip")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="write the autograder zip (setup.sh, run_autograder, the package)")
    build.add_argument("--out", type=Path, default=Path("autograder.zip"))
    build.add_argument("--assignment", help="grade every upload as this assignment (default: recognise it)")
    build.set_defaults(func=_run_gradescope)


def _backend_option(parser) -> None:
    parser.add_argument("--backend", choices=("tensorflow", "jax", "torch"),
                        help="the Keras backend of the references (default: $KERAS_BACKEND, else tensorflow); "
                             "jax and torch need `pip install dlcourse[jax]` or `[torch]`")


def _choose_backend(args) -> None:
    """Must run before anything imports Keras (the references import it lazily, on first use)."""
    if getattr(args, "backend", None):
        os.environ["KERAS_BACKEND"] = args.backend


argparse_no_sandbox_help = "run student code without bubblewrap (resource limits only; reports say what is missing)"


def _progress_bar():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())


def _run_batch(args) -> int:
    from autograder.course.batch import discover, grade_batch as run_batch
    from autograder.engine.secret import grader_secret

    _choose_backend(args)
    console = Console()
    if not args.submissions.is_dir():
        console.print(f"[red]Expected a folder of submissions. Received {args.submissions}[/]")
        return 2
    total = len(discover(args.submissions))
    with _progress_bar() as bar:
        task = bar.add_task("grading", total=total)
        try:
            report = run_batch(args.submissions, args.out, grader_secret(), workers=args.workers,
                               scheduler=args.scheduler, figures=not args.no_figures,
                               isolation="none" if args.no_sandbox else None,
                               progress=lambda n, text: bar.update(task, advance=n, description=text[:40]))
        except ValueError as error:
            console.print(f"[red]{error}[/]")
            return 2
    console.print(f"graded {report.graded}, already up to date {report.skipped}; "
                  f"wrote {args.out / 'gradebook.csv'}, {args.out / 'feedback'}/, {args.out / 'results'}/")
    return 0


def _run_gradebook(args) -> int:
    from autograder.course.nbgrader_course import grade_course
    from autograder.engine.secret import grader_secret

    console = Console()
    try:
        report, problems = grade_course(args.course, args.assignment, grader_secret(), workers=args.workers,
                                        scheduler=args.scheduler)
    except ValueError as error:
        console.print(f"[red]{error}[/]")
        return 2
    for problem in problems:
        console.print(f"[yellow]note: {problem}[/]")
    console.print(f"recorded {len(report.records)} notebooks of {args.assignment} in {args.course / 'gradebook.db'}")
    return 0


def _run_gradescope(args) -> int:
    from autograder.course.gradescope import build
    from autograder.engine.secret import grader_secret

    root = Path(__file__).resolve().parent.parent
    names = build(root, args.out, grader_secret(), args.assignment)
    print(f"wrote {args.out} ({len(names)} files): upload it as the assignment's autograder on Gradescope")
    return 0


def _common(parser) -> None:
    parser.add_argument("--assignment", help="grade as this assignment (default: from the notebook)")
    _backend_option(parser)
    parser.add_argument("--no-sandbox", action="store_true", help=argparse_no_sandbox_help)


def _run(args, public_only: bool) -> int:
    from autograder.cases import ASSIGNMENTS
    from autograder.engine.grade import Grader
    from autograder.engine.references import ReferenceCache, cache_dir
    from autograder.engine.report import gradescope, print_result, print_summary
    from autograder.engine.secret import grader_secret

    _choose_backend(args)
    console = Console(stderr=False, soft_wrap=False)
    if args.assignment and args.assignment not in ASSIGNMENTS:
        console.print(f"[red]Expected an assignment among {', '.join(ASSIGNMENTS)}. Received {args.assignment!r}.[/]")
        return 2
    with tempfile.TemporaryDirectory(prefix="dlcourse-") as scratch:
        try:
            notebooks = collect_notebooks(args.path, Path(scratch))
        except ValueError as error:
            console.print(f"[red]{error}[/]")
            return 2
        grader = Grader(public_only=public_only, secret=None if public_only else grader_secret(),
                        cache=ReferenceCache(cache_dir()), isolation="none" if args.no_sandbox else None)
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
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(gradescope(results), indent=2))
    if len(results) == 1 and results[0].error:
        return 2
    return 0


def collect_notebooks(path: Path, scratch: Path) -> list[tuple[Path, str]]:
    """The notebooks to grade under ``path`` (a notebook, a folder, or a zip unpacked into ``scratch``),
    each with the name reports give it (its path inside the folder or zip)."""
    if not path.exists():
        raise ValueError(f"Expected a notebook, a folder or a zip. Received a path that does not exist: {path}")
    if path.is_dir():
        found = [(p, str(p.relative_to(path))) for p in sorted(path.rglob("*.ipynb"))
                 if ".ipynb_checkpoints" not in p.parts]
    elif path.suffix == ".zip":
        found = _unzip(path, scratch)
    else:
        found = [(path, path.name)]
    if not found:
        raise ValueError(f"Expected at least one .ipynb notebook. Received none under {path}")
    return found


def _unzip(path: Path, scratch: Path) -> list[tuple[Path, str]]:
    """Unpack only the notebooks of a zip, refusing absolute paths, '..' and zip bombs."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(f"Expected a zip archive. Received a file that is not one: {path}") from None
    with archive:
        members = [info for info in archive.infolist() if info.filename.endswith(".ipynb")
                   and "__MACOSX" not in info.filename and ".ipynb_checkpoints" not in info.filename]
        if len(members) > MAX_ZIP_MEMBERS or sum(info.file_size for info in members) > MAX_ZIP_BYTES:
            raise ValueError(f"Expected a zip of at most {MAX_ZIP_MEMBERS} notebooks and "
                             f"{MAX_ZIP_BYTES // 2**20} MiB. Received {path} with more.")
        found = []
        for index, info in enumerate(members):
            name = Path(info.filename)
            if name.is_absolute() or ".." in name.parts:
                continue
            target = scratch / f"{index:05d}" / name.name
            target.parent.mkdir(parents=True)
            with archive.open(info) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink, length=1 << 20)
            found.append((target, info.filename))
    return found


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use the `dlcourse` command")
