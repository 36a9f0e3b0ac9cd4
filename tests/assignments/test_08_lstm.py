"""Assignment 08 (lstm): the Keras references, the solution, the cases' messages and the long-range task.

References are checked against the solution notebook's units, and both against central
differences and against the LSTM equations written out here, so neither can hide behind the other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.cases import lstm as cases
from dlcourse.autograder.engine.sandboxed import wire, worker
from dlcourse.autograder.engine.compare import judge
from conftest import ROOT, SOLUTIONS, solution_namespace
from dlcourse.gradcheck import central_difference
from dlcourse.references import lstm as ref

NAME = "08_lstm"
GRADS = ("dx", "dh0", "dc0", "dwx", "dwh", "db")


@pytest.fixture(scope="module")
def sol():
    return solution_namespace(NAME)


def _problem(rng, n=3, t=6, d=4, h=5):
    b = rng.normal(size=4 * h) * 0.5
    b[h:2 * h] += 1.0
    return (rng.normal(size=(n, t, d)), np.tanh(rng.normal(size=(n, h))), rng.normal(size=(n, h)),
            rng.normal(size=(d, 4 * h)) / np.sqrt(d), rng.normal(size=(h, 4 * h)) / np.sqrt(h), b)


def _dout(rng, n=3, t=6, h=5):
    return rng.normal(size=(n, t, h)), rng.normal(size=(n, h)), rng.normal(size=(n, h))



# ----------------------------------------------------------------------------- references

def test_reference_follows_the_written_out_equations_with_keras_gate_order():
    """i, f, c, o blocks, sigmoid gates, tanh candidate and output, initial states used: checked by hand."""
    rng = np.random.default_rng(0)
    x, h0, c0, wx, wh, b = _problem(rng, t=4)
    h, c, states = h0, c0, []
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    for t in range(x.shape[1]):
        zi, zf, zc, zo = np.split(x[:, t] @ wx + h @ wh + b, 4, axis=1)
        c = sigmoid(zf) * c + sigmoid(zi) * np.tanh(zc)
        h = sigmoid(zo) * np.tanh(c)
        states.append(h)
    seq, h_last, c_last = ref.lstm_forward(x, h0, c0, wx, wh, b)["out"]
    np.testing.assert_allclose(seq, np.stack(states, axis=1), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_last, h, rtol=1e-12)
    np.testing.assert_allclose(c_last, c, rtol=1e-12)


@pytest.mark.parametrize("steps", [1, 3, 50])
def test_references_match_the_solution(sol, steps):
    rng = np.random.default_rng(steps)
    args = _problem(rng, t=steps)
    dout = _dout(rng, t=steps)
    out, cache = sol["lstm_forward"](*args)
    for got, want in zip(out, ref.lstm_forward(*args)["out"]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    expected = ref.lstm_backward(*args, dout)
    for name, value in zip(GRADS, sol["lstm_backward"](dout, cache)):
        np.testing.assert_allclose(value, expected[name], rtol=1e-9, atol=1e-11, err_msg=name)


def test_step_references_match_the_solution(sol):
    rng = np.random.default_rng(4)
    x, h0, c0, wx, wh, b = _problem(rng, t=1)
    x = x[:, 0]
    dout = (rng.normal(size=h0.shape), rng.normal(size=c0.shape))
    (h_next, c_next), cache = sol["lstm_step_forward"](x, h0, c0, wx, wh, b)
    want_h, want_c = ref.lstm_step_forward(x, h0, c0, wx, wh, b)["out"]
    np.testing.assert_allclose(h_next, want_h, rtol=1e-12)
    np.testing.assert_allclose(c_next, want_c, rtol=1e-12)
    expected = ref.lstm_step_backward(x, h0, c0, wx, wh, b, dout)
    names = ("dx", "dh_prev", "dc_prev", "dwx", "dwh", "db")
    for name, value in zip(names, sol["lstm_step_backward"](dout, cache)):
        np.testing.assert_allclose(value, expected[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_solution_gradients_match_central_differences(sol):
    """Independent of Keras: every gradient, with gradients flowing into h, h_T and c_T."""
    rng = np.random.default_rng(9)
    args = list(_problem(rng, n=2, t=4, d=3, h=3))
    dout = _dout(rng, n=2, t=4, h=3)
    grads = sol["lstm_backward"](dout, sol["lstm_forward"](*args)[1])
    for position, grad in enumerate(grads):
        def loss(value, position=position):
            changed = list(args)
            changed[position] = value
            out, _ = sol["lstm_forward"](*changed)
            return float(sum(np.sum(o * d) for o, d in zip(out, dout)))
        np.testing.assert_allclose(grad, central_difference(loss, args[position]), rtol=1e-6, atol=1e-8, err_msg=GRADS[position])


def test_forward_and_backward_leave_their_inputs_alone(sol):
    rng = np.random.default_rng(1)
    args = _problem(rng)
    dout = _dout(rng)
    copies = [a.copy() for a in args + dout]
    _, cache = sol["lstm_forward"](*args)
    sol["lstm_backward"](dout, cache)
    for a, c in zip(args + dout, copies):
        np.testing.assert_array_equal(a, c)


def test_float32_stays_float32(sol):
    args = [a.astype(np.float32) for a in _problem(np.random.default_rng(2))]
    (h, h_last, c_last), _ = sol["lstm_forward"](*args)
    assert h.dtype == h_last.dtype == c_last.dtype == np.float32


@pytest.mark.parametrize("position, name, bad", [(0, "x", lambda a: a[:, 0]), (1, "h0", lambda a: a[:, :2]),
                                                  (2, "c0", lambda a: a[:1]), (3, "wx", lambda a: a[:, :-1])])
def test_bad_shapes_raise_value_errors_naming_the_argument(sol, position, name, bad):
    args = list(_problem(np.random.default_rng(0)))
    args[position] = bad(args[position])
    with pytest.raises(ValueError, match=name):
        sol["lstm_forward"](*args)


# ----------------------------------------------------------------------------- messages

def _verdict(unit, case_name, namespace):
    case = next(c for c in ASSIGNMENTS[NAME].cases if c.unit == unit and c.name == case_name)
    inputs = case.make_inputs(None)
    reply = wire.decode(wire.encode(worker.run_case(namespace, wire.decode(wire.encode(case.request(inputs))))))
    return judge(case, inputs, lambda: case.reference(**inputs), reply)


def _reorder(order, sol):
    """A student's LSTM that reads the gate blocks in ``order`` (a permutation of i, f, c, o)."""
    inverse = tuple(cases.KERAS_ORDER[order.index(gate)] for gate in cases.KERAS_ORDER)

    def to_keras(array):
        return cases._blocks(array, inverse)

    def back(array):
        return cases._blocks(array, order)

    def lstm_forward(x, h0, c0, wx, wh, b):
        return sol["lstm_forward"](x, h0, c0, to_keras(wx), to_keras(wh), to_keras(b))

    def lstm_backward(dout, cache):
        dx, dh0, dc0, dwx, dwh, db = sol["lstm_backward"](dout, cache)
        return dx, dh0, dc0, back(dwx), back(dwh), back(db)
    return {**sol, "lstm_forward": lstm_forward, "lstm_backward": lstm_backward}


def test_the_cs231n_gate_order_is_named_in_forward_and_backward(sol):
    wrong = _reorder(("i", "f", "o", "c"), sol)
    for unit in ("lstm_forward", "lstm_backward"):
        verdict = _verdict(unit, "T=5, batch of 2, 3 -> 4 units", wrong)
        assert not verdict.passed
        assert "read in the order i, f, o, c (cs231n's layout)" in verdict.message, verdict.message


def test_every_wrong_gate_order_is_told_apart(sol):
    """Each of the 23 wrong orders fails, and the message names exactly that order."""
    import itertools

    for order in itertools.permutations(cases.KERAS_ORDER):
        if order == cases.KERAS_ORDER:
            continue
        verdict = _verdict("lstm_forward", "T=5, batch of 2, 3 -> 4 units", _reorder(order, sol))
        assert not verdict.passed and f"read in the order {', '.join(order)}" in verdict.message


def test_a_missing_forget_gate_path_is_named(sol):
    """The solution's own lstm_backward with the cell path cut (dc_prev = 0) or left without f (dc_prev = dc)."""
    source = _backward_source()
    for replacement, named in (("dc = 0 * dc ", "dc_prev = dc * f is missing"),
                               ("dc = dc ", "without the forget gate")):
        namespace = dict(sol)
        exec(compile(source.replace("dc = dc * f ", replacement), "student", "exec"), namespace)
        verdict = _verdict("lstm_backward", "T=5, batch of 2, 3 -> 4 units", namespace)
        assert not verdict.passed and named in verdict.message, verdict.message


def _backward_source():
    notebook = json.loads((SOLUTIONS / f"{NAME}.ipynb").read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if "def lstm_backward" in source:
            start = source.index("def lstm_backward")
            text = source[start:]
            assert "dc = dc * f " in text
            return text
    raise AssertionError("no lstm_backward in the solution")


def test_an_added_forget_bias_is_named(sol):
    def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
        shifted = b.copy()
        units = h_prev.shape[1]
        shifted[units:2 * units] += 1.0
        return sol["lstm_step_forward"](x, h_prev, c_prev, wx, wh, shifted)
    verdict = _verdict("lstm_step_forward", "batch of 4, 3 -> 5 units", {**sol, "lstm_step_forward": lstm_step_forward})
    assert not verdict.passed and "forget_bias" in verdict.message


def test_solution_passes_every_public_case_in_process(sol):
    for case in ASSIGNMENTS[NAME].public_cases():
        verdict = _verdict(case.unit, case.name, sol)
        assert verdict.passed, verdict.message

# ----------------------------------------------------------------------------- the long-range task and the benchmark

TRAINING = """
import json, sys
sys.path[:0] = [{root!r}, {tests!r}]
from conftest import solution_namespace
namespace = solution_namespace("08_lstm")
_, lstm = namespace["train_long_range"]("lstm", forget_bias=5.0)
_, rnn = namespace["train_long_range"]("rnn")
print(json.dumps({{"lstm": lstm["accuracy"], "rnn": rnn["accuracy"], "tf": "tensorflow" in sys.modules}}))
"""


@pytest.mark.slow
def test_lstm_learns_the_first_symbol_and_the_simple_rnn_does_not():
    """The notebook's comparison, its seeds and budget, in a process without TensorFlow and with one BLAS
    thread, as in the notebook (TensorFlow in the process, or BLAS threads on a busy machine, cost 5x)."""
    code = TRAINING.format(root=str(ROOT), tests=str(ROOT / "tests"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    accuracies = json.loads(result.stdout.strip().splitlines()[-1])
    assert not accuracies["tf"]
    assert accuracies["lstm"][-1] >= 0.95
    assert max(accuracies["rnn"]) <= 0.35


@pytest.mark.slow
def test_benchmark_prints_the_ratio():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "lstm.py"), "--rounds", "2", "--repeats", "3"],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ratio NumPy / Keras:" in result.stdout
