"""``dlcourse similarity``: which students' code of one assignment is alike, unit by unit (a reason to look)."""

from __future__ import annotations

import sys
from pathlib import Path

from dlcourse.cli.options import fail, unknown_assignment, writable_folder


def similarity(subparsers) -> None:
    parser = subparsers.add_parser(
        "similarity", help="rank pairs of students whose code of one assignment is alike (never runs it)",
        description="Compare every student's notebook of one assignment, unit by unit, on token fingerprints "
                    "that survive renaming, reordering, reformatting, comments and dead statements; the stub's "
                    "code and code most of the class shares are ignored. Writes DIR/pairs.csv (every pair that "
                    "shares anything, ranked) and DIR/report.html (flagged pairs side by side). A score is a "
                    "reason to look, never a verdict. Student code is only read, never run.")
    parser.add_argument("submitted", type=Path, metavar="SUBMITTED",
                        help="submitted/<student>/**/*.ipynb, as grade-batch reads it")
    parser.add_argument("--assignment", required=True, metavar="NN_name")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--past", type=Path, metavar="DIR",
                        help="earlier terms' submissions (same layout): compared with this term's, not with each other")
    parser.add_argument("--stub", type=Path, metavar="FILE",
                        help="the released notebook (default: assignments/NN_name.ipynb of the course checkout "
                             "that holds the current folder)")
    parser.add_argument("--threshold", type=float, metavar="SCORE",
                        help="flag pairs whose overall score is at least this (default 0.5)")
    parser.add_argument("--boilerplate", type=float, metavar="SHARE",
                        help="ignore code that more than this share of the class has in a unit (default 0.2)")
    parser.set_defaults(func=_run_similarity)


def _run_similarity(args) -> int:
    from dlcourse.autograder.cases import COURSE
    from dlcourse.autograder.course.similarity import BOILERPLATE_SHARE, THRESHOLD, compare
    from dlcourse.autograder.course.similarity_report import write_report

    problem = unknown_assignment(args.assignment)
    if problem:
        return fail(problem)
    stub = args.stub or _checkout_stub(args.assignment)
    if stub is None:
        return fail(f"Expected a course checkout (a folder with assignments/{args.assignment}.ipynb) here or "
                    f"above. Received {Path.cwd()}: run it in the checkout or pass --stub")
    problem = writable_folder(args.out)
    if problem:
        return fail(problem)
    try:
        comparison = compare(args.submitted, args.assignment, stub, COURSE, past=args.past,
                             threshold=THRESHOLD if args.threshold is None else args.threshold,
                             boilerplate=BOILERPLATE_SHARE if args.boilerplate is None else args.boilerplate)
    except ValueError as error:
        return fail(str(error))
    written = write_report(comparison, args.out)
    for note in comparison.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {written.csv} ({written.rows} pairs) and {written.html} ({written.shown} shown)")
    print(f"similarity {args.assignment}: {comparison.current} submissions, {len(comparison.flagged)} pairs flagged")
    return 0


def _checkout_stub(assignment: str) -> Path | None:
    """``assignments/<assignment>.ipynb`` of the nearest folder, from the current one up, that has it."""
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "assignments" / f"{assignment}.ipynb").is_file():
            return folder / "assignments" / f"{assignment}.ipynb"
    return None
