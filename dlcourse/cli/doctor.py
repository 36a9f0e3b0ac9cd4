"""``dlcourse doctor``: which protections are in force on this machine, before an instructor grades.

Every line is detected here, not assumed: the isolation level is resolved as grading would resolve
it, and the confinement layers come from a probe worker started exactly as a grading worker is,
which tries what each layer must stop (a socket, io_uring, a SysV IPC object, a file out of bounds):
a layer is "in force" only when every try failed, never because a filter loaded.
"""

from __future__ import annotations

import os

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dlcourse.autograder.engine.levels import LEVELS


def doctor(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="show which sandbox protections hold on this machine",
                                   description="Show, for the NumPy and the Keras assignments, which protections "
                                               "of the grader's sandbox are in force here and which are missing. "
                                               "Exits 1 when a protection that grading relies on is missing.")
    isolation_option(parser)
    parser.set_defaults(func=run)


def isolation_option(parser) -> None:
    """``--isolation auto|bwrap|fallback`` (also ``$DLCOURSE_ISOLATION``), for every grading command."""
    parser.add_argument("--isolation", choices=LEVELS,
                        help="how student code is isolated: bwrap (bubblewrap namespaces), fallback (a real "
                             "unprivileged uid, Landlock, seccomp; for machines without namespaces), or auto "
                             "(the strongest that works here; default: $DLCOURSE_ISOLATION, else auto); none: no "
                             "filesystem boundary, UNSAFE, only where nothing else works and you trust every submission")


def choose_isolation(args) -> str | None:
    """Apply ``--isolation`` (through the environment, so batch and Dask workers inherit it); return
    an error line when the level cannot work here."""
    from dlcourse.autograder.engine.sandbox import resolve_isolation

    if getattr(args, "isolation", None):
        os.environ["DLCOURSE_ISOLATION"] = args.isolation
    try:
        resolve_isolation()
    except ValueError as error:
        return str(error)
    return None


def run(args) -> int:
    from dlcourse.autograder.engine.protections import missing, protections
    from dlcourse.autograder.engine.sandbox import Sandbox

    console = Console()
    problem = choose_isolation(args)
    if problem:
        console.print(f"[red]{escape(problem)}[/]")
        return 2
    failing = 0
    for frameworks, label in ((False, "NumPy assignments (01-05, 07, 08)"), (True, "Keras assignments (06, 09)")):
        sandbox = Sandbox(frameworks=frameworks)
        table = Table(title=f"{label}: isolation {sandbox.isolation}", title_justify="left")
        table.add_column("protection")
        table.add_column("here")
        table.add_column("detail")
        for item in protections(sandbox):
            table.add_row(item.name, "[green]in force[/]" if item.active else "[red]missing[/]", escape(item.detail))
        console.print(table)
        gaps = missing(sandbox)
        failing += len(gaps)
        for line in gaps:
            console.print(f"[yellow]missing:[/] {escape(line)}")
    console.print("every protection grading relies on is in force" if not failing else
                  "grading runs, but reports will list what is missing (see above)")
    return 1 if failing else 0
