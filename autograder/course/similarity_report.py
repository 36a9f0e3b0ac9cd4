"""What ``dlcourse similarity`` writes: ``pairs.csv`` (every pair that shares anything, ranked) and
``report.html`` (the flagged pairs' units side by side, the matched token runs highlighted).

The page is ``templates/similarity.html``: self-contained (inline CSS, no script, nothing fetched),
autoescaped, so a student's code is always shown as text, never markup.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from dlcourse.autograder.course.export import neutralise
from dlcourse.autograder.course.render import render
from dlcourse.autograder.course.similarity import UNIT_AT_LEAST, Comparison, Pair

MAX_SHOWN = 100  # flagged pairs shown in the page (all of them are in pairs.csv)


@dataclass(frozen=True)
class Written:
    """The files written, and how many pairs each holds."""

    csv: Path
    html: Path
    rows: int
    shown: int


def write_report(comparison: Comparison, out: Path, max_shown: int = MAX_SHOWN) -> Written:
    """Write ``out/pairs.csv`` and ``out/report.html``."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = out / "pairs.csv", out / "report.html"
    with open(csv_path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["student_a", "student_b", "score", *comparison.units])
        for pair in comparison.pairs:
            a, b = comparison.submissions[pair.a], comparison.submissions[pair.b]
            writer.writerow([neutralise(a.student), neutralise(b.student), f"{pair.score:.3f}",
                             *(_cell(pair.units.get(unit)) for unit in comparison.units)])
    flagged = comparison.flagged
    shown = [_shown_pair(comparison, pair) for pair in flagged[:max_shown]]
    html_path.write_text(render("similarity.html", assignment=comparison.assignment, threshold=comparison.threshold,
                                unit_threshold=comparison.unit_threshold, unit_at_least=UNIT_AT_LEAST,
                                students=comparison.current, past=len(comparison.submissions) - comparison.current,
                                flagged=len(flagged), pairs=shown, notes=comparison.notes), encoding="utf-8")
    return Written(csv_path, html_path, len(comparison.pairs), len(shown))


def _cell(score: float | None) -> str:
    return "" if score is None else f"{score:.3f}"


def _shown_pair(comparison: Comparison, pair: Pair) -> dict:
    """What the template shows of one pair: each unit they share, both sides as marked segments."""
    a, b = comparison.submissions[pair.a], comparison.submissions[pair.b]
    flagged = comparison.flagged_units(pair)
    units = []
    for unit in comparison.units:
        shared = comparison.shared(pair, unit)
        if not shared:
            continue
        units.append({"name": unit, "score": pair.units.get(unit), "flagged": unit in flagged,
                      "sides": [[_segments(part, shared) for part in side.prints[unit]] for side in (a, b)]})
    return {"a": a.student, "b": b.student, "a_label": a.label, "b_label": b.label, "score": pair.score,
            "units": units}


def _segments(part, shared: set[int]) -> list[tuple[str, bool]]:
    """The part's source as ``(text, matched)`` pieces, in order."""
    pieces, at = [], 0
    for start, end in part.spans(shared):
        if start > at:
            pieces.append((part.source[at:start], False))
        pieces.append((part.source[start:end], True))
        at = end
    if at < len(part.source):
        pieces.append((part.source[at:], False))
    return pieces
