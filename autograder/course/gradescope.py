"""``dlcourse gradescope build``: a Gradescope autograder zip for one assignment, grading in dlcourse's sandbox.

The zip holds ``setup.sh`` (installs Python 3.11, bubblewrap and the pinned package, then computes
every reference into the cache), ``run_autograder`` (grades ``/autograder/submission`` into
``/autograder/results/results.json`` with ``dlcourse gradescope grade``), both rendered from
``templates/``, the package (``package_source``: a checkout's source, or an installed wheel repacked;
never ``solutions/``) and the course secret for hidden cases. Students never see the zip.

An upload is graded as exactly one notebook (``choice.choose``): the one named after the assignment,
else the only notebook. Several candidates, none, or a notebook whose metadata names another
assignment score 0 with a message saying so; nothing is ever summed.

Written answers (nbgrader markdown grade cells) are graded by hand in nbgrader, never here: their
points are counted in ``solutions/`` at build time and every result's output says so.
"""

from __future__ import annotations

import stat
import tempfile
import zipfile
from pathlib import Path

from dlcourse.autograder.course.choice import choose
from dlcourse.autograder.course.package_source import package_files
from dlcourse.autograder.course.render import render

SCRIPTS = ("setup.sh", "run_autograder")  # templates/<name>, the files Gradescope runs

def build(out: Path, secret: str, assignment: str, isolation: str = "auto") -> list[str]:
    """Write the autograder zip for ``assignment`` to ``out``; return the names it contains.

    ``isolation`` is the level ``run_autograder`` grades at (``auto``: bubblewrap where the container
    allows namespaces, else the fallback level); ``$DLCOURSE_ISOLATION`` at run time overrides it.
    """
    from dlcourse.autograder.cases import ASSIGNMENTS

    if assignment not in ASSIGNMENTS:
        raise ValueError(f"Expected an assignment among {', '.join(ASSIGNMENTS)}. Received {assignment!r}.")
    if isolation not in ("auto", "bwrap", "fallback"):
        raise ValueError(f"Expected isolation auto, bwrap or fallback. Received {isolation!r}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in scripts(assignment, isolation, written_answers(assignment)[1]).items():
            _add_text(archive, name, text, executable=True)
        _add_text(archive, "secret", secret + "\n")
        for name, data in package_files().items():
            archive.writestr(f"package/{name}", data)
        return archive.namelist()


def scripts(assignment: str, isolation: str, written_points: float = 0.0) -> dict[str, str]:
    """``setup.sh`` and ``run_autograder`` for ``assignment``, from ``templates/`` (checked by shellcheck in the tests)."""
    return {name: render(name, assignment=assignment, isolation=isolation, written_points=written_points)
            for name in SCRIPTS}


def written_answers(assignment: str) -> tuple[int, float]:
    """``(count, points)`` of the written answers in ``solutions/<assignment>.ipynb`` (markdown cells with
    nbgrader ``grade`` metadata): graded by hand in nbgrader, not on Gradescope. ``(0, 0.0)`` where the
    package runs without its checkout's ``solutions/`` (a wheel install)."""
    import nbformat

    import dlcourse

    path = Path(dlcourse.__file__).resolve().parent.parent / "solutions" / f"{assignment}.ipynb"
    if not path.is_file():
        return 0, 0.0
    cells = [cell for cell in nbformat.read(str(path), as_version=4).cells if cell.cell_type == "markdown"
             and cell.metadata.get("nbgrader", {}).get("grade")]
    return len(cells), float(sum(float(cell.metadata["nbgrader"].get("points", 0)) for cell in cells))


def written_note(points: float) -> str:
    return (f"Written answers ({points:g} points) are graded by hand in nbgrader, not by this autograder: "
            "they are not in this score.")


def _add_text(archive: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name)
    mode = 0o755 if executable else 0o600
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


# ----------------------------------------------------------------------------- on Gradescope

def grade_upload(submission: Path, assignment_name: str, grader, written_points: float = 0.0) -> tuple[dict, list]:
    """Gradescope's ``results.json`` for one upload, graded as exactly one notebook of ``assignment_name``.

    Args:
        submission: the upload's folder (``/autograder/submission``).
        assignment_name: the assignment this autograder grades.
        grader: an ``engine.grade.Grader`` with the course secret.
        written_points: points of the assignment's written answers, graded by hand elsewhere (0: none).

    Returns:
        ``(results, graded)``: the results dict, and the ``SubmissionResult`` list (empty when refused).
    """
    from dlcourse.autograder.cases import ASSIGNMENTS
    from dlcourse.autograder.course.discovery import notebooks_in
    from dlcourse.autograder.engine.extract import NotebookError, read_notebook
    from dlcourse.autograder.engine.report import gradescope

    assignment = ASSIGNMENTS[assignment_name]
    with tempfile.TemporaryDirectory(prefix="dlcourse-upload-") as scratch:
        skipped: list[str] = []
        try:
            notebooks = dict((label, path) for path, label in notebooks_in(submission, Path(scratch), skipped))
        except ValueError:
            notebooks = {}
        if not notebooks:
            found = sorted(p.name for p in submission.rglob("*") if p.is_file())[:10] if submission.is_dir() else []
            return _refusal(f"No .ipynb notebook in your upload (found: {', '.join(found) or 'nothing'}): "
                            f"upload your .ipynb notebook, {assignment_name}.ipynb."), []
        chosen, reason = choose(assignment_name, list(notebooks))
        if chosen is None:
            return _refusal(f"Not graded: {reason}."), []
        path = notebooks[chosen]
        try:
            tagged = read_notebook(path).metadata.get("dlcourse", {})
        except NotebookError:
            tagged = {}
        other = tagged.get("assignment") if isinstance(tagged, dict) else None
        if other in ASSIGNMENTS and other != assignment_name:
            return _refusal(f"{chosen} is the notebook of {other} (its metadata says so), and this autograder "
                            f"grades {assignment_name}: upload your {assignment_name}.ipynb."), []
        result = grader.grade(path, assignment)
        result.label = chosen
        results = gradescope([result])
    notes = [f"note: {note}" for note in skipped] + ([written_note(written_points)] if written_points else [])
    if notes:
        results["output"] = "\n".join([results["output"], *notes]).strip()
    return results, [result]


def _refusal(message: str) -> dict:
    return {"score": 0.0, "output": message, "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def warm(assignment_name: str, secret: str, cache) -> int:
    """Compute the reference of every case of the assignment into ``cache``; return how many were computed."""
    from dlcourse.autograder.cases import ASSIGNMENTS
    from dlcourse.autograder.engine.reference_cache import warm as warm_cases

    return warm_cases(ASSIGNMENTS[assignment_name].cases, secret, cache)
