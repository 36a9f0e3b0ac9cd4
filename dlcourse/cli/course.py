"""Course operations: ``dlcourse grade-batch``, ``dlcourse gradebook`` (nbgrader) and ``dlcourse gradescope``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rich.console import Console

from dlcourse.autograder.engine.levels import WITH_A_BOUNDARY
from dlcourse.cli.options import (backend_option, choose_backend, choose_isolation, fail, isolation_option,
                                  progress_bar, unknown_assignment, writable_file, writable_folder)
from dlcourse.cli.similarity import similarity_option

WORKER_WAIT = 300.0  # as dlcourse.autograder.course.batch.settings.WORKER_WAIT (not imported here: the CLI loads fast)


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
    isolation_option(parser)
    parser.add_argument("--force", action="store_true",
                        help="regrade every selected notebook, even those whose record is up to date")
    parser.add_argument("--student", action="append", metavar="NAME", dest="students",
                        help="grade only this student (repeatable), regraded only if needed (with --force: always); a name with no submission is exit 2; the CSV and feedback still cover everyone")
    parser.add_argument("--worker-cache", metavar="DIR",
                        help="with --scheduler: the reference cache folder on the workers "
                             "(default: their $DLCOURSE_CACHE, else ~/.cache/dlcourse)")
    parser.add_argument("--worker-wait", type=float, default=WORKER_WAIT, metavar="SECONDS",
                        help="with --scheduler: how long the cluster may have no worker before the notebooks "
                             f"still to grade end 'not graded' (default {WORKER_WAIT:g})")
    backend_option(parser)
    similarity_option(parser)
    parser.set_defaults(func=_run_batch)


def gradebook(subparsers) -> None:
    parser = subparsers.add_parser(
        "gradebook", help="grade an nbgrader course's submissions into its gradebook (replaces nbgrader autograde)",
        usage="dlcourse gradebook [-h] [COURSE] ASSIGNMENT [--student S ...] [--force] [--feedback] "
              "[--workers N] [--scheduler ADDRESS] [--backend B] [--isolation LEVEL] [--similarity DIR]",
        description="In place of `nbgrader autograde`: grade submitted/*/ASSIGNMENT/ of the nbgrader course in "
                    "COURSE (default: the current folder, as nbgrader does) with dlcourse's sandboxed grader, and "
                    "write autograded/, the scores, timestamps and late penalties through nbgrader's own classes "
                    "and the course's nbgrader_config.py. The formgrader, manual grading, `nbgrader export`, "
                    "generate_feedback and release_feedback then work as after `nbgrader autograde`. A rerun "
                    "regrades only students whose notebooks, timestamp, grading cases or grader changed, or whose "
                    "grades `nbgrader autograde` (the formgrader's Autograde button) replaced: use this "
                    "command, not that button.")
    parser.add_argument("where", nargs="+", metavar="[COURSE] ASSIGNMENT",
                        help="the course folder (optional) and the assignment id")
    parser.add_argument("--student", action="append", metavar="S", dest="students",
                        help="grade only this student (repeatable), regraded only if needed (with --force: always); a student who did not submit is exit 2")
    parser.add_argument("--force", action="store_true", help="regrade students whose grades are up to date")
    parser.add_argument("--feedback", action="store_true",
                        help="also write dlcourse's HTML feedback to feedback/<student>/ASSIGNMENT/ (ready for "
                             "`nbgrader release_feedback`; `nbgrader generate_feedback` then skips those students)")
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="local worker processes (default 1)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. tcp://10.0.0.5:8786")
    isolation_option(parser)
    backend_option(parser)
    similarity_option(parser)
    parser.set_defaults(func=_run_gradebook)


def gradescope(subparsers) -> None:
    parser = subparsers.add_parser("gradescope", help="build a Gradescope autograder zip")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="write the autograder zip (setup.sh, run_autograder, the package)")
    build.add_argument("--out", type=Path, default=Path("autograder.zip"))
    build.add_argument("--assignment", metavar="NAME",
                       help="the assignment this autograder grades, e.g. 01_backprop (each upload is graded as it)")
    build.add_argument("--isolation", choices=WITH_A_BOUNDARY, default="auto",
                       help="the isolation level run_autograder uses (default auto: bubblewrap where Gradescope's "
                            "container allows namespaces, else the fallback level; $DLCOURSE_ISOLATION overrides)")
    build.set_defaults(func=_run_gradescope)
    grade_upload = actions.add_parser("grade", help="grade one upload as exactly one notebook (run_autograder runs this)")
    grade_upload.add_argument("submission", type=Path, help="the upload's folder (/autograder/submission)")
    grade_upload.add_argument("--assignment", required=True, metavar="NAME")
    grade_upload.add_argument("--json", type=Path, required=True, metavar="FILE", help="where results.json goes")
    grade_upload.add_argument("--written-points", type=float, default=0.0, metavar="P",
                              help="points of written answers graded by hand elsewhere (said in the output)")
    isolation_option(grade_upload)
    grade_upload.set_defaults(func=_run_gradescope_grade)
    warm = actions.add_parser("warm", help="compute the assignment's references into $DLCOURSE_CACHE (setup.sh runs this)")
    warm.add_argument("--assignment", required=True, metavar="NAME")
    warm.set_defaults(func=_run_gradescope_warm)


def _run_batch(args) -> int:
    from dlcourse.autograder.course.batch import Settings, grade_batch as run_batch, survey
    from dlcourse.cli.secret import course_secret

    choose_backend(args)
    console = Console()
    problem = choose_isolation(args)
    if problem:
        return fail(problem)
    if not args.submissions.is_dir():
        return fail(f"Expected a folder of submissions. Received {args.submissions}")
    problem = writable_folder(args.out) or _similarity_problem(args.similarity, checkout=True)
    if problem:
        return fail(problem)
    try:
        found = survey(args.submissions)
    except ValueError as error:
        return fail(str(error))
    unknown = sorted(set(args.students or ()) - set(found.students))
    if unknown:  # as grade_batch would say, before the progress bar shows
        return fail(f"Expected students found under {args.submissions}. Received unknown: {', '.join(unknown)}")
    total = len(found.submissions)
    secret = course_secret()
    with progress_bar() as bar:
        task = bar.add_task("grading", total=total)
        try:
            settings = Settings(secret, workers=args.workers, scheduler=args.scheduler, figures=not args.no_figures,
                                worker_cache=args.worker_cache, worker_wait=args.worker_wait,
                                isolation=os.environ.get("DLCOURSE_ISOLATION"))
            report = run_batch(args.submissions, args.out, settings, force=args.force, students=args.students,
                               progress=lambda n, text: bar.update(task, advance=n, description=text[:40]))
        except ValueError as error:
            return fail(str(error))
        except OSError as error:
            return fail(f"Expected a writable output folder. Received {args.out} "
                        f"({error.strerror or error}: {error.filename or ''})")
    for student, notes in sorted(report.notes.items()):
        for note in notes:
            console.print(f"[yellow]{student}: {note}[/]", highlight=False)
    for name, reason in report.not_graded:
        console.print(f"[bold red]{name}: not graded: {reason}[/]", highlight=False)
    console.print(f"graded {report.graded}, already up to date {report.skipped}; "
                  f"wrote {args.out / 'gradebook.csv'}, {args.out / 'feedback'}/, {args.out / 'results'}/",
                  highlight=False)
    status = 0
    if report.not_graded:
        console.print(f"[bold red]{len(report.not_graded)} notebooks not graded (an infrastructure failure, not a "
                      "score): run the same command again to retry them[/]", highlight=False)
        status = 1
    if args.similarity:
        from dlcourse.cli.similarity import similarity_of_graded

        status = max(status, similarity_of_graded(report.records, args.submissions, args.similarity))
    return status


def _run_gradebook(args) -> int:
    from dlcourse.autograder.course.nbgrader_config import load_course
    from dlcourse.autograder.course.nbgrader_course import grade_course, print_rows
    from dlcourse.cli.secret import course_secret

    choose_backend(args)
    console = Console()
    problem = choose_isolation(args)
    if problem:
        return fail(problem)
    if len(args.where) > 2:
        return fail(f"Expected [COURSE] ASSIGNMENT. Received {len(args.where)} arguments: {' '.join(args.where)}")
    folder, assignment = (Path(args.where[0]), args.where[1]) if len(args.where) == 2 else (Path.cwd(), args.where[0])
    problem = _similarity_problem(args.similarity)
    if problem:
        return fail(problem)
    try:
        course = load_course(folder, assignment)
    except ValueError as error:
        return fail(str(error))
    secret = course_secret(folder)
    with progress_bar() as bar:
        tasks = []  # the bar appears once the plan is made: a refusal before it is one line, nothing else

        def advance(n: int, text: str) -> None:
            bar.update(tasks[0], advance=n, description=text[:40])

        try:
            rows = grade_course(course, assignment, secret, students=args.students, force=args.force,
                                workers=args.workers, scheduler=args.scheduler, feedback=args.feedback,
                                isolation=os.environ.get("DLCOURSE_ISOLATION"), progress=advance,
                                on_total=lambda total: tasks.append(bar.add_task("grading", total=total)))
        except ValueError as error:
            bar.stop()
            return fail(str(error))
        except OSError as error:
            bar.stop()
            return fail(f"Expected a course folder dlcourse can write in. Received {type(error).__name__}: "
                        f"{error.strerror or error} {error.filename or ''}")
    print_rows(rows, assignment, console)
    missed = [row.student for row in rows if row.status == "not graded"]
    status = 0
    if missed:
        console.print(f"not graded: {', '.join(missed)} (see the notes above); exit status 1", markup=False,
                      highlight=False, soft_wrap=True)
        status = 1
    if args.similarity:
        from dlcourse.autograder.course.nbgrader_course import graded_notebooks, released_notebooks
        from dlcourse.cli.similarity import released_stub, similarity_of_graded

        mirror, records = graded_notebooks(course, assignment)  # everyone graded so far, not only --student's
        left_out = {row.student for row in rows if row.status not in ("graded", "regraded", "up to date")}
        status = max(status, similarity_of_graded([record for record in records if record.student not in left_out],
                                                  mirror, args.similarity,
                                                  released_stub(released_notebooks(course, assignment))))
    return status


def _similarity_problem(folder: Path | None, checkout: bool = False) -> str | None:
    """Why ``--similarity DIR`` cannot work, checked before anything is graded (None: it can, or no flag)."""
    if folder is None:
        return None
    if checkout:
        from dlcourse.autograder.cases import ASSIGNMENTS
        from dlcourse.cli.similarity import checkout_stub

        if not any(checkout_stub(name) for name in ASSIGNMENTS):
            return (f"Expected a course checkout (a folder with assignments/NN_name.ipynb, the released stubs that "
                    f"--similarity leaves out) here or above. Received {Path.cwd()}: run it in the checkout")
    return writable_folder(folder)


def _run_gradescope(args) -> int:
    from dlcourse.autograder.cases import ASSIGNMENTS
    from dlcourse.autograder.course.gradescope import build, written_answers
    from dlcourse.cli.secret import course_secret

    if args.assignment is None:
        return fail(f"Expected --assignment NAME, one zip per assignment, among {', '.join(ASSIGNMENTS)}. "
                    "Received none.")
    problem = unknown_assignment(args.assignment) or writable_file(args.out)
    if problem:
        return fail(problem)
    names = build(args.out, course_secret(), args.assignment, isolation=args.isolation)
    print(f"wrote {args.out} ({len(names)} files): upload it as the assignment's autograder on Gradescope")
    count, points = written_answers(args.assignment)
    if count:
        auto = ASSIGNMENTS[args.assignment].max_score
        print(f"note: {args.assignment}'s {count} written answers ({points:g} points) are graded by hand in "
              f"nbgrader, not on Gradescope: its total there is {auto:g}, in nbgrader {auto + points:g}")
    return 0


def _run_gradescope_grade(args) -> int:
    from dlcourse.autograder.cases import COURSE
    from dlcourse.autograder.course.gradescope import grade_upload
    from dlcourse.autograder.engine.fingerprint import grader_fingerprint
    from dlcourse.autograder.engine.grade import Grader
    from dlcourse.autograder.engine.reference_cache import ReferenceCache, cache_dir
    from dlcourse.autograder.engine.report import print_result
    from dlcourse.cli.secret import course_secret

    problem = unknown_assignment(args.assignment) or choose_isolation(args) or writable_file(args.json)
    if problem:
        return fail(problem)
    secret = course_secret()
    grader = Grader(COURSE, secret=secret, cache=ReferenceCache(cache_dir()))
    results, graded = grade_upload(args.submission, args.assignment, grader, written_points=args.written_points)
    results["extra_data"] = {"fingerprint": grader_fingerprint(secret), "references_computed": grader.cache.misses}
    console = Console(soft_wrap=True)
    for result in graded:
        print_result(result, console)
    if not graded:
        console.print(results["output"], highlight=False)
    try:
        args.json.write_text(json.dumps(results, indent=2))
    except OSError as error:
        return fail(f"Expected a writable --json path. Received {args.json} ({error.strerror})")
    return 0


def _run_gradescope_warm(args) -> int:
    from dlcourse.autograder.course.gradescope import warm
    from dlcourse.autograder.engine.reference_cache import ReferenceCache, cache_dir
    from dlcourse.cli.secret import course_secret

    folder = cache_dir()
    problem = unknown_assignment(args.assignment) or writable_folder(folder)
    if problem:
        return fail(problem)
    computed = warm(args.assignment, course_secret(), ReferenceCache(folder))
    print(f"computed {computed} references of {args.assignment} into {folder}")
    return 0


def release(subparsers) -> None:
    parser = subparsers.add_parser("release", help="regenerate assignments/ from solutions/",
                                   description="Regenerate the student notebooks from the solution notebooks "
                                               "with nbgrader's generate_assignment preprocessors.")
    parser.add_argument("--solutions", type=Path, metavar="DIR",
                        help="default: solutions/ of the course checkout that holds the current folder")
    parser.add_argument("--assignments", type=Path, metavar="DIR", help="default: assignments/ next to --solutions")
    parser.set_defaults(func=_run_release)


def _run_release(args) -> int:
    from dlcourse.autograder.course.release import release as release_notebooks

    solutions = args.solutions or _checkout_solutions()
    if solutions is None:
        return fail(f"Expected a course checkout (a folder with solutions/NN_name.ipynb) here or above. Received "
                    f"{Path.cwd()}: run it in the checkout or pass --solutions")
    try:
        written = release_notebooks(solutions, args.assignments or solutions.parent / "assignments")
    except ValueError as error:
        print(error)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


def _checkout_solutions() -> Path | None:
    """``solutions/`` of the nearest folder, from the current one up, that holds solution notebooks."""
    for folder in (Path.cwd(), *Path.cwd().parents):
        if any((folder / "solutions").glob("[0-9][0-9]_*.ipynb")):
            return folder / "solutions"
    return None
