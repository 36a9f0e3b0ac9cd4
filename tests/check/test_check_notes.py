"""What ``check()`` says besides verdicts: its notes on globals grading will not have, and the cap on
what the student's code prints.

A note ("Grading does not run that statement") must come from grading's own decision: the kernel's
input history is judged as ``read_notebook`` judges a notebook, every cell knowing what the others
import. So no course notebook, solution or assignment, gets a note when a student runs it top to
bottom, while a statement grading really leaves out still does.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

from conftest import ASSIGNMENTS_DIR, SOLUTIONS
from dlcourse.autograder.engine.extract import read_notebook
from dlcourse.autograder.engine.sandboxed.worker import load
from dlcourse.autograder.live_check import MAX_PRINTED, CheckFailed, check

check_module = sys.modules["dlcourse.autograder.live_check"]
NOTEBOOKS = sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")) + sorted(ASSIGNMENTS_DIR.glob("[0-9][0-9]_*.ipynb"))
NOTE = "Grading does not run that statement"
CUT = re.compile(r"^\.\.\. \(([\d,]+) characters printed; the last ([\d,]+) not shown\)$", re.MULTILINE)


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    """No unit remembered as hung or failed from another test."""
    monkeypatch.setattr(check_module, "_HUNG", {})
    monkeypatch.setattr(check_module, "_FAILED", {})


def _kernel_after_running(path: Path) -> dict:
    """The globals of a kernel that ran ``path``'s code cells top to bottom: what grading keeps, run
    by the worker's own ``load``, and every name only the other statements set (what a training or
    plotting cell leaves behind), bound as well."""
    graded = read_notebook(path)
    namespace = load(graded.cells)["namespace"]
    for name in graded.skipped:
        namespace.setdefault(name, object())
    return namespace


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_no_course_notebook_run_top_to_bottom_gets_a_note(path, capsys):
    namespace = _kernel_after_running(path)
    sources = [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    checked = 0
    for index, source in enumerate(sources, start=1):
        namespace["In"] = ["", *sources[:index]]  # IPython's history when this cell runs
        for line in source.splitlines():
            if line.startswith("check("):
                try:
                    exec(line, namespace)  # the notebook's own check cell
                except CheckFailed:
                    assert path.parent == ASSIGNMENTS_DIR, capsys.readouterr().out  # units left to write
                checked += 1
    printed = capsys.readouterr().out
    assert checked >= 4
    assert NOTE not in printed, "\n".join(line for line in printed.splitlines() if NOTE in line)


STUDENT_CELLS = [
    "import os\nfrom concurrent.futures import ThreadPoolExecutor\n\nimport numpy as np\n\n"
    "from dlcourse.autograder import check",
    "rng_global = np.random.default_rng(0)\nCORES = os.cpu_count() or 1\nTHREADS = ThreadPoolExecutor(CORES)\n\n"
    "def build_scale():\n    return 1.0\n\nscale = build_scale()\nfor _ in range(1):\n    shift = 0.0",
    "def relu_forward(x):\n    assert rng_global is not None and list(THREADS.map(abs, [-CORES])) == [CORES]\n"
    "    return np.maximum(x, 0) * scale + shift, x",
    "check(relu_forward)",
]


def _notes(printed: str) -> dict:
    return {re.search(r"uses `(\w+)`", line).group(1): line for line in printed.splitlines() if NOTE in line}


def test_a_note_names_only_what_grading_leaves_out(capsys, tmp_path):
    namespace: dict = {}
    for index, source in enumerate(STUDENT_CELLS, start=1):
        namespace["In"] = ["", *STUDENT_CELLS[:index]]
        exec(compile(source, f"In[{index}]", "exec"), namespace)
    notes = _notes(capsys.readouterr().out)
    assert sorted(notes) == ["scale", "shift"], notes  # rng_global, CORES and THREADS are kept by grading
    assert "set only in In[2], line 8 `scale = build_scale()`: it calls build_scale, a function of the " \
           "notebook" in notes["scale"]
    assert "set only in In[2], line 9 `for _ in range(1):`: it is not an assignment" in notes["shift"]
    path = tmp_path / "student.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in STUDENT_CELLS]), path)
    graded = read_notebook(path)  # the same decision as grading's
    assert {"rng_global", "CORES", "THREADS"} <= set(graded.assigned) and sorted(graded.skipped) == ["_", "scale", "shift"]


CHATTY_RELU = """
PRINTED = []


def relu_forward(x):
    for i in range(x.shape[0]):
        for j in range(200):
            line = f"relu_forward: row {i}, print {j}"
            PRINTED.append(len(line) + 1)
            print(line)
    return np.maximum(x, 0), x
"""


def _cut(printed: str, total: int) -> str:
    """What was shown of the student's prints, after checking the line that says how much was cut."""
    (match,) = CUT.finditer(printed)
    assert int(match.group(1).replace(",", "")) == total > MAX_PRINTED
    assert int(match.group(2).replace(",", "")) == total - MAX_PRINTED
    return printed[:match.start()]


def test_what_a_unit_prints_is_cut_with_a_line_saying_how_much(capsys):
    namespace = {"np": __import__("numpy")}
    exec(CHATTY_RELU, namespace)
    check("relu_forward", namespace)
    printed = capsys.readouterr().out
    shown = _cut(printed, sum(namespace["PRINTED"]))
    assert len(shown) == MAX_PRINTED and shown.startswith("relu_forward: row 0, print 0\n")
    assert "public checks passed" in printed[len(shown):]


@pytest.mark.slow
def test_in_a_jupyter_kernel_notes_and_the_cap_are_what_a_student_sees(tmp_path):
    cells = [*STUDENT_CELLS, CHATTY_RELU, "check(relu_forward)", "print('TOTAL', sum(PRINTED))"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()

    def printed(index: int) -> str:
        return "".join(output.get("text", "") for output in notebook.cells[index].outputs)
    assert sorted(_notes(printed(3))) == ["scale", "shift"], printed(3)
    total = int(printed(6).split()[1])
    shown = _cut(printed(5), total)
    assert len(shown) == MAX_PRINTED and shown.startswith("relu_forward: row 0, print 0\n")
