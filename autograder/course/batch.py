"""``dlcourse grade-batch``: grade hundreds of submissions, resumably, on local processes or a Dask cluster.

Layout of ``SUBMISSIONS``: one folder per student (``SUBMISSIONS/<student>/**/*.ipynb``, which also
matches nbgrader's ``submitted/<student>/<assignment>/``), or notebooks directly inside it (the
student is then the file's stem). Output in ``DIR``::

    results/<student>/<notebook path>.json   one record per notebook (Gradescope results inside)
    gradebook.csv                            one row per student, a column per assignment and unit
    feedback/<student>.html                  per-student feedback, with pictures of wrong arrays

Resuming: a record is written atomically when its notebook is graded, and carries the notebook's
sha256; a rerun skips notebooks whose record matches and regrades the rest. The CSV and the
feedback are rebuilt from the records at the end, never appended to, so an interrupted batch that
is run again ends exactly where an uninterrupted one would: nothing lost, nothing counted twice.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from autograder.course.feedback import feedback_html
from autograder.course.records import file_digest, to_record


@dataclass(frozen=True)
class Submission:
    path: Path
    student: str
    label: str  # the notebook's path inside the student's folder

    @property
    def record_name(self) -> str:
        return f"{self.student}/{self.label}.json"


def discover(root: Path) -> list[Submission]:
    """Every notebook under ``root``, with its student (checkpoints skipped)."""
    found = []
    for path in sorted(root.rglob("*.ipynb")):
        relative = path.relative_to(root)
        if ".ipynb_checkpoints" in relative.parts or any(part.startswith(".") for part in relative.parts):
            continue
        if len(relative.parts) == 1:
            found.append(Submission(path, path.stem, path.name))
        else:
            found.append(Submission(path, relative.parts[0], str(Path(*relative.parts[1:]))))
    return found


# ----------------------------------------------------------------------------- one task

_GRADER = None


def grade_one(path: str, student: str, label: str, digest: str, secret: str, cache: str | None,
              figures: bool = True, isolation: str | None = None) -> dict:
    """Grade one notebook and return its record. Runs in a worker process (local or Dask); never raises."""
    global _GRADER
    from autograder.engine.grade import Grader
    from autograder.engine.references import ReferenceCache

    try:
        if _GRADER is None or _GRADER.secret != secret:
            _GRADER = Grader(secret=secret, cache=ReferenceCache(Path(cache) if cache else None), isolation=isolation)
        result = _GRADER.grade(Path(path))
        result.label = label
        return to_record(result, student, digest, figures)
    except Exception as error:  # noqa: BLE001 - a broken submission or grader bug must not stop the batch
        return {"student": student, "submission": label, "sha256": digest, "assignment": None,
                "error": f"grading failed: {type(error).__name__}: {error}", "units": [], "figures": {},
                "results": {"score": 0, "max_score": 0, "tests": [], "output": ""}}


# ----------------------------------------------------------------------------- the batch

@dataclass
class BatchReport:
    graded: int
    skipped: int
    records: list[dict]
    out: Path


def grade_batch(root: Path, out: Path, secret: str, workers: int = 1, scheduler: str | None = None,
                cache: Path | None = None, figures: bool = True, isolation: str | None = None,
                only_assignment: str | None = None, progress=None) -> BatchReport:
    """Grade every notebook under ``root`` that has no up-to-date record in ``out``; rebuild the outputs.

    Args:
        workers: local worker processes (ignored with ``scheduler``).
        scheduler: address of a Dask scheduler ("tcp://host:8786"); each submission becomes a task.
        cache: the reference cache folder shared by the workers (default ``out/references``).
        only_assignment: grade only notebooks whose path contains this assignment name.
        progress: a callable ``advance(n, description)``, e.g. a rich progress bar's.
    """
    if workers < 1:
        raise ValueError(f"Expected workers >= 1. Received workers={workers}.")
    submissions = discover(root)
    if only_assignment:
        submissions = [s for s in submissions if only_assignment in str(s.path.relative_to(root))]
    if not submissions:
        raise ValueError(f"Expected notebooks under {root}. Received none.")
    results_dir = out / "results"
    cache = cache or out / "references"
    advance = progress or (lambda n, description: None)
    todo, skipped = [], 0
    for submission in submissions:
        digest = file_digest(submission.path)
        if _record_is_current(results_dir / submission.record_name, digest):
            skipped += 1
            advance(1, f"up to date: {submission.student}")
        else:
            todo.append((submission, digest))
    arguments = [(str(s.path), s.student, s.label, digest, secret, str(cache), figures, isolation) for s, digest in todo]
    for record in _run(arguments, workers, scheduler):
        _write_atomically(results_dir / f"{record['student']}/{record['submission']}.json", json.dumps(record))
        advance(1, f"graded: {record['student']}")
    records = [json.loads((results_dir / s.record_name).read_text()) for s in submissions]
    write_outputs(records, out)
    return BatchReport(graded=len(todo), skipped=skipped, records=records, out=out)


def _run(arguments: list[tuple], workers: int, scheduler: str | None):
    """Yield records as tasks finish, from a Dask cluster, a local process pool, or this process."""
    if not arguments:
        return
    if scheduler:
        from distributed import Client, as_completed as dask_completed

        with Client(scheduler) as client:
            futures = [client.submit(grade_one, *args, pure=False) for args in arguments]
            for future in dask_completed(futures):
                yield future.result()
        return
    if workers == 1:
        for args in arguments:
            yield grade_one(*args)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        for future in as_completed([pool.submit(grade_one, *args) for args in arguments]):
            yield future.result()


def _record_is_current(path: Path, digest: str) -> bool:
    try:
        return json.loads(path.read_text()).get("sha256") == digest
    except (OSError, ValueError):
        return False


# ----------------------------------------------------------------------------- outputs

def write_outputs(records: list[dict], out: Path) -> None:
    """``gradebook.csv`` and ``feedback/<student>.html``, rebuilt from the records."""
    _write_atomically(out / "gradebook.csv", gradebook_csv(records))
    by_student: dict[str, list[dict]] = {}
    for record in records:
        by_student.setdefault(record["student"], []).append(record)
    for student, own in by_student.items():
        _write_atomically(out / "feedback" / f"{student}.html", feedback_html(student, own))


def gradebook_csv(records: list[dict]) -> str:
    """One row per student; per assignment its total and a column per unit. Best notebook per assignment."""
    best: dict[tuple[str, str], dict] = {}
    units: dict[str, list[str]] = {}
    students = sorted({record["student"] for record in records})
    for record in records:
        assignment = record.get("assignment")
        if not assignment:
            continue
        key = (record["student"], assignment)
        if key not in best or record["results"]["score"] > best[key]["results"]["score"]:
            best[key] = record
        for row in record["units"]:
            if row["unit"] not in units.setdefault(assignment, []):
                units[assignment].append(row["unit"])
    header = ["student", "total"]
    for assignment in sorted(units):
        header += [assignment] + [f"{assignment}:{unit}" for unit in units[assignment]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for student in students:
        row, total = [student], 0.0
        for assignment in sorted(units):
            record = best.get((student, assignment))
            scores = {unit["unit"]: unit["score"] for unit in record["units"]} if record else {}
            subtotal = record["results"]["score"] if record else 0.0
            total += subtotal
            row += [f"{subtotal:g}"] + [f"{scores.get(unit, 0.0):g}" for unit in units[assignment]]
        writer.writerow([row[0], f"{total:g}", *row[1:]])
    return buffer.getvalue()


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
