"""Per-student HTML feedback: a table per notebook, messages, and pictures of where arrays differ."""

from __future__ import annotations

import html

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: .3em .6em; vertical-align: top; }
th { background: #f4f4f4; } .passed { color: #17702b; } .failed, .error, .timeout { color: #b00020; }
.missing, .notimplemented { color: #8a6100; } pre { white-space: pre-wrap; margin: 0; font-size: .9em; }
.total { font-size: 1.2em; font-weight: bold; } img { max-width: 100%; }
"""


def feedback_html(student: str, records: list[dict]) -> str:
    """One page for one student, covering all their graded notebooks."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Feedback: {html.escape(student)}</title>"
             f"<style>{STYLE}</style></head><body><h1>Feedback for {html.escape(student)}</h1>"]
    for record in sorted(records, key=lambda r: (r.get("assignment") or "", r["submission"])):
        parts.append(_notebook_section(record))
    parts.append("</body></html>")
    return "\n".join(parts)


def _notebook_section(record: dict) -> str:
    title = html.escape(f"{record['submission']} ({record.get('assignment') or 'unrecognised'})")
    if record.get("error"):
        text = record["error"] if record["error"].startswith("not graded") else f"not graded: {record['error']}"
        return f"<h2>{title}</h2><p class='error'>{html.escape(text[0].upper() + text[1:])}</p>"
    results = record["results"]
    rows = []
    for unit in record["units"]:
        status = unit["status"]
        message = f"<pre>{html.escape(unit['message'])}</pre>" if unit["message"] else ""
        figure = record.get("figures", {}).get(unit["unit"])
        if figure:
            message += f"<img alt='where {html.escape(unit['unit'])} differs' src='data:image/png;base64,{figure}'>"
        rows.append(f"<tr><td><code>{html.escape(unit['unit'])}</code></td><td>{unit['score']:g} / "
                    f"{unit['max_score']:g}</td><td class='{status.replace(' ', '')}'>{html.escape(status)}</td>"
                    f"<td>{message}</td></tr>")
    notes = "".join(f"<li>{html.escape(line)}</li>" for line in results.get("output", "").splitlines() if line)
    return (f"<h2>{title}</h2><p class='total'>{record.get('score', results['score']):g} / "
            f"{record.get('max_score', results.get('max_score', 0)):g} points</p>"
            "<table><tr><th>unit</th><th>points</th><th>status</th><th>message</th></tr>"
            + "".join(rows) + "</table>" + (f"<ul>{notes}</ul>" if notes else ""))
