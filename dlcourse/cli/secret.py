"""``dlcourse secret``: make the course's secret once, in the course folder, where every command finds it.

Hidden cases are drawn from the secret, so a course graded with two secrets gives a student two scores.
Run it once in the course folder (nbgrader's course root, or wherever you run grade-batch and
``gradescope build``); commands run there or below find ``.dlcourse-secret`` as git finds ``.git``.
``course_secret`` is what every grading command calls: it warns whenever it falls back to this machine's
own secret.
"""

from __future__ import annotations

import sys
from pathlib import Path


def secret(subparsers) -> None:
    parser = subparsers.add_parser(
        "secret", help="make the course's secret (hidden cases) in the course folder, once",
        description="Write a new random secret to COURSE/.dlcourse-secret (mode 0600) unless one is there, and say "
                    "where it is. Every grading command run in COURSE or below uses it ($DLCOURSE_SECRET, if set, "
                    "comes first: set it to this value on machines that do not share the folder).")
    parser.add_argument("course", nargs="?", type=Path, default=Path("."), metavar="COURSE",
                        help="the course folder (default: the current folder)")
    parser.add_argument("--show", action="store_true",
                        help="print the secret itself, to set DLCOURSE_SECRET on another machine")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    from dlcourse.autograder.engine.secret import find_secret, make_course_secret
    from dlcourse.cli.options import fail

    if not args.course.is_dir():
        return fail(f"Expected a course folder. Received {args.course}")
    path, made = make_course_secret(args.course)
    print(f"course secret: {path.resolve()} ({'made now' if made else 'already there, kept'})")
    found = find_secret(args.course)
    if found.source != str(path.resolve()):
        print(f"note: {found.source} comes first here, so commands use that instead", file=sys.stderr)
    if args.show:
        print(path.read_text().strip())
    return 0


def course_secret(start: Path | None = None) -> str:
    """The course's secret for a grading command (``secret.find_secret``), found from ``start`` (default: the
    current folder); a warning on stderr when it is this machine's own. An empty course secret file ends the
    command with one line (exit status 2)."""
    from dlcourse.autograder.engine.secret import find_secret
    from dlcourse.cli.options import fail

    try:
        found = find_secret(start)
    except ValueError as error:  # an empty course secret file: one line, exit status 2
        raise SystemExit(fail(str(error))) from None
    if found.machine:
        print(f"warning: no course secret here ($DLCOURSE_SECRET, or .dlcourse-secret in this folder or above): "
              f"using this machine's secret ({found.source}), so hidden cases differ from those of any other "
              "machine or Gradescope zip. Run `dlcourse secret` once in the course folder.", file=sys.stderr)
    return found.value
