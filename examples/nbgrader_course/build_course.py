"""A small nbgrader course for 01_backprop, built with nbgrader's own tools, to grade with ``dlcourse gradebook``.

    python examples/nbgrader_course/build_course.py /tmp/dl101

makes ``/tmp/dl101/course`` (the instructor's folder, with ``nbgrader_config.py``) and
``/tmp/dl101/exchange``, then does what an instructor and students do:

    nbgrader generate_assignment 01_backprop     source/ -> release/ and the gradebook
    nbgrader release_assignment 01_backprop      release/ -> the exchange
    nbgrader db student import roster.csv        the roster
    (each student) fetch_assignment, work, submit
    nbgrader db assignment add --duedate ...     the due date (one student submitted after it)
    nbgrader collect 01_backprop                 the exchange -> submitted/

The source notebook is ``solutions/01_backprop.ipynb``, plus one written-answer cell (an nbgrader
markdown cell with ``solution`` and ``grade``, no test) when the solution has none. The students:
``ada`` hands in the solution's code, ``ben`` the notebook as released, ``cat`` the solution's
code and a written answer, ``dan`` the solution's code after the due date. The README's nbgrader
walkthrough continues from there with ``dlcourse gradebook``. The tests build their course with
these same functions (``tests/operations/test_nbgrader_gradebook.py``).
"""

from __future__ import annotations

import copy
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat

NAME = "01_backprop"
COURSE_ID = "dl101"
REPOSITORY = Path(__file__).resolve().parents[2]
SOLUTION = REPOSITORY / "solutions" / f"{NAME}.ipynb"
ANSWER_ID = "explain_vanishing"


def config_text(root: Path, exchange: Path, db: Path | None = None, extra: str = "") -> str:
    """The course's ``nbgrader_config.py``: paths, course id, exchange, and late submissions scored 0."""
    lines = ["c = get_config()",
             f"c.CourseDirectory.root = {str(root)!r}",
             f"c.CourseDirectory.course_id = {COURSE_ID!r}",
             f"c.Exchange.root = {str(exchange)!r}",
             "c.LateSubmissionPlugin.penalty_method = 'zero'"]
    if db is not None:
        lines.append(f"c.CourseDirectory.db_url = 'sqlite:///{db}'")
    return "\n".join(lines) + "\n" + extra


def is_written_answer(cell) -> bool:
    """An answer a person grades: an nbgrader ``solution`` + ``grade`` markdown cell."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "markdown" and bool(meta.get("solution")) and bool(meta.get("grade"))


def source_notebook(solution: Path = SOLUTION) -> nbformat.NotebookNode:
    """The solution notebook, with a written-answer cell before the last cell if it has none."""
    notebook = nbformat.read(str(solution), as_version=4)
    if any(is_written_answer(cell) for cell in notebook.cells):
        return notebook
    question = nbformat.v4.new_markdown_cell("**Written answer.** Why do deep sigmoid networks learn slowly "
                                             "in their first layers?")
    answer = nbformat.v4.new_markdown_cell("Each layer multiplies the gradient by sigmoid' <= 1/4, so it "
                                           "shrinks geometrically on its way back.")
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False, "points": 2,
                                   "grade_id": ANSWER_ID, "schema_version": 3, "task": False}
    notebook.cells[-1:-1] = [question, answer]
    return notebook


def nbgrader(folder: Path, *args: str) -> str:
    """Run ``nbgrader ARGS`` in ``folder`` (the venv's own nbgrader); return its log; raise if it fails."""
    executable = Path(sys.executable).parent / "nbgrader"
    environment = {**os.environ, "PATH": f"{executable.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    completed = subprocess.run([str(executable), *args], cwd=folder, env=environment, capture_output=True,
                               text=True, timeout=300)
    if completed.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout + completed.stderr


def create_course(base: Path, db: Path | None = None, extra_config: str = "") -> Path:
    """``base/course`` with its config and source notebook, generated and released; returns the course root."""
    root, exchange = base / "course", base / "exchange"
    (root / "source" / NAME).mkdir(parents=True)
    exchange.mkdir(parents=True, exist_ok=True)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(config_text(root, exchange, db, extra_config))
    nbformat.write(source_notebook(), str(root / "source" / NAME / f"{NAME}.ipynb"))
    nbgrader(root, "generate_assignment", NAME)
    nbgrader(root, "release_assignment", NAME)
    return root


def student_config(root: Path, home: Path):
    """The course's config as a student's machine sees it: the same exchange, their own nbgrader cache."""
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.Exchange.cache = str(home / ".nbgrader_cache")
    return config


def _exchange(action, root: Path, student: str, home: Path):
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    config = student_config(root, home)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = NAME, student
    step = action(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
    step.assignment_dir = str(home)
    step.start()


def fetch(root: Path, student: str, home: Path) -> Path:
    """``nbgrader fetch_assignment`` as ``student`` in ``home`` (nbgrader's exchange, in-process); the notebook."""
    from nbgrader.exchange.default import ExchangeFetchAssignment

    home.mkdir(parents=True, exist_ok=True)
    _exchange(ExchangeFetchAssignment, root, student, home)
    return home / NAME / f"{NAME}.ipynb"


def submit(root: Path, student: str, home: Path) -> None:
    """``nbgrader submit`` as ``student`` from ``home`` (nbgrader's exchange, in-process)."""
    from nbgrader.exchange.default import ExchangeSubmit

    _exchange(ExchangeSubmit, root, student, home)


def cells_by_id(notebook) -> dict:
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells
            if "grade_id" in cell.metadata.get("nbgrader", {})}


def with_code_from(released, source: Path):
    """The released notebook with every solution code cell taken from ``source`` (matched by grade_id)."""
    notebook = copy.deepcopy(released)
    donor = cells_by_id(nbformat.read(str(source), as_version=4))
    for grade_id, cell in cells_by_id(notebook).items():
        if cell.metadata["nbgrader"].get("solution") and cell.cell_type == "code" and grade_id in donor:
            cell.source = donor[grade_id].source
    return notebook


def set_due_date(root: Path, due: datetime.datetime) -> None:
    nbgrader(root, "db", "assignment", "add", NAME, f"--duedate={due.strftime('%Y-%m-%d %H:%M:%S.%f UTC')}")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[0] + "\nusage: build_course.py DIR (a folder that does not exist yet)")
        return 2
    base = Path(argv[0]).resolve()
    if base.exists():
        print(f"Expected a folder that does not exist yet. Received {base}")
        return 2
    root = create_course(base)
    (base / "roster.csv").write_text("id,first_name,last_name,email\nada,,,\nben,,,\ncat,,,\ndan,,,\n")
    nbgrader(root, "db", "student", "import", str(base / "roster.csv"))
    for student in ("ada", "ben", "cat", "dan"):
        if student == "dan":
            set_due_date(root, datetime.datetime.now(datetime.timezone.utc))
            time.sleep(1)
        home = base / "home" / student
        path = fetch(root, student, home)
        released = nbformat.read(str(path), as_version=4)
        work = released if student == "ben" else with_code_from(released, SOLUTION)
        if student == "cat":
            answer = next(cell for cell in work.cells if is_written_answer(cell))
            answer.source = "Each sigmoid layer scales the gradient by at most 1/4."
        nbformat.write(work, str(path))
        submit(root, student, home)
    nbgrader(root, "collect", NAME)
    print(f"course ready in {root}; next:\n  cd {root}\n  dlcourse gradebook {NAME}\n"
          "  jupyter lab  # Nbgrader > Formgrader: the scores, and the written answer to grade\n"
          f"  nbgrader generate_feedback {NAME} && nbgrader release_feedback {NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
