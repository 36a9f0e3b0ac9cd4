"""Training cases run alongside the others (``alongside.py``): in a second worker, with the grades of running
every case in order.

Real gradings of 06 in forked workers (root: the pool forks the Keras workers).
"""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, TEST_SECRET, code_cell, write_variant

from dlcourse.autograder.cases import ASSIGNMENTS, COURSE
from dlcourse.autograder.engine.alongside import Alongside, training_suffix
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.pool import WorkerPool
from dlcourse.autograder.engine.sandbox import Sandbox

LENET = ASSIGNMENTS["06_cnn_architectures"]


def test_the_training_cases_at_the_end_are_those_run_alongside():
    assert training_suffix(LENET.cases) == 1 and LENET.cases[-1].unit == "train_lenet5"
    assert training_suffix(ASSIGNMENTS["09_gan"].cases) == 1
    assert training_suffix(ASSIGNMENTS["01_backprop"].cases) == 0
    # alongside.py's rule: no timed case (04's speed cases) in an assignment whose training runs alongside
    assert [name for name, assignment in ASSIGNMENTS.items() if training_suffix(assignment.cases)] == [
        "06_cnn_architectures", "09_gan"]
    only_training = LENET.cases[-1:]
    pool = WorkerPool()
    try:
        grader, keras = Grader(COURSE, secret=TEST_SECRET, pool=pool), Sandbox(frameworks=True)
        if not pool.forks(keras):
            pytest.skip("the pool forks Keras workers only as root")
        assert grader.cases_alongside(keras, LENET.cases) == 1
        assert grader.cases_alongside(keras, only_training) == 0  # nothing to run it alongside
        assert Grader(COURSE, secret=TEST_SECRET, pool=pool, alongside=False).cases_alongside(keras, LENET.cases) == 0
        assert Grader(COURSE, public_only=True, pool=pool).cases_alongside(keras, LENET.cases) == 0  # a student's check
        assert Grader(COURSE, secret=TEST_SECRET).cases_alongside(keras, LENET.cases) == 0  # no pool: no cheap worker
    finally:
        pool.close()


HANGING_BUILD = """
def build_lenet5(input_shape, num_classes):
    while True:
        pass
"""


def test_a_training_case_alongside_gets_the_verdict_it_gets_in_order(tmp_path, monkeypatch):
    """The 06 solution whose build_lenet5 hangs. In order, train_lenet5 is not run: it calls build_lenet5, which
    timed out on an earlier case. Alongside, it runs in its own worker (and times out there too), and is then
    given the in-order verdict; every other verdict is the same as well."""
    notebook = write_variant(tmp_path, ROOT / "solutions" / "06_cnn_architectures.ipynb",
                             lambda nb: nb["cells"].append(code_cell(HANGING_BUILD)))
    started, ran = [], []
    start, run = Alongside.start, Alongside._run
    monkeypatch.setattr(Alongside, "start", lambda self: started.append(self.cases) or start(self))
    monkeypatch.setattr(Alongside, "_run", lambda self: run(self) or ran.append(self._verdicts))
    pool = WorkerPool()
    try:
        if not pool.forks(Sandbox(frameworks=True)):
            pytest.skip("the pool forks Keras workers only as root")
        graded = {flag: Grader(COURSE, secret=TEST_SECRET, pool=pool, alongside=flag, max_timeout=4.0).grade(notebook)
                  for flag in (False, True)}
    finally:
        pool.close()
    assert [cases[0].unit for cases in started] == ["train_lenet5"]  # once: in the grading with alongside=True
    assert "timed out" in ran[0][0].message  # it did run there, and hung in build_lenet5
    in_order, beside = ([(item.case.id, item.verdict.passed, _without_seconds(item.verdict.message))
                         for item in graded[flag].results] for flag in (False, True))
    assert beside == in_order
    training = graded[True].results[-1]
    assert training.case.unit == "train_lenet5" and not training.verdict.ran
    assert "not run: it depends on build_lenet5, which timed out" in training.verdict.message
    assert graded[True].score == graded[False].score < LENET.max_score


def _without_seconds(message: str) -> str:
    return re.sub(r"\d+(\.\d+)? s\b", "N s", message)
