"""``dlcourse export``: grades as a file Canvas, Moodle or another LMS imports without editing."""

from __future__ import annotations

import sys
from pathlib import Path

from dlcourse.cli.options import fail, writable_file


def export(subparsers) -> None:
    parser = subparsers.add_parser(
        "export", help="write grades as a CSV that Canvas, Moodle or another LMS imports without editing",
        description="""
            Export the grades in GRADED (the --out folder of `dlcourse grade-batch`), or in an nbgrader course's
            gradebook (--nbgrader COURSE), as one column per assignment, numbers or blank cells only. A blank that
            needs attention (not graded, a notebook the grader could not read, several candidate notebooks, no
            notebook) is listed on stderr. A student with grades but no roster row is listed and nothing is written
            (exit 1).
        """)
    parser.add_argument("graded", type=Path, nargs="?", metavar="GRADED",
                        help="the output folder of `dlcourse grade-batch` (not with --nbgrader)")
    parser.add_argument("--format", choices=("canvas", "moodle", "csv"), required=True,
                        help="canvas: Canvas's gradebook import (Student, ID, SIS User ID, SIS Login ID, Section, a "
                             "Points Possible row); moodle: Moodle's CSV grade import; csv: student folder and scores")
    parser.add_argument("--roster", type=Path, metavar="FILE",
                        help="a CSV with a 'folder' column (the student's folder) and the LMS's identifiers; for "
                             "canvas, Canvas's own columns (its gradebook export with a 'folder' column added); "
                             "required for canvas and moodle")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE")
    parser.add_argument("--assignment", action="append", metavar="NAME", dest="assignments",
                        help="export only this assignment (repeatable; required with --nbgrader); default: every "
                             "assignment with a record")
    parser.add_argument("--canvas-id", action="append", default=[], metavar="NAME=ID", dest="canvas_ids",
                        help="the Canvas assignment id of an assignment (repeatable): its column reads 'NAME (ID)' "
                             "and updates that Canvas assignment instead of creating one")
    parser.add_argument("--id-field", default="email", metavar="COLUMN",
                        help="moodle: the roster column the import matches users on (default email)")
    parser.add_argument("--nbgrader", type=Path, metavar="COURSE",
                        help="read the nbgrader course's gradebook (late penalties applied) instead of GRADED")
    parser.set_defaults(func=_run_export)


def _run_export(args) -> int:
    from dlcourse.autograder.course.export import export_grades, grades_from_nbgrader, grades_from_records
    from dlcourse.autograder.course.roster import read_roster

    if (args.graded is None) == (args.nbgrader is None):
        return fail("Expected either GRADED (a grade-batch output folder) or --nbgrader COURSE. "
                    f"Received {'both' if args.graded else 'neither'}.")
    canvas_ids = {}
    for item in args.canvas_ids:
        name, _, number = item.partition("=")
        if not name or not number.strip():
            return fail(f"Expected --canvas-id NAME=ID (e.g. 01_backprop=12345). Received {item!r}.")
        canvas_ids[name] = number.strip()
    problem = writable_file(args.out)
    if problem:
        return fail(problem)
    try:
        roster = read_roster(args.roster) if args.roster else None
        if args.nbgrader is not None:
            grades = grades_from_nbgrader(args.nbgrader, args.assignments or [])
        else:
            grades = grades_from_records(args.graded, args.assignments)
        result = export_grades(grades, args.format, args.out, roster, canvas_ids, args.id_field)
    except ValueError as error:
        return fail(str(error))
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if result.unlisted:
        for student in result.unlisted:
            print(f"{student}: not in the roster {args.roster}: add a row with folder {student!r} "
                  "and the student's LMS identifiers", file=sys.stderr)
        print(f"wrote nothing: {len(result.unlisted)} student(s) with grades are missing from the roster",
              file=sys.stderr)
        return 1
    for student, assignment, reason in result.blanks:
        print(f"blank: {student}: {assignment}: {reason}", file=sys.stderr)
    print(f"wrote {args.out}: {len(result.rows)} students, {len(result.blanks)} blank cells "
          f"({args.format} format)")
    return 0
