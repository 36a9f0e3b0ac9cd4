"""One case to its verdict (``runner.py``): passing, wrong, raising and hung units, and what depends on a hung one."""

from __future__ import annotations

import time

import numpy as np
import pytest

from dlcourse.autograder.engine.case import Case
from dlcourse.autograder.engine.compare import Status
from dlcourse.autograder.engine.runner import CaseRunner, in_process
from dlcourse.autograder.engine.sandbox import Sandbox
from dlcourse.autograder.engine.session import FailureKind, WorkerSession


def vector(rng):
    return {"x": rng.normal(size=3)}


DOUBLE = Case("double", "three numbers", vector, lambda x: {"out": 2 * x}, ("out",))
DOUBLE_AGAIN = Case("double", "three more numbers", vector, lambda x: {"out": 2 * x}, ("out",))
QUADRUPLE = Case("quadruple", "three numbers", vector, lambda x: {"out": 4 * x}, ("out",))
UNITS = ("double", "quadruple")


def runner_of(source: str, **options) -> CaseRunner:
    """A runner on the functions ``source`` defines, run in this process the way ``check()`` runs them."""
    namespace: dict = {}
    exec(compile(source, "cell 1", "exec"), namespace)
    return CaseRunner(in_process(namespace), lambda case, inputs: case.reference(**inputs), **options)


def test_a_correct_unit_passes_and_its_wall_time_is_kept():
    runner = runner_of("def double(x):\n    return 2 * x")
    verdict = runner.verdict(DOUBLE, UNITS)
    assert verdict.passed and verdict.status is Status.PASSED and verdict.ran, verdict.message
    assert runner.earlier == {DOUBLE.id: runner.last_seconds} and runner.last_seconds >= 0


def test_a_wrong_unit_fails():
    verdict = runner_of("def double(x):\n    return 3 * x").verdict(DOUBLE, UNITS)
    assert not verdict.passed and verdict.status is Status.FAILED and verdict.ran
    assert verdict.message.startswith("double"), verdict.message


def test_a_raising_unit_is_an_error_naming_the_exception():
    verdict = runner_of("def double(x):\n    raise ValueError('not today')").verdict(DOUBLE, UNITS)
    assert verdict.status is Status.ERROR and verdict.ran
    assert "ValueError" in verdict.message and "not today" in verdict.message, verdict.message


def test_a_hung_unit_times_out_within_the_max_timeout_and_its_dependents_are_not_run():
    runner = runner_of("def double(x):\n    while True:\n        pass\n"
                       "def quadruple(x):\n    return double(double(x))", max_timeout=0.3,
                       uses={"double": set(), "quadruple": {"double"}})
    started = time.monotonic()
    hung = runner.verdict(DOUBLE, UNITS)
    dependent = runner.verdict(QUADRUPLE, UNITS)
    assert time.monotonic() - started < 2.0  # one time limit for both
    assert hung.status is Status.TIMEOUT and hung.failure.kind is FailureKind.TIMEOUT
    assert hung.message.startswith("double: timed out after 0.3 s"), hung.message
    assert dependent.status is Status.ERROR and not dependent.ran
    assert dependent.message == ("quadruple: not run: it depends on double, which timed out (on case 'three numbers'); "
                                 "fix double first.")
    assert runner.timed_out == {"double": "three numbers"}


@pytest.mark.parametrize("stop", [False, True])
def test_a_students_check_stops_a_unit_after_its_first_timeout_and_a_grading_runs_it_again(stop):
    runner = runner_of("def double(x):\n    while True:\n        pass", max_timeout=0.2, stop_after_timeout=stop)
    runner.verdict(DOUBLE, UNITS)
    again = runner.verdict(DOUBLE_AGAIN, UNITS)
    assert again.status is Status.TIMEOUT and again.ran is not stop
    if stop:
        assert again.message == "double: not run: it timed out on case 'three numbers' already."


def test_a_failing_dependency_is_named_in_its_dependents_message():
    runner = runner_of("def double(x):\n    return 3 * x\ndef quadruple(x):\n    return double(double(x))",
                       uses={"double": set(), "quadruple": {"double"}})
    runner.verdict(DOUBLE, UNITS)
    verdict = runner.verdict(QUADRUPLE, UNITS)
    assert verdict.status is Status.FAILED and runner.failed == {"double": Status.FAILED, "quadruple": Status.FAILED}
    assert verdict.message.endswith("Note: quadruple depends on double, which fails its own checks (failed): "
                                    "fix that first."), verdict.message


def test_dependencies_are_followed_through_helpers_that_are_not_units():
    runner = CaseRunner(run=None, expected=None, uses={"quadruple": {"_twice", "np"}, "_twice": {"double"}, "double": set()})
    request = QUADRUPLE.request(QUADRUPLE.make_inputs(None))
    assert runner.depends_on(QUADRUPLE, request, UNITS) == ["double"]
    assert runner.depends_on(DOUBLE, DOUBLE.request(DOUBLE.make_inputs(None)), UNITS) == []


def test_an_interrupt_in_the_students_code_is_raised_again_naming_the_unit():
    runner = runner_of("def double(x):\n    raise KeyboardInterrupt")
    with pytest.raises(KeyboardInterrupt):
        runner.verdict(DOUBLE, UNITS)
    assert runner.run.interrupted_in == "double"


def test_in_process_hands_the_unit_a_copy_of_its_inputs():
    seen = []
    run = in_process({"double": lambda x: seen.append(x) or 2 * x})
    inputs = DOUBLE.make_inputs(None)
    reply = run(DOUBLE.request(inputs), 5.0)
    assert reply["status"] == "ok" and np.array_equal(reply["value"], 2 * inputs["x"])
    assert seen[0] is not inputs["x"] and np.array_equal(seen[0], inputs["x"])


def test_a_sandboxed_sessions_run_is_judged_the_same_way_and_timed_without_its_start_up():
    cells = [{"label": "cell 1", "statements": [[1, "def double(x):\n    return 2 * x"],
                                                [3, "def quadruple(x):\n    return 5 * x"]]}]
    with WorkerSession(Sandbox(frameworks=False, isolation="fallback"), cells) as session:
        runner = CaseRunner(session.run, lambda case, inputs: case.reference(**inputs),
                            seconds=lambda: session.last_seconds)
        verdicts = [runner.verdict(case, UNITS) for case in (DOUBLE, QUADRUPLE)]
        assert runner.last_seconds == session.last_seconds
    assert [verdict.status for verdict in verdicts] == [Status.PASSED, Status.FAILED], [v.message for v in verdicts]
