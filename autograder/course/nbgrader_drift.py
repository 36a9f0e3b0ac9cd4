"""Whether nbgrader's own autograde replaced what ``dlcourse gradebook`` wrote for a student.

After writing a student's grades, ``dlcourse gradebook`` records what it wrote beside its state
(``state/<student>.json``, key ``written``): each grade cell's ``auto_score`` per notebook, and the
sha256 of each notebook in ``autograded/<student>/<assignment>/``. ``nbgrader autograde`` (or the
formgrader's per-student Autograde button, which runs it) executes the notebook in a kernel and
rewrites both; the next ``dlcourse gradebook`` compares the record with the gradebook and the
folder and regrades the student when they differ. Manual scores, extra credit and comments are not
compared: they are the instructor's, entered in the formgrader, and a regrade keeps them.
"""

from __future__ import annotations

from pathlib import Path

from dlcourse.autograder.course.records import file_digest

REPLACED = "nbgrader's autograde replaced dlcourse's scores (the formgrader's Autograde button?): regraded"


def written(course, assignment: str, student: str) -> dict:
    """What the gradebook and ``autograded/`` hold for ``student`` now: ``{"scores": ..., "autograded": ...}``.

    Returns:
        ``scores``: ``{notebook id: {grade cell: auto_score}}`` (None where a person grades it);
        ``autograded``: ``{file name: sha256}`` of the notebooks in the student's ``autograded/`` folder.
    """
    from nbgrader.api import MissingEntry

    scores: dict[str, dict] = {}
    with course.gradebook() as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            submission = None
        for notebook in submission.notebooks if submission is not None else []:
            scores[notebook.name] = {grade.name: grade.auto_score for grade in notebook.grades}
    folder = Path(course.autograded_folder(student, assignment))
    files = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    return {"scores": scores, "autograded": {path.name: file_digest(path) for path in files}}


def replaced(course, assignment: str, student: str, recorded: dict | None) -> bool:
    """Whether the gradebook's auto scores or the ``autograded/`` notebooks differ from ``recorded``
    (what ``written`` returned right after dlcourse wrote them); False when nothing was recorded."""
    return bool(recorded) and written(course, assignment, student) != recorded
