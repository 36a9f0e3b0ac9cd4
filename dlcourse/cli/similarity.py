"""``dlcourse similarity``: which students' code of one assignment is alike, unit by unit (a reason to look)."""

from __future__ import annotations

import sys
from pathlib import Path

from dlcourse.cli.options import (checkout_notebook, checkout_notebook_option, fail, in_checkout, unknown_assignment,
                                  writable_folder)


def similarity(subparsers) -> None:
    parser = subparsers.add_parser(
        "similarity", help="rank pairs of students whose code of one assignment is alike (never runs it)",
        description="""
            Compare every student's notebook of one assignment, unit by unit, on token fingerprints that survive
            renaming, reordering, reformatting, comments and dead statements; the stub's code and code most of the
            class shares are ignored. Writes DIR/pairs.csv (every pair that shares anything, ranked) and
            DIR/report.html (flagged pairs side by side). A score is a reason to look, never a verdict. Student code
            is only read, never run.
        """)
    parser.add_argument("submitted", type=Path, metavar="SUBMITTED",
                        help="submitted/<student>/**/*.ipynb, as grade-batch reads it")
    parser.add_argument("--assignment", required=True, metavar="NN_name")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--past", type=Path, metavar="DIR",
                        help="earlier terms' submissions (same layout): compared with this term's, not with each other")
    checkout_notebook_option(parser, "--stub", "assignments", "the released notebook")
    parser.add_argument("--threshold", type=float, metavar="SCORE",
                        help="flag pairs whose overall score is at least this (default 0.5)")
    parser.add_argument("--unit-threshold", type=float, metavar="SCORE",
                        help="also flag pairs with one unit's score at least this, on at least 10 shared "
                             "fingerprints (default 0.8)")
    parser.add_argument("--boilerplate", type=float, metavar="SHARE",
                        help="ignore code that more than this share of the class has in a unit (default 0.2)")
    parser.set_defaults(func=_run_similarity)


def _run_similarity(args) -> int:
    problem = unknown_assignment(args.assignment)
    if problem:
        return fail(problem)
    stub, problem = checkout_notebook(args.stub, "assignments", args.assignment, "--stub")
    problem = problem or writable_folder(args.out)
    if problem:
        return fail(problem)
    return run_similarity(args.submitted, args.assignment, stub, args.out, past=args.past, threshold=args.threshold,
                          boilerplate=args.boilerplate, unit_threshold=args.unit_threshold)


def run_similarity(submitted: Path, assignment: str, stub: Path, out: Path, students=None, past: Path | None = None,
                   threshold: float | None = None, boilerplate: float | None = None,
                   unit_threshold: float | None = None) -> int:
    """Compare, write ``out/pairs.csv`` and ``out/report.html``, print the notes and the summary line; the exit
    status (2 with one line for a bad argument or stub)."""
    from dlcourse.autograder.cases import COURSE
    from dlcourse.autograder.course.similarity import BOILERPLATE_SHARE, THRESHOLD, UNIT_THRESHOLD, compare
    from dlcourse.autograder.course.similarity_report import write_report

    try:
        comparison = compare(submitted, assignment, stub, COURSE, past=past,
                             threshold=THRESHOLD if threshold is None else threshold,
                             boilerplate=BOILERPLATE_SHARE if boilerplate is None else boilerplate,
                             unit_threshold=UNIT_THRESHOLD if unit_threshold is None else unit_threshold,
                             students=students)
    except ValueError as error:
        return fail(str(error))
    written = write_report(comparison, out)
    for note in comparison.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {written.csv} ({written.rows} pairs) and {written.html} ({written.shown} shown)")
    print(f"similarity {assignment}: {comparison.current} submissions, {len(comparison.flagged)} pairs flagged")
    return 0


# ----------------------------------------------------------------------------- --similarity DIR of the batch commands

def similarity_option(parser) -> None:
    parser.add_argument("--similarity", type=Path, metavar="DIR",
                        help="after grading, compare the graded submissions of each assignment as `dlcourse "
                             "similarity` does, into DIR/NN_name/ (pairs.csv, report.html); the stubs are the "
                             "released notebooks")


def similarity_of_graded(records: list, submitted: Path, out: Path, stub_of=None, students=None) -> int:
    """``dlcourse similarity`` over the submissions that were graded, one assignment at a time, into
    ``out/<assignment>/``; the exit status (0, or 2 if an assignment could not be compared).

    Args:
        records: the batch's records (``grade_batch``, ``records.Record``): a graded one names its student and
            assignment.
        submitted: the folder the graded notebooks were read from (``submitted/<student>/...``).
        stub_of: ``stub_of(assignment)``: the released notebook, or None if there is none (default:
            ``assignments/<assignment>.ipynb`` of the course checkout that holds the current folder).
        students: only these students (default: every student with a graded record).
    """
    stub_of = stub_of or checkout_stub
    graded: dict[str, set[str]] = {}
    for record in records:
        if record.graded and record.assignment and (students is None or record.student in students):
            graded.setdefault(record.assignment, set()).add(record.student)
    status = 0
    for assignment in sorted(graded):
        stub = stub_of(assignment)
        if stub is None:
            status = fail(f"similarity {assignment}: Expected its released notebook (assignments/{assignment}.ipynb "
                          f"of the course checkout). Received none: not compared")
            continue
        status = max(status, run_similarity(submitted, assignment, stub, out / assignment, students=graded[assignment]))
    return status


def released_stub(paths: list[Path]):
    """``stub_of`` for ``similarity_of_graded``: the one of ``paths`` (an nbgrader course's released notebooks)
    that is the assignment's, else the course checkout's."""
    def stub_of(assignment: str) -> Path | None:
        from dlcourse.autograder.cases import COURSE
        from dlcourse.autograder.engine.extract import NotebookError, read_notebook

        for path in paths:
            try:
                found = COURSE.identify(read_notebook(path))
            except NotebookError:
                continue
            if found is not None and found.name == assignment:
                return path
        return checkout_stub(assignment)

    return stub_of


def checkout_stub(assignment: str) -> Path | None:
    """``assignments/<assignment>.ipynb`` of the nearest folder, from the current one up, that has it."""
    return in_checkout(f"assignments/{assignment}.ipynb")
