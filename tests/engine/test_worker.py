"""The sandboxed worker (``sandboxed/worker.py``): loading a student's cells, the time limit of both sides, and a
forked process that must never reply in the worker's place."""

from __future__ import annotations

import inspect
import threading
import time

import numpy as np
import pytest

from dlcourse.autograder.engine.extract import kept_statements
from dlcourse.autograder.engine.sandbox import Sandbox
from dlcourse.autograder.engine.sandboxed.worker import load, time_limit
from dlcourse.autograder.engine.session import WorkerSession

FORKING = """
import os
import time


def forked():
    if os.fork() == 0:
        return "the child"  # back in the worker's loop, a process that must not reply
    time.sleep(0.3)
    return "the worker"


def after():
    return "the next reply"
"""


def cell(label: str, *statements: str) -> dict:
    """Cells are registered with ``linecache`` by label for the whole process: these tests use labels of their own."""
    return {"label": label, "statements": [[line, text] for line, text in enumerate(statements, start=1)]}


class Late(BaseException):
    pass


def test_a_slow_assignment_costs_its_budget_and_is_reported():
    cells = [{"label": "cell 2", "statements": [[1, "total = [i for i in range(10**12)]"], [2, "QUICK = 1"]]}]
    loaded = load(cells, assignment_seconds=0.2)
    assert loaded["namespace"]["QUICK"] == 1 and "total" not in loaded["namespace"]
    (problem,) = loaded["problems"]
    assert problem.startswith("cell 2, line 1 `total = [i for i in range(10**12)]`: AssignmentTooSlow: took longer than 0.2 s")


def test_functions_carry_their_cell_source_wherever_the_def_sits():
    """inspect and autograph read the function's own cell, not the loader's file, at any line of the cell."""
    tf = pytest.importorskip("tensorflow")
    padding = "".join(f"# note {index}\n" for index in range(40))
    source = ("import tensorflow as tf\n" + padding + "def absolute(x):\n    if x > 0:\n        y = x\n"
              "    else:\n        y = -x\n    return y\n")
    statements = [[line, text] for line, text, _ in kept_statements(source, "cell 5")]
    other = [[1, "def absolute(x):\n    return x"]]  # another notebook's cell 5, loaded first in this process
    load([{"label": "cell 5", "statements": other}])
    namespace = load([{"label": "cell 5", "statements": statements}])["namespace"]
    assert inspect.getsource(namespace["absolute"]).startswith("def absolute(x):\n    if x > 0:")
    assert float(tf.function(namespace["absolute"])(tf.constant(-2.0))) == 2.0  # autograph made a tf.cond of it
    assert np.isclose(namespace["absolute"](-3.0), 3.0)


def test_a_lazy_linecache_entry_under_a_cells_name_does_not_break_loading(monkeypatch):
    """linecache keeps lazy entries as 1-tuples (``linecache.lazycache``); a cell's name may meet one."""
    import linecache

    monkeypatch.setitem(linecache.cache, "cell 123", (lambda: [],))
    namespace = load([{"label": "cell 123", "statements": [[2, "def seven():\n    return 7"]]}])["namespace"]
    assert namespace["seven"]() == 7
    assert "return 7" in inspect.getsource(namespace["seven"])


def test_a_failed_import_is_listed_as_unavailable_and_the_cells_after_it_still_load():
    loaded = load([cell("cell 71", "import numpy as np", "import no_such_module_here"),
                   cell("cell 72", "def double(x):\n    return 2 * x")])
    assert loaded["unavailable"] == ["no_such_module_here"] and loaded["problems"] == []
    assert loaded["namespace"]["double"](np.ones(2)).tolist() == [2.0, 2.0]


def test_a_failing_statement_is_a_problem_naming_its_cell_and_line_and_a_failing_assignment_is_quiet():
    loaded = load([cell("cell 74", "scale = undefined_name * 2", "def f(x=no_default):\n    return x", "KEPT = 1")])
    assert loaded["problems"] == ["cell 74, line 2 `def f(x=no_default):`: NameError: name 'no_default' is not defined"]
    assert loaded["namespace"]["KEPT"] == 1 and not {"scale", "f"} & set(loaded["namespace"])


def test_each_load_starts_from_a_fresh_namespace():
    load([cell("cell 73", "LEFT_OVER = 1")])
    namespace = load([cell("cell 73", "OTHER = 2")])["namespace"]
    assert "LEFT_OVER" not in namespace and namespace["__name__"] == "__main__"


def test_the_time_limit_raises_its_error_after_its_seconds_and_none_means_no_limit():
    started = time.monotonic()
    with pytest.raises(Late):
        with time_limit(0.1, Late):
            time.sleep(5)
    assert time.monotonic() - started < 1
    with time_limit(None, Late):
        time.sleep(0.15)
    with time_limit(0.05, Late):  # finished in time: the timer is cleared, nothing fires later
        pass
    time.sleep(0.1)


def test_the_time_limit_does_not_apply_off_the_main_thread():
    outcome = []

    def slow():
        with time_limit(0.05, Late):
            time.sleep(0.15)
        outcome.append("finished")
    thread = threading.Thread(target=slow)
    thread.start()
    thread.join()
    assert outcome == ["finished"]


def test_a_process_the_student_forked_never_replies_in_the_workers_place():
    with WorkerSession(Sandbox(frameworks=False, isolation="fallback"), [cell("cell 1", FORKING)]) as session:
        first = session.run({"op": "run", "unit": "forked", "driver": "call", "args": []}, 30.0)
        second = session.run({"op": "run", "unit": "after", "driver": "call", "args": []}, 30.0)
    assert (first.get("value"), second.get("value")) == ("the worker", "the next reply"), (first, second)
