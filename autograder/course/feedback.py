"""Per-student HTML feedback: a table per notebook, messages, and pictures of where arrays differ.

The page is ``templates/feedback.html``, autoescaped: messages quote students' output.
"""

from __future__ import annotations

from dlcourse.autograder.course.records import Record
from dlcourse.autograder.course.render import render


def feedback_html(student: str, records: list[Record]) -> str:
    """One page for one student, covering all their graded notebooks (batch records, ``records.Record``)."""
    ordered = sorted(records, key=lambda r: (r.assignment or "", r.submission))
    return render("feedback.html", student=student, notebooks=[_notebook(record) for record in ordered])


def _notebook(record: Record) -> dict:
    """What the template shows of one record."""
    title = f"{record.submission} ({record.assignment or 'unrecognised'})"
    if record.error:
        text = record.error if record.error.startswith("not graded") else f"not graded: {record.error}"
        return {"title": title, "error": text[0].upper() + text[1:]}
    return {
        "title": title, "error": None,
        "score": record.score,
        "max_score": record.max_score,
        "units": [{**unit, "figure": record.figures.get(unit["unit"])} for unit in record.units],
        "notes": [line for line in record.results.get("output", "").splitlines() if line],
    }
