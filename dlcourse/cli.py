"""The ``dlcourse`` command.

``release`` lives here; ``grade`` and ``check`` are plugged in by the ``autograder`` package through
the ``dlcourse.commands`` entry points (see setup.cfg), so ``dlcourse`` never imports the grader.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from dlcourse import __version__, release


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlcourse", description="Deep-learning fundamentals: assignments "
                                     "and a sandboxed grader checked against Keras 3.")
    parser.add_argument("--version", action="version", version=f"dlcourse {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    release.register(subparsers)
    for entry in sorted(entry_points(group="dlcourse.commands"), key=lambda e: e.name):
        entry.load()(subparsers)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except OSError as error:  # an output path that cannot be written (or read): one line, never a traceback
        where = f": {error.filename}" if error.filename else ""
        print(f"dlcourse {args.command}: {error.strerror or error}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
