"""A graded submission as a record (``Record``): what batch results files, CSVs and feedback are made of.

A record is written as one JSON object per notebook (``results/<student>/<notebook>.json``); its key order
depends on its status, as it always has, so the files read the same byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the grading engine is imported only by what grades (export and feedback read records)
    from dlcourse.autograder.engine.grade import SubmissionResult


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes: a submission is regraded only when this changes."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


class RecordStatus(StrEnum):
    """A record's ``"status"``: a grade, or an infrastructure failure that the next run regrades."""

    GRADED = "graded"
    NOT_GRADED = "not graded"


_GRADED_KEYS = ("student", "submission", "sha256", "fingerprint", "assignment_fingerprint", "status", "assignment",
                "error", "score", "max_score", "units", "results", "figures")
_NOT_GRADED_KEYS = ("student", "submission", "sha256", "fingerprint", "status", "assignment", "error", "reason",
                    "score", "max_score", "units", "figures", "results")


@dataclass(frozen=True)
class Record:
    """One notebook of one student, graded or not.

    Attributes:
        submission: the notebook's path inside the student's folder (``bundle.zip/x.ipynb`` inside a zip).
        sha256: of the notebook's bytes (None when they could not be read).
        fingerprint: the grader fingerprint it was graded under (``fingerprint.grader_fingerprint``).
        assignment_fingerprint: the same, narrowed to its assignment (``fingerprint.assignment_fingerprint``).
        error: why the notebook scored nothing as a whole ("not graded: <reason>" when not graded).
        units: a row per unit: ``unit``, ``score``, ``max_score``, ``status``, ``message``.
        results: Gradescope's ``results.json`` format.
        figures: ``{unit: base64 PNG}`` of where a wrong array differs.
        reason: why it was not graded (not-graded records only).
    """

    student: str
    submission: str
    sha256: str | None = None
    status: RecordStatus = RecordStatus.GRADED
    assignment: str | None = None
    error: str | None = None
    score: float = 0.0
    max_score: float = 0.0
    units: list[dict] = field(default_factory=list)
    results: dict = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)
    fingerprint: str | None = None
    assignment_fingerprint: str | None = None
    reason: str | None = None

    @property
    def graded(self) -> bool:
        return self.status is RecordStatus.GRADED

    def as_dict(self) -> dict:
        """The JSON object of the record, keys in the order its status has always had."""
        keys = _GRADED_KEYS if self.graded else _NOT_GRADED_KEYS
        data = {key: getattr(self, key) for key in keys}
        data["status"] = self.status.value
        return data

    def to_json(self) -> str:
        """The record's file contents."""
        return json.dumps(self.as_dict())

    @classmethod
    def from_dict(cls, data: dict) -> Record:
        """A record from its JSON object; keys that older records lack take their defaults.

        Raises:
            TypeError: not an object; KeyError: no student or submission; ValueError: an unknown status.
        """
        if not isinstance(data, dict):
            raise TypeError(f"Expected a JSON object. Received {type(data).__name__}.")
        results = data.get("results") or {}
        return cls(student=data["student"], submission=data["submission"], sha256=data.get("sha256"),
                   status=RecordStatus(data.get("status", RecordStatus.GRADED)), assignment=data.get("assignment"),
                   error=data.get("error"), score=data.get("score", results.get("score", 0.0)),
                   max_score=data.get("max_score", results.get("max_score", 0.0)), units=data.get("units") or [],
                   results=results, figures=data.get("figures") or {}, fingerprint=data.get("fingerprint"),
                   assignment_fingerprint=data.get("assignment_fingerprint"), reason=data.get("reason"))

    @classmethod
    def from_json(cls, text: str) -> Record:
        """A record from its file contents.

        Raises:
            ValueError: not JSON, or an unknown status; TypeError, KeyError: not a record (see ``from_dict``).
        """
        return cls.from_dict(json.loads(text))


def to_record(result: SubmissionResult, student: str, digest: str, figures: bool = True,
              fingerprint: str | None = None, assignment_fingerprint: str | None = None) -> Record:
    """Everything about one graded notebook, as JSON-ready data (Gradescope's format inside).

    Args:
        fingerprint: the grader fingerprint it was graded under (``fingerprint.grader_fingerprint``).
        assignment_fingerprint: the same, narrowed to its assignment (``fingerprint.assignment_fingerprint``):
            a batch regrades a record whose assignment fingerprint differs from its own (the grader
            fingerprint where a record has none).
    """
    from dlcourse.autograder.engine.report import gradescope

    pictures: dict[str, str] = {}
    if figures:
        for item in result.results:
            if item.verdict.detail is not None and item.case.unit not in pictures:
                pictures[item.case.unit] = heatmap_png(*item.verdict.detail, title=item.case.id)
    return Record(student=student, submission=result.label, sha256=digest, fingerprint=fingerprint,
                  assignment_fingerprint=assignment_fingerprint, status=RecordStatus.GRADED,
                  assignment=result.assignment.name if result.assignment else None, error=result.error,
                  score=result.score, max_score=result.max_score,
                  units=[{key: row[key] for key in ("unit", "score", "max_score", "status", "message")}
                         for row in result.units()],
                  results=gradescope([result]), figures=pictures)


def not_graded_record(student: str, label: str, digest: str | None, reason: str,
                      assignment: str | None = None) -> Record:
    """A notebook the grader could not grade (unreadable, worker or cluster failure): never a final zero.

    It is shown as "not graded: <reason>" and regraded by the next run of the batch.
    """
    return Record(student=student, submission=label, sha256=digest, status=RecordStatus.NOT_GRADED,
                  assignment=assignment, error=f"not graded: {reason}", reason=reason,
                  results={"score": 0.0, "output": f"not graded: {reason}", "tests": []})


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
