"""``dlcourse audit``: how strong an assignment's cases are, measured with mutants of its solution."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dlcourse.cli.options import (checkout_notebook, checkout_notebook_option, choose_isolation, fail, isolation_option,
                                  unknown_assignment, writable_folder)


def audit(subparsers) -> None:
    parser = subparsers.add_parser(
        "audit", help="measure how strong an assignment's cases are with mutants of its solution",
        description="""
            Make small mistakes in each unit of the solution notebook, one at a time (operators swapped, numbers
            nudged, another axis, keepdims or transpose dropped, slices shifted, sum for mean, an argument or a
            statement left out), grade each mutant notebook as a submission is graded (sandbox, public and hidden
            cases, the course's secret), and report which cases kill which mutants. Writes DIR/report.md (per unit,
            survivors as diffs) and DIR/mutants.csv; the last line counts the mutants killed, marked equivalent,
            survived and timed out.
        """)
    parser.add_argument("assignment", metavar="NN_name")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--unit", action="append", default=[], metavar="U", help="only this unit (repeatable)")
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="grading processes (default 1)")
    parser.add_argument("--max-per-unit", type=int, metavar="N",
                        help="at most N mutants per unit, spread over the function (default 400)")
    checkout_notebook_option(parser, "--solution", "solutions", "the solution notebook")
    parser.add_argument("--equivalents", type=Path, metavar="FILE",
                        help="equivalent mutants, one `unit mutant-id reason` a line (default: "
                             "autograder/cases/equivalent_mutants/NN_name.txt)")
    parser.add_argument("--extra", type=Path, metavar="FILE",
                        help="a Python file of hand-written versions of units (def <unit>(...)), each graded as one "
                             "more mutant: a mistake seen in students' work, to check that a case catches it")
    parser.add_argument("--whole-function", action="store_true",
                        help="mutate the code around a unit's ### BEGIN/END SOLUTION markers too (the scaffold the "
                             "released notebook gives students; by default only what they write is mutated)")
    parser.add_argument("--max-timeout", type=float, metavar="SECONDS",
                        help="cap every case's time limit (default: each case's own, as in grading)")
    isolation_option(parser)
    parser.set_defaults(func=_run_audit)


def _run_audit(args) -> int:
    from dlcourse.autograder.cases import ASSIGNMENTS
    from dlcourse.autograder.course.audit import MAX_PER_UNIT, audit as run, write_report
    from dlcourse.autograder.engine.reference_cache import cache_dir
    from dlcourse.cli.secret import course_secret

    problem = unknown_assignment(args.assignment) or choose_isolation(args)
    if problem:
        return fail(problem)
    if args.workers < 1:
        return fail(f"Expected --workers of at least 1. Received {args.workers}.")
    if args.max_timeout is not None and not args.max_timeout > 0:
        return fail(f"Expected a positive --max-timeout. Received {args.max_timeout:g}.")
    solution, problem = checkout_notebook(args.solution, "solutions", args.assignment, "--solution")
    folder = cache_dir()
    problem = problem or writable_folder(args.out) or writable_folder(folder)
    if problem:
        return fail(problem)
    with _progress() as advance:
        try:
            result = run(ASSIGNMENTS[args.assignment], solution, course_secret(), folder, units=tuple(args.unit),
                         workers=args.workers, max_per_unit=args.max_per_unit or MAX_PER_UNIT,
                         equivalents=args.equivalents, extra=args.extra, max_timeout=args.max_timeout,
                         whole_function=args.whole_function,
                         progress=advance)
        except ValueError as error:
            return fail(str(error))
    written = write_report(result, args.out)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for unit, mutant, _ in result.stale():
        print(f"note: {unit} {mutant} in {result.equivalents} names no mutant made now: remove it", file=sys.stderr)
    for outcome in result.outcomes:
        if outcome.status == "error":
            print(f"note: {outcome.mutant.unit} {outcome.mutant.id} was not graded: {outcome.note}", file=sys.stderr)
    for unit in result.units:
        counts = result.counts(unit)
        score = result.score(unit)
        print(f"{unit}: {sum(counts.values())} mutants, {counts['killed']} killed, {counts['equivalent']} "
              f"equivalent, {counts['survived']} survived, {counts['timed out']} timed out"
              + (f" (score {100 * score:.1f}%)" if score is not None else ""))
    print(f"wrote {written.report} and {written.csv} in {result.seconds:.0f} s")
    print(result.line())
    return 1 if result.counts()["error"] else 0


class _progress:
    """A progress bar on a terminal (stderr); in a log, a line every ``LOG_EVERY`` mutants graded."""

    LOG_EVERY = 50

    def __enter__(self):
        self.bar = None
        if not sys.stderr.isatty():
            started, done = time.monotonic(), [0]

            def advance(n):
                done[0] += n
                if done[0] % self.LOG_EVERY == 0:
                    print(f"{done[0]} mutants graded ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
            return advance
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("mutants"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task("mutants", total=None)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


