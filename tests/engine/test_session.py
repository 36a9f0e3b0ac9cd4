"""A conversation with one sandboxed worker (``session.py``): load problems, failures by kind, restarts, closing."""

from __future__ import annotations

import time

import numpy as np
import pytest

from dlcourse.autograder.cases.backprop import ASSIGNMENT as BACKPROP
from dlcourse.autograder.engine.compare import judge
from dlcourse.autograder.engine.sandbox import Sandbox
from dlcourse.autograder.engine.session import Failure, FailureKind, WorkerSession



def cells(*sources):
    return [{"label": f"cell {index}", "statements": [[1, source]]} for index, source in enumerate(sources, start=1)]


def call(session, unit, timeout=30.0, *args):
    return session.run({"op": "run", "unit": unit, "driver": "call", "args": [[f"a{i}", a] for i, a in enumerate(args)]},
                       timeout)


def session_of(*sources, level="fallback"):
    return WorkerSession(Sandbox(frameworks=False, isolation=level), cells(*sources))


def test_the_failure_kind_decides_the_verdict_not_the_message():
    case = BACKPROP.cases[0]
    inputs = case.make_inputs(None)
    quiet = judge(case, inputs, dict, Failure("timeout", "stopped after 2 s"))
    worded = judge(case, inputs, dict, Failure("crash", "the process exited: it had timed out before"))
    assert (quiet.status, worded.status) == ("timeout", "error")
    with pytest.raises(ValueError, match="Received kind='timed out'"):
        Failure("timed out", "no such kind")


def test_code_that_cannot_load_is_a_loading_failure_of_its_own_kind(level):
    """The worker dies while loading: every case's verdict says so by its fields (batch reads them)."""
    cells = [{"label": "cell 1", "statements": [[1, "import os"], [2, "status = os._exit(3)"]]}]
    case = BACKPROP.cases[0]
    inputs = case.make_inputs(None)
    with WorkerSession(Sandbox(frameworks=False, isolation=level), cells=cells) as session:
        reply = session.run(case.request(inputs), 30.0)
    assert isinstance(reply, Failure) and (reply.kind, reply.loading) == ("crash", True), reply
    verdict = judge(case, inputs, dict, reply)
    assert verdict.status == "error" and verdict.failure is reply and verdict.ran
    assert "could not be loaded: the process exited with code 3" in verdict.message, verdict.message


def test_a_unit_that_raises_keeps_its_worker_and_one_that_exhausts_memory_gets_a_fresh_one(level):
    """Only errors that may leave the worker unusable (``session.RESTART_AFTER``) cost a restart."""
    source = ("def dense_forward(x, w, b):\n"
              "    if x.shape[0] > 1000:\n"
              "        raise MemoryError('pretend the address space is exhausted')\n"
              "    raise ValueError('a wrong branch')")
    cells = [{"label": "cell 1", "statements": [[1, source]]}]
    case = next(case for case in BACKPROP.cases if case.unit == "dense_forward" and not case.hidden)
    inputs = case.make_inputs(None)
    huge = {**inputs, "x": __import__("numpy").zeros((1001, inputs["x"].shape[1]))}
    with WorkerSession(Sandbox(frameworks=False, isolation=level), cells=cells) as session:
        replies = [session.run(case.request(inputs), 30.0) for _ in range(3)]
        assert [reply["type"] for reply in replies] == ["ValueError"] * 3 and session.starts == 1
        assert session.run(case.request(huge), 30.0)["type"] == "MemoryError"
        assert session.run(case.request(inputs), 30.0)["type"] == "ValueError" and session.starts == 2


def test_a_unit_is_called_on_its_arguments_and_its_value_comes_back_as_plain_data(level):
    with session_of("def double(x):\n    return 2 * x", level=level) as session:
        reply = call(session, "double", 30.0, np.arange(3.0))
    assert reply["status"] == "ok" and np.array_equal(reply["value"], [0.0, 2.0, 4.0]), reply
    assert session.last_seconds > 0 and session.starts == 1


def test_a_definition_that_fails_to_load_is_a_load_problem_and_the_rest_still_loads():
    broken = "class Broken:\n    raise RuntimeError('boom at load time')"
    with session_of(broken, "def ok():\n    return 1") as session:
        assert call(session, "ok")["value"] == 1
    (problem,) = session.load_problems
    assert problem.startswith("cell 1, line 1 `class Broken:`") and "boom at load time" in problem, problem


def test_a_module_that_cannot_be_imported_is_reported_unavailable():
    with session_of("import no_such_module_for_dlcourse", "def ok():\n    return 1") as session:
        assert call(session, "ok")["value"] == 1
    assert session.unavailable == ["no_such_module_for_dlcourse"] and session.load_problems == []


def test_a_worker_that_exits_during_a_case_is_a_crash_and_the_next_case_gets_a_fresh_worker():
    source = "import os\ndef leave():\n    print('bye', flush=True)\n    os._exit(7)\ndef pid():\n    return os.getpid()"
    with session_of(source) as session:
        first = call(session, "pid")["value"]
        reply = call(session, "leave")
        assert isinstance(reply, Failure) and reply.kind is FailureKind.CRASH and not reply.loading, reply
        assert "exited with code 7" in reply.message and "bye" in reply.output, reply
        assert call(session, "pid")["value"] != first and session.starts == 2


def test_a_worker_killed_by_a_signal_is_a_crash_that_names_the_signal():
    source = "import os, signal\ndef fault():\n    os.kill(os.getpid(), signal.SIGSEGV)"
    with session_of(source) as session:
        reply = call(session, "fault")
    assert isinstance(reply, Failure) and reply.kind is FailureKind.CRASH, reply
    assert "SIGSEGV: a segmentation fault" in reply.message, reply.message


def test_a_hanging_case_times_out_near_its_limit_and_the_worker_is_replaced():
    source = "import os\ndef hang():\n    while True:\n        pass\ndef pid():\n    return os.getpid()"
    with session_of(source) as session:
        first = call(session, "pid")["value"]
        started = time.monotonic()
        reply = call(session, "hang", 0.5)
        assert time.monotonic() - started < 3.0
        assert isinstance(reply, Failure) and reply.kind is FailureKind.TIMEOUT, reply
        assert reply.message == "timed out after 0.5 s (an infinite loop, or far too slow)"
        assert call(session, "pid")["value"] != first


def test_closing_a_session_kills_its_worker():
    with session_of("def ok():\n    return 1") as session:
        call(session, "ok")
        process = session._worker.process
    assert session._worker is None and process.poll() is not None
