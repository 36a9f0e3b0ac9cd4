"""The ``dlcourse`` command: the top layer, which owns every command.

Commands are registered here, each from the module of its topic (``grading``, ``course``, ``doctor``);
they import the layers below lazily, so ``dlcourse --help`` imports no grader and no Keras.
"""

from __future__ import annotations

import argparse
import sys

from dlcourse import __version__
from dlcourse.cli import audit, course, doctor, export, grading, secret, similarity

COMMANDS = (grading.grade, grading.check, grading.warm, course.grade_batch, course.gradebook, course.gradescope,
            course.release, export.export, similarity.similarity, audit.audit, secret.secret, doctor.doctor)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every command and its options (nothing is imported or run)."""
    parser = argparse.ArgumentParser(prog="dlcourse", description="Deep-learning fundamentals: assignments "
                                     "and a sandboxed grader checked against Keras 3.")
    parser.add_argument("--version", action="version", version=f"dlcourse {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except OSError as error:  # an output path that cannot be written (or read): one line, never a traceback
        where = f": {error.filename}" if error.filename else ""
        print(f"dlcourse {args.command}: {error.strerror or error}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
