"""The written questions of every notebook: manually graded nbgrader answer cells, with points and a
model answer in solutions/ only, that automatic grading never reads and nbgrader's gradebook lists
for manual grading. (That every figure has a title, axis labels and legends is checked on the live
figures by tests/course/test_notebooks.py, with the rules of tests/figure_rules.py, tested below; so is every
number the text quotes from the notebook's output, with the markers of tests/narrative_numbers.py,
also tested below, and read in every solution here without running it.)"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from dlcourse.autograder.engine.extract import read_notebook
from conftest import ASSIGNMENTS_DIR, SOLUTIONS

NAMES = sorted(path.stem for path in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
BIN = Path(sys.executable).parent


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def answer_cells(path: Path) -> list[tuple[int, dict]]:
    """(index, cell) of every Markdown cell that nbgrader grades."""
    return [(index, cell) for index, cell in enumerate(cells(path))
            if cell["cell_type"] == "markdown" and cell.get("metadata", {}).get("nbgrader", {}).get("grade")]


def text(cell: dict) -> str:
    return "".join(cell["source"])


@pytest.mark.parametrize("name", NAMES)
def test_each_notebook_asks_two_or_three_questions_with_points_and_a_model_answer(name):
    notebook = cells(SOLUTIONS / f"{name}.ipynb")
    answers = answer_cells(SOLUTIONS / f"{name}.ipynb")
    assert 2 <= len(answers) <= 3, f"{name}: {len(answers)} answer cells"
    for number, (index, cell) in enumerate(answers, start=1):
        meta = cell["metadata"]["nbgrader"]
        assert meta["solution"] is True and meta["grade"] is True and meta["locked"] is False, meta
        assert isinstance(meta["points"], int) and meta["points"] > 0, meta
        assert re.fullmatch(r"q_[a-z0-9_]+", meta["grade_id"]), meta["grade_id"]
        question = notebook[index - 1]
        assert question["cell_type"] == "markdown" and "nbgrader" not in question.get("metadata", {})
        points = f"{meta['points']} point" + ("s" if meta["points"] != 1 else "")
        assert text(question).startswith(f"**Question {number}** ({points})."), text(question)[:80]
        answer = text(cell)
        assert len(answer.split()) >= 40, f"{meta['grade_id']}: the model answer is {len(answer.split())} words"
        assert "YOUR ANSWER HERE" not in answer and "BEGIN SOLUTION" not in answer


def test_about_twenty_five_questions_with_unique_ids_across_the_course():
    ids = [cell["metadata"]["nbgrader"]["grade_id"] for name in NAMES
           for _, cell in answer_cells(SOLUTIONS / f"{name}.ipynb")]
    assert 24 <= len(ids) <= 30, len(ids)
    assert len(ids) == len(set(ids)), sorted(ids)


@pytest.mark.parametrize("name", NAMES)
def test_students_get_an_empty_answer_cell_and_never_the_model_answer(name):
    solution = {cell["id"]: cell for _, cell in answer_cells(SOLUTIONS / f"{name}.ipynb")}
    released = {cell["id"]: cell for _, cell in answer_cells(ASSIGNMENTS_DIR / f"{name}.ipynb")}
    assert released.keys() == solution.keys()
    student_text = (ASSIGNMENTS_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
    for cell_id, cell in released.items():
        assert text(cell) == "YOUR ANSWER HERE"
        given = {k: v for k, v in cell["metadata"]["nbgrader"].items() if k not in ("checksum", "cell_type")}
        assert given == solution[cell_id]["metadata"]["nbgrader"]
        assert text(solution[cell_id])[:200] not in student_text


@pytest.mark.parametrize("name", NAMES)
def test_the_autograder_reads_nothing_from_answer_cells(name):
    """The extractor keeps definitions from any cell; the answers (prose) must contribute none, and no
    automatic test cell refers to them."""
    path = SOLUTIONS / f"{name}.ipynb"
    labels = {f"cell {index + 1}" for index, _ in answer_cells(path)}
    kept = {cell["label"] for cell in read_notebook(path).cells}
    assert not labels & kept
    grade_ids = {cell["metadata"]["nbgrader"]["grade_id"] for _, cell in answer_cells(path)}
    for cell in cells(path):
        if cell["cell_type"] == "code":
            assert not any(grade_id in text(cell) for grade_id in grade_ids)


def test_nbgrader_lists_the_answers_for_manual_grading(tmp_path, monkeypatch):
    """nbgrader's own generate_assignment (its API, in-process) records each answer cell in the gradebook
    as a manually graded Markdown cell worth its points; the formgrader's manual grading reads these."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")  # nbgrader runs alembic
    name = "04_convolution"
    (tmp_path / "source" / name).mkdir(parents=True)
    shutil.copy(SOLUTIONS / f"{name}.ipynb", tmp_path / "source" / name / f"{name}.ipynb")
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    config.CourseDirectory.db_assignments = [dict(name=name)]
    result = NbGraderAPI(config=config).generate_assignment(name, force=True)
    assert result["success"], f"{result.get('log')}\n{result.get('error')}"
    expected = {cell["metadata"]["nbgrader"]["grade_id"]: cell["metadata"]["nbgrader"]["points"]
                for _, cell in answer_cells(SOLUTIONS / f"{name}.ipynb")}
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        for grade_id, points in expected.items():
            cell = gradebook.find_grade_cell(grade_id, name, name)
            assert cell.cell_type == "markdown" and cell.max_score == points
            assert gradebook.find_solution_cell(grade_id, name, name) is not None
    released = (tmp_path / "release" / name / f"{name}.ipynb").read_text()
    assert released.count("YOUR ANSWER HERE") == len(expected)


# ----------------------------------------------------------------------------- the figure rules

def test_figure_rules_flag_what_is_missing_and_accept_a_complete_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from figure_rules import figure_problems

    bare, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a")
    ax.plot([0, 1], [1, 0], label="b")
    problems = figure_problems(bare, "bare")
    assert "bare: no title (neither a suptitle nor a title on every axes)" in problems
    assert "bare, axes 1 (untitled): no x label" in problems and "bare, axes 1 (untitled): no y label" in problems
    assert any("no legend shows ['a', 'b']" in problem for problem in problems)

    shared, axes = plt.subplots(1, 2, sharey=True)
    for panel in axes:
        panel.plot([0, 1], [0, 1], label="a")
        panel.plot([0, 1], [1, 0], label="b")
        panel.set_xlabel("x")
        panel.set_title("panel")
    axes[0].set_ylabel("y")  # shared: one label serves both panels
    axes[1].legend()  # one legend serves both panels, which draw the same lines
    assert figure_problems(shared, "shared") == []

    images, grid = plt.subplots(2, 2)
    for panel in grid.ravel():
        panel.imshow([[0, 1], [1, 0]])
    assert figure_problems(images, "images") == ["images: no title (neither a suptitle nor a title on every axes)"]
    images.suptitle("four images")
    assert figure_problems(images, "images") == []
    plt.close("all")


# ----------------------------------------------------------------------------- the numbers the text quotes

def test_a_quoted_number_is_read_as_the_notebook_writes_it():
    from narrative_numbers import parse_number

    assert parse_number("2.6") == (2.6, False)
    assert parse_number("8,480") == (8480.0, False)
    assert parse_number("$-1$") == (-1.0, False)
    assert parse_number("1.2e-07") == (pytest.approx(1.2e-7), False)
    assert parse_number("$1.2\\cdot 10^{-7}$") == (pytest.approx(1.2e-7), False)
    assert parse_number("$4\\times 10^{243}$") == (pytest.approx(4e243), False)
    assert parse_number("$10^{-10}$") == (pytest.approx(1e-10), True)
    assert parse_number("98%") == (pytest.approx(0.98), False)
    with pytest.raises(ValueError, match="Received 'about 2'"):
        parse_number("about 2")


def marked(text: str, cell_id: str = "x-001") -> list[dict]:
    return [{"cell_type": "code", "id": "x-000", "source": "quoted = {}"},
            {"cell_type": "markdown", "id": cell_id, "source": text}]


def test_a_marked_number_that_drifts_from_the_output_fails_with_the_notebook_cell_and_both_numbers():
    from narrative_numbers import problems

    text = 'it shrinks by about <span data-check="factor">2.6</span> on the way down'
    assert problems("02_initialization", marked(text), {"factor": 2.61}) == []
    assert problems("02_initialization", marked(text), {"factor": 2.21}) == [
        "02_initialization, cell 1 (id x-001): the text says 2.6 ('factor'), the notebook computed 2.21; "
        "allowed: within 0.05 of it (as written)"]
    loose = 'about <span data-check="factor" data-rtol="0.2">2.6</span>'
    assert problems("nb", marked(loose), {"factor": 2.21}) == []
    assert "allowed: within 0.1 of it, relative (data-rtol)" in problems("nb", marked(loose.replace("0.2", "0.1")),
                                                                          {"factor": 2.21})[0]
    absolute = '<span data-check="accuracy" data-atol="0.05">0.80</span>'
    assert problems("nb", marked(absolute), {"accuracy": 0.76}) == []
    assert problems("nb", marked(absolute), {"accuracy": 0.74})
    power = 'falls to <span data-check="ratio">$10^{-10}$</span>'
    assert problems("nb", marked(power), {"ratio": 2.6e-10}) == []
    assert "the same power of ten" in problems("nb", marked(power), {"ratio": 3.9e-6})[0]
    percent = '<span data-check="accuracy">98%</span>'
    assert problems("nb", marked(percent), {"accuracy": 0.983}) == []
    assert problems("nb", marked(percent), {"accuracy": 0.97})


def test_a_marker_without_a_record_and_a_record_without_a_marker_are_both_reported():
    from narrative_numbers import markers, problems

    text = '<span data-check="factor">2.6</span>'
    assert problems("nb", marked(text), {}) == [
        "nb, cell 1 (id x-001): the text says 2.6 for 'factor', which no cell records (quoted['factor'] = ...)"]
    assert problems("nb", marked(text), {"factor": 2.6, "old": 3.8}) == [
        "nb: quoted['old'] = 3.8 is recorded, but no marker in the text quotes it"]
    with pytest.raises(ValueError, match=r"cell 1 \(id x-001\), marker 'factor': Expected a number"):
        markers(marked('<span data-check="factor">about two</span>'))
    with pytest.raises(ValueError, match="only data-rtol, data-atol and data-bound"):
        markers(marked('<span data-check="factor" data-tol="1">2</span>'))
    with pytest.raises(ValueError, match="Received data-bound='above'"):
        markers(marked('<span data-check="factor" data-bound="above">2</span>'))


def test_a_bound_in_the_text_holds_for_any_value_on_its_side():
    from narrative_numbers import problems

    under = 'stays under <span data-check="accuracy" data-bound="upper">60%</span>'
    assert problems("nb", marked(under), {"accuracy": 0.22}) == problems("nb", marked(under), {"accuracy": 0.6}) == []
    assert problems("nb", marked(under), {"accuracy": 0.61}) == [
        "nb, cell 1 (id x-001): the text says 60% ('accuracy'), the notebook computed 0.61; "
        "allowed: at most it (data-bound=upper)"]
    over = 'more than <span data-check="rise" data-bound="lower">10</span> times'
    assert problems("nb", marked(over), {"rise": 1660.0}) == []
    assert "at least it (data-bound=lower)" in problems("nb", marked(over), {"rise": 9.9})[0]


@pytest.mark.parametrize("name", NAMES)
def test_every_marked_number_in_a_solution_is_readable_and_recorded_by_name_in_a_code_cell(name):
    """Without running the notebook (tests/course/test_notebooks.py compares the values): each marker parses, and a
    code cell of the same notebook records its name literally, quoted["name"] = ..., so a reader can find it."""
    from narrative_numbers import markers

    notebook = cells(SOLUTIONS / f"{name}.ipynb")
    code = "\n".join(text(cell) for cell in notebook if cell["cell_type"] == "code")
    for marker in markers(notebook):
        assert f'quoted["{marker.name}"]' in code, (
            f"{name}, cell {marker.cell}: no code cell records quoted[{marker.name!r}]")
    if markers(notebook):
        first_code = next(cell for cell in notebook if cell["cell_type"] == "code")
        assert "quoted = {}" in text(first_code), f"{name}: the first code cell must create quoted = {{}}"
