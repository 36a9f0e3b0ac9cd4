"""``autograded/<student>/<assignment>/``, written by nbgrader's own ``Autograde`` converter, scored by dlcourse.

nbgrader's ``Autograde`` does two passes over each submitted notebook: *sanitize* (clear outputs,
deduplicate ids, restore the kernelspec, overwrite locked cells from the database, validate) and
*autograde* (execute, save grades, assign late penalties, validate). ``DlcourseAutograde`` keeps
the converter and the first pass as they are, with everything around them: the student and the
submission (with its ``timestamp.txt``) are recorded, files such as ``timestamp.txt`` and
``submission_secret.txt`` are copied beside the notebook, unknown notebooks are skipped and
missing ones score 0. Only the second pass changes; nothing is executed, because the scores come
from dlcourse's sandboxed grading (the records of ``dlcourse.autograder.course.batch``):

    InsertResults        each ``check_<unit>`` cell's output becomes dlcourse's message for the unit
    SaveDlcourseGrades   auto scores from the records; written answers stay for the formgrader
    AssignLatePenalties  nbgrader's, with the course's configured ``LateSubmissionPlugin``
    CheckCellMetadata    nbgrader's final validation

Order matters: late penalties are computed from the notebook's score, so after the grades.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, NbGraderPreprocessor, SaveAutoGrades
from traitlets import List

from dlcourse.autograder.course.nbgrader_config import course_on_path
from dlcourse.autograder.course.records import Record

CHECK_PREFIX = "check_"


def unit_of(grade_id: str) -> str | None:
    """``check_dense_forward`` -> ``dense_forward``: the dlcourse unit a grade cell stands for."""
    return grade_id[len(CHECK_PREFIX):] if grade_id.startswith(CHECK_PREFIX) else None


def unit_outputs(unit: dict, figure: str | None) -> list:
    """The outputs a check cell shows for one unit: a line when it passed, an error with the message when not.

    Args:
        unit: a record's unit row: ``unit``, ``score``, ``max_score``, ``status``, ``message``.
        figure: a base64 PNG of where the unit's arrays differ, or None.
    """
    head = f"{unit['unit']}: {unit['score']:g} / {unit['max_score']:g} points"
    if unit["status"] == "passed":
        outputs = [nbformat.v4.new_output("stream", name="stdout",
                                          text=f"{head}, every case passed (graded by dlcourse)\n")]
    else:
        lines = [f"{head} ({unit['status']})", *(unit["message"] or "").splitlines()]
        outputs = [nbformat.v4.new_output("error", ename=f"dlcourse: {unit['status']}",
                                          evalue=unit["message"] or unit["status"], traceback=lines)]
    if figure:
        outputs.append(nbformat.v4.new_output("display_data", data={"image/png": figure,
                                                                    "text/plain": f"<where {unit['unit']} differs>"}))
    return outputs


def note(preprocessor, text: str) -> None:
    """Add a line to the summary of the converter that runs ``preprocessor`` (nbconvert deep-copies resources,
    so notes travel through the ``parent`` chain: preprocessor -> exporter -> converter)."""
    owner = preprocessor
    while owner is not None and not isinstance(owner, DlcourseAutograde):
        owner = owner.parent
    if owner is not None and text not in owner.notes:
        owner.notes.append(text)


def error_outputs(reason: str) -> list:
    return [nbformat.v4.new_output("error", ename="dlcourse: not graded", evalue=reason,
                                   traceback=[f"not graded: {reason}"])]


class ForgetUnknownCells(NbGraderPreprocessor):
    """Cells whose grade_id the gradebook does not know become ordinary cells (before the sanitize pass).

    nbgrader's ``OverwriteCells`` drops an unknown grade_id but keeps the cell's other nbgrader
    metadata, which then fails validation and stops ``nbgrader autograde`` for that student. Here
    the cell is kept as the student wrote it, as a plain cell, and the original cell is restored
    by ``OverwriteCells.add_missing_cells``.
    """

    def preprocess(self, nb, resources):
        with Gradebook(resources["nbgrader"]["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(resources["nbgrader"]["notebook"], resources["nbgrader"]["assignment"])
            self.known = {cell.name for cell in notebook.source_cells}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and grade_id not in self.known:
            del cell.metadata["nbgrader"]
            note(self, f"cell {grade_id!r} is not in the gradebook: kept as an ordinary cell")
        return cell, resources


class InsertResults(NbGraderPreprocessor):
    """Replaces each ``check_<unit>`` cell's outputs with dlcourse's result for that unit."""

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        unit = unit_of(grade_id)
        if cell.cell_type != "code" or not utils.is_grade(cell) or unit is None:
            return cell, resources
        record = resources["dlcourse"]["record"]
        units = {row["unit"]: row for row in record.units}
        if unit in units:
            cell.outputs = unit_outputs(units[unit], record.figures.get(unit))
        elif record.error:
            cell.outputs = error_outputs(record.error)
        else:
            cell.outputs = error_outputs(f"dlcourse has no unit {unit!r} in {record.assignment}")
        cell.execution_count = None
        return cell, resources


class SaveDlcourseGrades(SaveAutoGrades):
    """nbgrader's ``SaveAutoGrades`` with dlcourse's scores for the ``check_<unit>`` cells.

    - a ``check_<unit>`` cell gets the unit's score and no manual-grade flag; a manual override
      already entered stays, and is flagged for review only when the auto score it overrode changed;
    - a written answer (``solution`` and ``grade``) is scored as nbgrader does: 0 when unchanged from
      the release, else left for the formgrader; a manual score already entered for an unchanged
      notebook keeps its flag;
    - any other grade cell (a test of the course's own, ``check_<name>`` with no dlcourse unit
      included) is left for the formgrader;
    - a unit whose cell the notebook no longer has is still scored in the database.
    """

    def preprocess(self, nb, resources):
        self.scored: set[str] = set()
        nb, resources = super().preprocess(nb, resources)
        record = resources["dlcourse"]["record"]
        self.gradebook = Gradebook(self.db_url)
        with self.gradebook:
            notebook = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
            for cell in notebook.grade_cells:
                if cell.name not in self.scored and unit_of(cell.name) is not None and cell.cell_type == "code":
                    grade = self.gradebook.find_grade(cell.name, self.notebook_id, self.assignment_id,
                                                      self.student_id)
                    self._set_unit_score(grade, cell.name, record)
            self.gradebook.db.commit()
        return nb, resources

    def _add_score(self, cell, resources):
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        grade = self.gradebook.find_grade(grade_id, self.notebook_id, self.assignment_id, self.student_id)
        if cell.cell_type == "code" and not utils.is_solution(cell) and unit_of(grade_id) is not None:
            self._set_unit_score(grade, grade_id, resources["dlcourse"]["record"])
        elif utils.is_solution(cell):
            kept = grade.needs_manual_grade
            super()._add_score(cell, resources)
            if grade.manual_score is not None and resources["dlcourse"]["unchanged"]:
                grade.needs_manual_grade = kept
        else:
            grade.auto_score = None
            grade.needs_manual_grade = True
            note(self, f"grade cell {grade_id} is not a dlcourse check: left for manual grading")
        self.gradebook.db.commit()

    def _set_unit_score(self, grade, grade_id: str, record: Record) -> None:
        units = {row["unit"]: row for row in record.units}
        unit = units.get(unit_of(grade_id))
        self.scored.add(grade_id)
        if unit is None and not record.error:  # a check of the course's own that dlcourse does not grade
            grade.auto_score, grade.needs_manual_grade = None, True
            note(self, f"grade cell {grade_id} is not a dlcourse unit: left for manual grading")
            return
        score = float(unit["score"]) if unit else 0.0  # no unit because the notebook could not be graded: 0
        previous = grade.auto_score
        grade.auto_score = score
        grade.needs_manual_grade = grade.manual_score is not None and previous is not None and previous != score


class DlcourseAutograde(Autograde):
    """nbgrader's ``Autograde`` converter whose autograde pass takes its scores from dlcourse's records.

    Args:
        records: ``{notebook_id: record}`` for the student being converted (a batch record each).
        unchanged: whether the submission is byte-identical to the one graded last time.
        notes: a list that collects lines for the summary.
    """

    autograde_preprocessors = List([
        InsertResults,
        SaveDlcourseGrades,
        AssignLatePenalties,  # after the grades: the penalty is computed from the notebook's score
        CheckCellMetadata,
    ])

    def __init__(self, records: dict, unchanged: bool, notes: list, **kwargs):
        super().__init__(**kwargs)
        self.records, self.unchanged, self.notes = records, unchanged, notes

    def init_single_notebook_resources(self, notebook_filename: str) -> dict:
        resources = super().init_single_notebook_resources(notebook_filename)
        notebook_id = resources["nbgrader"]["notebook"]
        record = self.records.get(notebook_id) or Record(self.coursedir.student_id, f"{notebook_id}.ipynb",
                                                         error=f"no dlcourse result for {notebook_id}.ipynb")
        resources["dlcourse"] = {"record": record, "unchanged": self.unchanged}
        return resources

    def _init_preprocessors(self) -> None:
        self.exporter._preprocessors = []
        steps = [ForgetUnknownCells, *self.sanitize_preprocessors] if self._sanitizing else self.autograde_preprocessors
        for preprocessor in steps:
            self.exporter.register_preprocessor(preprocessor)


def autograde_student(course, assignment: str, student: str, records: dict, unchanged: bool) -> list[str]:
    """Write ``autograded/<student>/<assignment>/`` and the student's grades; return notes for the summary.

    Args:
        course: a loaded ``Course`` (see ``nbgrader_config.load_course``).
        records: ``{notebook_id: batch record}`` of this student's notebooks.
        unchanged: the notebooks are those graded last time (manual-grade flags of answers are kept).

    Raises:
        nbgrader.converters.NbGraderException: nbgrader refused the submission (its log says why).
    """
    coursedir = course.coursedir
    coursedir.student_id, coursedir.assignment_id = student, assignment
    notes: list[str] = []
    converter = DlcourseAutograde(coursedir=coursedir, parent=course.app, records=records, unchanged=unchanged,
                                  notes=notes)
    converter.force = True
    if "add_missing_cells" not in course.app.config.get("OverwriteCells", {}):
        from traitlets.config import Config

        restore = Config()
        restore.OverwriteCells.add_missing_cells = True  # a deleted check cell comes back with its message
        converter.update_config(restore)
    previous = os.getcwd()
    kept = _set_aside(course.autograded_folder(student, assignment))
    try:
        with course_on_path(course.root):
            converter.start()
    except BaseException:
        _put_back(kept, course.autograded_folder(student, assignment))  # the database still points to it
        raise
    finally:
        os.chdir(previous)
        coursedir.student_id = "*"
    if kept is not None:
        shutil.rmtree(kept.parent, ignore_errors=True)
    return notes


def _set_aside(folder: Path) -> Path | None:
    """A copy of the student's last ``autograded/`` folder, which nbgrader removes when autograding fails."""
    if not folder.is_dir():
        return None
    copy = Path(tempfile.mkdtemp(prefix="dlcourse-autograded-")) / "kept"
    shutil.copytree(folder, copy, symlinks=True)
    return copy


def _put_back(kept: Path | None, folder: Path) -> None:
    if kept is None:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(kept), str(folder))
    shutil.rmtree(kept.parent, ignore_errors=True)
