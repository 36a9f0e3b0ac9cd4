"""Per-student HTML feedback: a table per notebook, messages, and pictures of where arrays differ.

The page is ``templates/feedback.html``, autoescaped: messages quote students' output.
"""

from __future__ import annotations

from dlcourse.autograder.course.render import render


def feedback_html(student: str, records: list[dict]) -> str:
    """One page for one student, covering all their graded notebooks (batch records, as ``records.py`` writes)."""
    ordered = sorted(records, key=lambda r: (r.get("assignment") or "", r["submission"]))
    return render("feedback.html", student=student, notebooks=[_notebook(record) for record in ordered])


def _notebook(record: dict) -> dict:
    """What the template shows of one record."""
    title = f"{record['submission']} ({record.get('assignment') or 'unrecognised'})"
    if record.get("error"):
        text = record["error"] if record["error"].startswith("not graded") else f"not graded: {record['error']}"
        return {"title": title, "error": text[0].upper() + text[1:]}
    results = record["results"]
    figures = record.get("figures", {})
    return {
        "title": title, "error": None,
        "score": record.get("score", results["score"]),
        "max_score": record.get("max_score", results.get("max_score", 0)),
        "units": [{**unit, "figure": figures.get(unit["unit"])} for unit in record["units"]],
        "notes": [line for line in results.get("output", "").splitlines() if line],
    }
