"""A graded submission as a plain JSON record: what batch results files, CSVs and feedback are made of."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import numpy as np

from dlcourse.autograder.engine.grade import SubmissionResult
from dlcourse.autograder.engine.report import gradescope


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes: a submission is regraded only when this changes."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def to_record(result: SubmissionResult, student: str, digest: str, figures: bool = True,
              fingerprint: str | None = None, assignment_fingerprint: str | None = None) -> dict:
    """Everything about one graded notebook, as JSON-ready data (Gradescope's format inside).

    Args:
        fingerprint: the grader fingerprint it was graded under (``fingerprint.grader_fingerprint``).
        assignment_fingerprint: the same, narrowed to its assignment (``fingerprint.assignment_fingerprint``):
            a batch regrades a record whose assignment fingerprint differs from its own (the grader
            fingerprint where a record has none).
    """
    record = {
        "student": student,
        "submission": result.label,
        "sha256": digest,
        "fingerprint": fingerprint,
        "assignment_fingerprint": assignment_fingerprint,
        "status": "graded",
        "assignment": result.assignment.name if result.assignment else None,
        "error": result.error,
        "score": result.score,
        "max_score": result.max_score,
        "units": [{key: row[key] for key in ("unit", "score", "max_score", "status", "message")}
                  for row in result.units()],
        "results": gradescope([result]),
        "figures": {},
    }
    if figures:
        for item in result.results:
            if item.verdict.detail is not None and item.case.unit not in record["figures"]:
                record["figures"][item.case.unit] = heatmap_png(*item.verdict.detail, title=item.case.id)
    return record


def not_graded_record(student: str, label: str, digest: str | None, reason: str,
                      assignment: str | None = None) -> dict:
    """A notebook the grader could not grade (unreadable, worker or cluster failure): never a final zero.

    It is shown as "not graded: <reason>" and regraded by the next run of the batch.
    """
    return {"student": student, "submission": label, "sha256": digest, "fingerprint": None, "status": "not graded",
            "assignment": assignment, "error": f"not graded: {reason}", "reason": reason, "score": 0.0,
            "max_score": 0.0, "units": [], "figures": {},
            "results": {"score": 0.0, "output": f"not graded: {reason}", "tests": []}}


def heatmap_png(quantity: str, expected: np.ndarray, received: np.ndarray, title: str) -> str:
    """A base64 PNG of where ``received`` differs from ``expected`` (arrays of 3+ dimensions are flattened to 2)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def as_2d(array):
        array = np.asarray(array, dtype=np.float64)
        return array.reshape(1, -1) if array.ndim < 2 else array.reshape(array.shape[0], -1)

    want, got = as_2d(expected), as_2d(received)
    error = np.abs(got - want)
    error[~np.isfinite(error)] = np.nan
    figure, axes = plt.subplots(1, 3, figsize=(10, 2.8), constrained_layout=True)
    for axis, data, name in zip(axes, (want, got, error), ("expected", "received", "|received - expected|")):
        shown = axis.imshow(data, cmap="magma" if name.startswith("|") else "viridis", aspect="auto",
                            interpolation="nearest")
        axis.set_title(f"{quantity}: {name}", fontsize=9)
        if data.shape[0] == 1:
            axis.set_yticks([])
        figure.colorbar(shown, ax=axis, shrink=0.8)
    figure.suptitle(title, fontsize=9)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
