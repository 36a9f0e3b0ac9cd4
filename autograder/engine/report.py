"""Reports: a table per submission on the terminal, and Gradescope's ``results.json``."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from dlcourse.autograder.engine.compare import Status
from dlcourse.autograder.engine.grade import SubmissionResult

STATUS_STYLE = {Status.PASSED: "green", Status.FAILED: "red", Status.ERROR: "red", Status.TIMEOUT: "red",
                Status.NOT_IMPLEMENTED: "yellow", Status.MISSING: "yellow"}


def print_result(result: SubmissionResult, console: Console) -> None:
    """One row per unit: points, status, and what went wrong first (student text printed verbatim).

    When only public cases were run (``dlcourse check``) the points column says so and gives each
    unit's full worth, as the notebook's header does.
    """
    if result.error:
        console.print(f"[bold red]{escape(result.label)}: not graded: {escape(result.error)}[/]")
        return
    public_only = all(not item.case.hidden for item in result.results)
    title = f"{result.label} ({result.assignment.name}: {result.assignment.title})"
    reason = same_error(result)
    if reason:
        console.print(f"[bold red]{escape(title)}: every unit: {escape(reason)}[/]", highlight=False)
        for notice in (n for n in result.notices if n != reason):
            console.print(f"[yellow]note: {escape(notice)}[/]", highlight=False)
        console.print(f"[bold]score: {_points(result.score)} / {_points(result.max_score)}[/]", highlight=False)
        return
    table = Table(title=escape(title), show_lines=True, expand=False)
    table.add_column("unit", no_wrap=True)
    table.add_column("public points (unit's worth)" if public_only else "points", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("message", overflow="fold")
    worth = {}
    for case in result.assignment.cases:
        worth[case.unit] = worth.get(case.unit, 0.0) + case.points
    for row in result.units():
        style = STATUS_STYLE.get(row["status"], "")
        points = f"{_points(row['score'])}/{_points(row['max_score'])}"
        if public_only:
            points += f" ({_points(worth.get(row['unit'], row['max_score']))})"
        table.add_row(escape(row["unit"]), points, f"[{style}]{escape(row['status'])}[/]", _message(row))
    console.print(table)
    for notice in result.notices:
        console.print(f"[yellow]note: {escape(notice)}[/]", highlight=False)
    kind = "public points" if public_only else "score"
    console.print(f"[bold]{kind}: {_points(result.score)} / {_points(result.max_score)}[/]  "
                  f"({result.seconds:.1f} s)", highlight=False)


def same_error(result: SubmissionResult) -> str | None:
    """The one reason every case failed for (a file that is not a notebook, say), or None.

    Each case then carries ``<unit>: <reason>``; a report says it once, not once per unit.
    """
    reasons = {item.verdict.message.removeprefix(f"{item.case.unit}: ") for item in result.results
               if not item.verdict.passed}
    units = {item.case.unit for item in result.results}
    errors = all(not item.verdict.passed and item.verdict.status is Status.ERROR for item in result.results)
    if len(units) > 1 and len(reasons) == 1 and errors:  # wrong answers that read alike are still each shown
        return reasons.pop()
    return None


def _message(row: dict) -> Text:
    """The unit's first failing message, then how many more of its cases fail (never read as markup)."""
    more = row.get("more_failing", 0)
    tail = f"{more} more cases of this unit fail" if more > 1 else "1 more case of this unit fails"
    text = row["message"] + (f"\n({tail})" if more else "")
    return Text(text)


def print_summary(results: list[SubmissionResult], console: Console) -> None:
    """One row per submission, after several were graded."""
    table = Table(title="summary")
    for column in ("submission", "assignment", "score", "max"):
        table.add_column(column, justify="right" if column in ("score", "max") else "left")
    for result in results:
        table.add_row(escape(result.label), result.assignment.name if result.assignment else "-",
                      _points(result.score) if not result.error else "not graded", _points(result.max_score))
    console.print(table)


def gradescope(results: list[SubmissionResult]) -> dict:
    """Gradescope's results format for one submission (which may hold several notebooks).

    Only keys of Gradescope's specification: top level ``score``, ``execution_time``, ``output``,
    ``visibility``, ``stdout_visibility``, ``tests`` (no top-level ``max_score``: Gradescope takes the
    maximum from the assignment's settings and each test's ``max_score``).
    """
    tests, output, seconds = [], [], 0.0
    several = len(results) > 1
    for result in results:
        seconds += result.seconds
        prefix = f"{result.label}: " if several else ""
        if result.error:
            output.append(f"{result.label} was not graded: {result.error}")
            continue
        output += [f"{prefix}{notice}" for notice in result.notices]
        for item in result.results:
            tests.append({
                "name": f"{prefix}{item.case.id}",
                "score": item.score,
                "max_score": item.case.points,
                "status": "passed" if item.verdict.passed else "failed",
                "output": item.verdict.message,
                "visibility": "after_due_date" if item.case.hidden else "visible",
                "tags": [item.case.unit, "hidden" if item.case.hidden else "public"],
            })
    return {
        "score": sum(test["score"] for test in tests),
        "execution_time": round(seconds, 2),
        "output": "\n".join(output),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _points(value: float) -> str:
    return f"{value:g}"
