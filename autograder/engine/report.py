"""Reports: a table per submission on the terminal, and Gradescope's ``results.json``."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from autograder.engine.grade import SubmissionResult

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "red",
                "not implemented": "yellow", "missing": "yellow"}


def print_result(result: SubmissionResult, console: Console) -> None:
    """One row per unit: points, status, and what went wrong first."""
    if result.error:
        console.print(f"[bold red]{result.label}: not graded: {result.error}[/]")
        return
    title = f"{result.label} ({result.assignment.name}: {result.assignment.title})"
    table = Table(title=title, show_lines=True, expand=False)
    table.add_column("unit", no_wrap=True)
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("message", overflow="fold")
    for row in result.units():
        style = STATUS_STYLE.get(row["status"], "")
        table.add_row(row["unit"], f"{_points(row['score'])}/{_points(row['max_score'])}",
                      f"[{style}]{row['status']}[/]", row["message"], )
    console.print(table)
    for notice in result.notices:
        console.print(f"[yellow]note: {notice}[/]", highlight=False)
    console.print(f"[bold]score: {_points(result.score)} / {_points(result.max_score)}[/]  "
                  f"({result.seconds:.1f} s)", highlight=False)


def print_summary(results: list[SubmissionResult], console: Console) -> None:
    """One row per submission, after several were graded."""
    table = Table(title="summary")
    for column in ("submission", "assignment", "score", "max"):
        table.add_column(column, justify="right" if column in ("score", "max") else "left")
    for result in results:
        table.add_row(result.label, result.assignment.name if result.assignment else "-",
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
