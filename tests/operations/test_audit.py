"""``dlcourse audit`` (issue 28): mutants of a unit of the solution, each graded as a submission is.

One end-to-end run through the command on 01_backprop's ``relu_backward`` (its operator mutants, plus two
written by hand: one that hangs and one that no input can tell apart, listed as equivalent in a file of
the test's own), then the operators on a small function, without grading.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SOLUTIONS, TEST_SECRET
from dlcourse.autograder.course.mutants import OPERATORS, find_definitions, mutants_of, replacement_mutant

BIN = Path(sys.executable).parent
HANGS = "def relu_backward(dout, cache):\n    while True:\n        pass\n"
SAME = "def relu_backward(dout, cache):\n    return np.where(cache > 0, dout, 0.0)\n"


def dlcourse(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DLCOURSE_SECRET": TEST_SECRET, "DLCOURSE_CACHE": str(cache)}
    return subprocess.run([str(BIN / "dlcourse"), "audit", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def relu_audit(tmp_path_factory):
    """The audit of relu_backward, with ``--extra`` mutants and an ``--equivalents`` file of the test's own."""
    folder = tmp_path_factory.mktemp("audit")
    definition = find_definitions(json.loads((SOLUTIONS / "01_backprop.ipynb").read_text()))["relu_backward"]
    made, _ = mutants_of(definition)
    boundary = next(m for m in made if m.operator == "compare" and ">= 0" in m.change)
    same = replacement_mutant(definition, SAME)
    (folder / "extra.py").write_text(HANGS + "\n\n" + SAME)
    (folder / "equivalent.txt").write_text(
        "# unit  mutant  reason\n"
        f"relu_backward {same.id} np.where picks dout where x > 0 and 0 elsewhere: the same values\n"
        f"relu_backward {boundary.id} wrongly marked: a case kills it\n"
        "relu_backward arith-00000000 a mutant that is no longer made\n")
    run = dlcourse("01_backprop", "--unit", "relu_backward", "--workers", "2", "--out", str(folder / "out"),
                   "--extra", str(folder / "extra.py"), "--equivalents", str(folder / "equivalent.txt"),
                   "--max-timeout", "2", cache=folder / "cache")
    rows = list(csv.DictReader(open(folder / "out" / "mutants.csv", encoding="utf-8"))) if run.returncode == 0 else []
    return {"run": run, "made": made, "boundary": boundary, "same": same, "folder": folder,
            "rows": {row["id"]: row for row in rows}}


def test_the_last_line_counts_every_mutant(relu_audit):
    run, made = relu_audit["run"], relu_audit["made"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1] == (f"audit 01_backprop: {len(made) + 2} mutants, {len(made)} killed, "
                                                   "1 marked equivalent, 0 survived, 1 timed out")
    assert set(relu_audit["rows"]) == {m.id for m in made} | {relu_audit["same"].id, "extra-" + _extra_id(HANGS)}


def test_a_boundary_mistake_is_killed_by_a_named_case_and_the_mistake_is_named(relu_audit):
    row = relu_audit["rows"][relu_audit["boundary"].id]
    assert row["status"] == "killed" and row["operator"] == "compare"
    assert row["killed_by"] == "relu_backward: 5x4, with extreme values"  # the public case with x == 0 in it
    assert row["named_mistake"].startswith("x == 0 counted as active")
    assert "marked equivalent" in row["note"] and "remove the mark" in row["note"]


def test_an_equivalent_mutant_in_the_file_is_counted_equivalent(relu_audit):
    row = relu_audit["rows"][relu_audit["same"].id]
    assert row["status"] == "equivalent" and row["killed_by"] == "" and row["operator"] == "extra"
    assert "arith-00000000" in relu_audit["run"].stderr and "names no mutant made now" in relu_audit["run"].stderr


def test_a_hanging_mutant_is_stopped_by_the_graders_time_limit(relu_audit):
    row = relu_audit["rows"]["extra-" + _extra_id(HANGS)]
    assert row["status"] == "timed out" and "relu_backward: 5x4, with extreme values" in row["killed_by"]


def test_the_report_shows_each_unit_and_what_its_cases_kill(relu_audit):
    report = (relu_audit["folder"] / "out" / "report.md").read_text()
    assert "## relu_backward" in report and "| relu_backward: 5x4, with extreme values |" in report
    assert report.strip().splitlines()[-1] == relu_audit["run"].stdout.strip().splitlines()[-1]
    assert "### Marked equivalent, but killed" in report and relu_audit["boundary"].id in report


def test_an_equivalents_line_without_a_reason_is_one_line_and_grades_nothing(tmp_path):
    (tmp_path / "equivalent.txt").write_text("relu_backward compare-12345678\n")
    run = dlcourse("01_backprop", "--unit", "relu_backward", "--out", str(tmp_path / "out"),
                   "--equivalents", str(tmp_path / "equivalent.txt"), cache=tmp_path / "cache")
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "Expected `unit mutant-id reason`" in run.stderr and "line 1" in run.stderr


def test_an_unknown_unit_is_refused_in_one_line(tmp_path):
    run = dlcourse("01_backprop", "--unit", "relu", "--out", str(tmp_path), cache=tmp_path / "cache")
    assert run.returncode == 2 and "Expected units of 01_backprop" in run.stderr and "Received relu." in run.stderr


# ----------------------------------------------------------------------------- the operators, without grading

CELL = '''import numpy as np


def unit(x, w, n):
    """Docstrings are never mutated."""
    s = np.sum(x @ w.T, axis=1, keepdims=True)
    if s[0, 0] > 0:
        s = s[1:n] - 2
    print("never mutated either", s)
    return s.mean(axis=(0, 1))
'''


def _document(*sources: str) -> dict:
    return {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": source} for source in sources]}


def _extra_id(source: str) -> str:
    import ast
    import hashlib

    return hashlib.sha256(ast.dump(ast.parse(source).body[0]).encode()).hexdigest()[:8]


def test_every_operator_changes_one_place_and_the_cell_still_parses():
    import ast

    made, total = mutants_of(find_definitions(_document(CELL))["unit"])
    assert {m.operator for m in made} == set(OPERATORS) and total == len(made)
    assert len({m.id for m in made}) == len(made)
    dumps = set()
    for mutant in made:
        tree = ast.parse(mutant.source)
        dumps.add(ast.dump(tree))
        assert ast.get_docstring(tree.body[1]) == "Docstrings are never mutated."
        assert 'print("never mutated either", s)' in mutant.source
        removed = [line for line in mutant.diff().splitlines() if line.startswith("-") and not line.startswith("---")]
        assert 1 <= len(removed) <= 2, mutant.diff()  # one line; an `if` deleted takes its body with it
    assert len(dumps) == len(made)  # no two mutants are the same program
    changes = {m.change for m in made}
    assert "`s = np.sum(x @ w.T, axis=1, keepdims=True)` -> `s = np.sum(x @ w, axis=1, keepdims=True)`" in changes
    assert "`return s.mean(axis=(0, 1))` -> `return s.sum(axis=(0, 1))`" in changes
    assert "`s = s[1:n] - 2` -> `s = s[1:n + 1] - 2`" in changes
    assert "`s = s[1:n] - 2` -> `s = s[1:n] - 1`" in changes  # 2 -> 1
    assert "`if s[0, 0] > 0:` -> `if s[0, 0] >= 0:`" in changes


def test_ids_come_from_the_change_not_its_place():
    before = {m.id: m.change for m in mutants_of(find_definitions(_document(CELL))["unit"])[0]}
    moved = CELL.replace("import numpy as np\n", "import numpy as np\nSCALE = 3  # a new line above\n")
    after = {m.id: m.change for m in mutants_of(find_definitions(_document("x = 1", moved))["unit"])[0]}
    assert before == after
    edited = CELL.replace("    s = np.sum", "    w = w + 0 * w[0]  # a new line in the function\n    s = np.sum")
    within = {m.id: m.change for m in mutants_of(find_definitions(_document(edited))["unit"])[0]}
    assert before.items() < within.items()  # the new line's mutants are new; every other id is kept


def test_a_cap_keeps_mutants_from_the_whole_function():
    made, total = mutants_of(find_definitions(_document(CELL))["unit"], cap=4)
    assert len(made) == 4 and total > 4 and made[0].line == 6 and made[-1].line >= 8  # not the first four


def test_only_what_a_student_writes_is_mutated_unless_asked():
    marked = CELL.replace('    s = np.sum', '    n = max(n, 1)  # given in the released notebook\n'
                                            '    ### BEGIN SOLUTION\n    s = np.sum').replace(
        "    return s.mean", "    ### END SOLUTION\n    return s.mean")
    definition = find_definitions(_document(marked))["unit"]
    inside = mutants_of(definition)[0]
    assert inside and all("max(n, 1)" not in m.change and "return s.mean" not in m.change for m in inside)
    everything = mutants_of(definition, whole_function=True)[0]
    assert {m.id for m in inside} < {m.id for m in everything}
    assert any("max(n, 1)" in m.change for m in everything) and any("return s.mean" in m.change for m in everything)


def test_keywords_that_only_print_are_not_mutated():
    cell = "def unit(model, x):\n    model.fit(x, epochs=2, verbose=0)\n    return model\n"
    changes = {m.change for m in mutants_of(find_definitions(_document(cell))["unit"])[0]}
    assert changes and all("verbose=0" in change.split("->")[-1] for change in changes if "->" in change)
    assert "`model.fit(x, epochs=2, verbose=0)` -> `model.fit(x, epochs=3, verbose=0)`" in changes


# ----------------------------------------------------------------------------- what the audit cuts, without grading

def test_only_losses_that_load_could_cause_are_graded_again():
    from dlcourse.autograder.cases import ASSIGNMENTS
    from dlcourse.autograder.course.audit import _load_could_explain

    cases = ASSIGNMENTS["06_cnn_architectures"].cases
    build = next(case for case in cases if case.unit == "build_lenet5")
    train = next(case for case in cases if case.unit == "train_lenet5")
    flip = next(case for case in cases if case.unit == "flip_horizontal")
    baseline = {case.id: case.points for case in (build, train, flip)}

    def lost(*pairs, failure=None):
        return {"cases": [{"id": case.id, "points": 0.0, "status": status, "failure": failure}
                          for case, status in pairs]}

    assignment = ASSIGNMENTS["06_cnn_architectures"]
    assert _load_could_explain(assignment, lost((train, "failed")), baseline)  # accuracy within a time limit
    assert _load_could_explain(assignment, lost((build, "timeout")), baseline)
    assert not _load_could_explain(assignment, lost((build, "failed")), baseline)  # wrong layers or logits
    assert not _load_could_explain(assignment, lost((train, "error")), baseline)  # the code raised
    assert _load_could_explain(assignment, lost((train, "error"), failure="crash"), baseline)  # its worker died
    assert not _load_could_explain(assignment, lost((train, "failed"), (flip, "failed")), baseline)  # not fresh


def test_units_whose_cases_need_no_keras_are_graded_without_it():
    from dlcourse.autograder.cases import ASSIGNMENTS
    from dlcourse.autograder.course.audit import _numpy_only
    from dlcourse.autograder.engine.extract import read_notebook

    for name, expected in (("06_cnn_architectures", {"dropout_forward", "dropout_backward", "flip_horizontal",
                                                     "translate", "adjust_brightness", "lenet5_forward"}),
                           ("09_gan", set()), ("05_pooling", set())):
        assignment = ASSIGNMENTS[name]
        path = SOLUTIONS / f"{name}.ipynb"
        own = {unit: tuple(i for i, case in enumerate(assignment.cases) if case.unit == unit)
               for unit in assignment.units}
        found = _numpy_only(assignment, read_notebook(path), find_definitions(json.loads(path.read_text())),
                            assignment.units, own)
        assert found == expected, name
