"""Assignment 07 (rnn_bptt): the Keras references, the solution, the cases' messages and the experiments.

The references are checked against the solution notebook's units and both against central
differences, so a wrong reference cannot hide behind a solution written to match it.
"""

from __future__ import annotations


import numpy as np
import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.engine.sandboxed import wire, worker
from dlcourse.autograder.engine.compare import judge
from conftest import solution_namespace
from dlcourse.gradcheck import central_difference
from dlcourse.references import rnn_bptt as ref

NAME = "07_rnn_bptt"


@pytest.fixture(scope="module")
def sol():
    return solution_namespace(NAME)


def _problem(rng, n=3, t=7, d=4, h=5, scale=1.0):
    return (rng.normal(size=(n, t, d)), np.tanh(rng.normal(size=(n, h))), rng.normal(size=(d, h)) / np.sqrt(d),
            scale * rng.normal(size=(h, h)) / np.sqrt(h), rng.normal(size=h) * 0.5)



# ----------------------------------------------------------------------------- references against the solution

@pytest.mark.parametrize("steps", [1, 2, 13, 50])
def test_simple_rnn_reference_matches_the_solution(sol, steps):
    rng = np.random.default_rng(steps)
    x, h0, wx, wh, b = _problem(rng, t=steps)
    dout = rng.normal(size=(3, steps, 5))
    h, cache = sol["rnn_forward"](x, h0, wx, wh, b)
    np.testing.assert_allclose(h, ref.rnn_forward(x, h0, wx, wh, b)["h"], rtol=1e-10, atol=1e-12)
    expected = ref.rnn_backward(x, h0, wx, wh, b, dout)
    for name, value in zip(("dx", "dh0", "dwx", "dwh", "db"), sol["rnn_backward"](dout, cache)):
        np.testing.assert_allclose(value, expected[name], rtol=1e-9, atol=1e-11, err_msg=name)


def test_the_initial_state_matters_in_the_reference(sol):
    """A reference that ignored initial_state would agree with zeros; it must not."""
    x, h0, wx, wh, b = _problem(np.random.default_rng(3))
    with_state = ref.rnn_forward(x, h0, wx, wh, b)["h"]
    assert not np.allclose(with_state, ref.rnn_forward(x, 0 * h0, wx, wh, b)["h"])
    np.testing.assert_allclose(with_state[:, 0], np.tanh(x[:, 0] @ wx + h0 @ wh + b), rtol=1e-12)


def test_step_references_match_the_solution(sol):
    rng = np.random.default_rng(5)
    x, h_prev, wx, wh, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 6)), rng.normal(size=(3, 6)), \
        rng.normal(size=(6, 6)) / 3, rng.normal(size=6)
    dout = rng.normal(size=(4, 6))
    h_next, cache = sol["rnn_step_forward"](x, h_prev, wx, wh, b)
    np.testing.assert_allclose(h_next, ref.rnn_step_forward(x, h_prev, wx, wh, b)["h_next"], rtol=1e-12)
    expected = ref.rnn_step_backward(x, h_prev, wx, wh, b, dout)
    for name, value in zip(("dx", "dh_prev", "dwx", "dwh", "db"), sol["rnn_step_backward"](dout, cache)):
        np.testing.assert_allclose(value, expected[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_bptt_matches_central_differences(sol):
    """Independent of Keras: every gradient of the solution against numerical differentiation."""
    rng = np.random.default_rng(7)
    args = list(_problem(rng, n=2, t=5, d=3, h=4))
    g = rng.normal(size=(2, 5, 4))
    _, cache = sol["rnn_forward"](*args)
    grads = sol["rnn_backward"](g, cache)
    for position, grad in enumerate(grads):
        def loss(value, position=position):
            changed = list(args)
            changed[position] = value
            return float(np.sum(sol["rnn_forward"](*changed)[0] * g))
        np.testing.assert_allclose(grad, central_difference(loss, args[position]), rtol=1e-6, atol=1e-8)


def test_gradient_norms_reference_matches_the_solution_and_differences(sol):
    rng = np.random.default_rng(11)
    x, h0, wx, wh, b = _problem(rng, n=2, t=9, d=3, h=4)
    norms = ref.gradient_norms_by_distance(x, h0, wx, wh, b)["norms"]
    np.testing.assert_allclose(sol["gradient_norms_by_distance"](x, h0, wx, wh, b), norms, rtol=1e-9)
    last = central_difference(lambda v: float(np.sum(sol["rnn_forward"](v, h0, wx, wh, b)[0][:, -1])), x)
    np.testing.assert_allclose(norms, np.linalg.norm(last, axis=(0, 2))[::-1], rtol=1e-6)


def test_inputs_are_not_changed(sol):
    rng = np.random.default_rng(2)
    args = _problem(rng)
    copies = [a.copy() for a in args]
    h, cache = sol["rnn_forward"](*args)
    dout = rng.normal(size=h.shape)
    dout_copy = dout.copy()
    sol["rnn_backward"](dout, cache)
    for a, c in zip(args + (dout,), copies + [dout_copy]):
        np.testing.assert_array_equal(a, c)


# ----------------------------------------------------------------------------- clipping: TensorFlow's semantics

def test_clip_reference_follows_tensorflow_semantics():
    g = [np.array([3.0, 4.0]), None, np.array([[12.0]])]
    result = ref.clip_by_global_norm(g, 6.5)
    assert result["global_norm"] == pytest.approx(13.0)
    assert result["clipped"][1] is None
    np.testing.assert_allclose(result["clipped"][0], [1.5, 2.0])
    below = ref.clip_by_global_norm([np.array([0.3, 0.4])], 1.0)
    np.testing.assert_allclose(below["clipped"][0], [0.3, 0.4], rtol=1e-15)
    broken = ref.clip_by_global_norm([np.array([1.0, np.inf]), np.array([2.0])], 1.0)
    assert np.isinf(broken["global_norm"]) and all(np.isnan(c).all() for c in broken["clipped"])


@pytest.mark.parametrize("grads, clip_norm", [
    ([np.array([3.0, 4.0]), None, np.array([[12.0]])], 6.5),
    ([np.arange(6.0).reshape(2, 3), np.array(2.0)], 100.0),
    ([np.array([1.0, np.inf]), np.array([2.0])], 1.0),
    ([np.array([np.nan]), None], 1.0),
    ([np.zeros(3)], 1.0),
])
def test_clip_solution_matches_the_reference(sol, grads, clip_norm):
    expected = ref.clip_by_global_norm(grads, clip_norm)
    originals = [None if g is None else g.copy() for g in grads]
    clipped, norm = sol["clip_by_global_norm"](grads, clip_norm)
    np.testing.assert_allclose(norm, expected["global_norm"], rtol=1e-12)
    for got, want in zip(clipped, expected["clipped"]):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
    for g, original in zip(grads, originals):
        if g is not None:
            np.testing.assert_array_equal(g, original)


@pytest.mark.parametrize("clip_norm", [0.0, -1.0, "1"])
def test_clip_rejects_a_bad_threshold(sol, clip_norm):
    with pytest.raises(ValueError, match="clip_norm"):
        sol["clip_by_global_norm"]([np.ones(2)], clip_norm)


def test_rnn_forward_rejects_bad_shapes(sol):
    x, h0, wx, wh, b = _problem(np.random.default_rng(0))
    with pytest.raises(ValueError, match="x"):
        sol["rnn_forward"](x[:, 0], h0, wx, wh, b)
    with pytest.raises(ValueError, match="h0"):
        sol["rnn_forward"](x, h0[:, :2], wx, wh, b)


# ----------------------------------------------------------------------------- messages of the cases

def _verdict(unit, case_name, namespace):
    case = next(c for c in ASSIGNMENTS[NAME].cases if c.unit == unit and c.name == case_name)
    inputs = case.make_inputs(None)
    reply = wire.decode(wire.encode(worker.run_case(namespace, wire.decode(wire.encode(case.request(inputs))))))
    return judge(case, inputs, lambda: case.reference(**inputs), reply)


def _with(sol, **overrides):
    return {**sol, **overrides}


def test_a_transposed_recurrent_kernel_is_named(sol):
    def rnn_forward(x, h0, wx, wh, b):
        return sol["rnn_forward"](x, h0, wx, wh.T, b)
    verdict = _verdict("rnn_forward", "T=6, batch of 2, 3 -> 4", _with(sol, rnn_forward=rnn_forward))
    assert not verdict.passed and "recurrent kernel is used transposed" in verdict.message


def test_bptt_without_the_carried_gradient_is_named(sol):
    def rnn_backward(dh, cache):
        xt, wx, wh, hs = cache
        da = dh.transpose(1, 0, 2) * (1 - hs[1:] ** 2)       # each step on its own: no carry
        t, n, d = xt.shape
        flat = da.reshape(-1, wh.shape[0])
        return ((flat @ wx.T).reshape(t, n, d).transpose(1, 0, 2), da[0] @ wh.T, xt.reshape(-1, d).T @ flat,
                hs[:-1].reshape(-1, wh.shape[0]).T @ flat, flat.sum(axis=0))
    verdict = _verdict("rnn_backward", "T=6, batch of 2, 3 -> 4", _with(sol, rnn_backward=rnn_backward))
    assert not verdict.passed and "not carried back through time" in verdict.message


def test_reversed_distance_order_is_named(sol):
    def gradient_norms_by_distance(*args):
        return sol["gradient_norms_by_distance"](*args)[::-1]
    verdict = _verdict("gradient_norms_by_distance", "T=12, batch of 3, 2 -> 6",
                       _with(sol, gradient_norms_by_distance=gradient_norms_by_distance))
    assert not verdict.passed and "time order" in verdict.message


def test_per_tensor_clipping_and_nan_rules_are_named(sol):
    def per_tensor(grads, clip_norm):
        norm = float(np.sqrt(sum(np.sum(g * g) for g in grads if g is not None)))
        return [None if g is None else g * min(1.0, clip_norm / np.linalg.norm(g)) for g in grads], norm
    verdict = _verdict("clip_by_global_norm", "norm above the threshold", _with(sol, clip_by_global_norm=per_tensor))
    assert not verdict.passed and "its own norm" in verdict.message

    def zeroes_on_inf(grads, clip_norm):
        norm = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
        with np.errstate(invalid="ignore"):
            return [g * (clip_norm / max(norm, clip_norm)) for g in grads], norm
    verdict = _verdict("clip_by_global_norm", "an infinite entry", _with(sol, clip_by_global_norm=zeroes_on_inf))
    assert not verdict.passed and "NaN" in verdict.message



def test_tanh_derivative_at_the_previous_state_is_named(sol):
    """An index off by one among the stored states: tanh' taken at h_{t-1} instead of h_t."""
    def rnn_backward(dh, cache):
        xt, wx, wh, hs = cache
        steps, n, d = xt.shape
        da, carry = np.empty((steps, n, wh.shape[0])), np.zeros((n, wh.shape[0]))
        for t in range(steps - 1, -1, -1):
            da[t] = (dh[:, t] + carry) * (1.0 - hs[t] ** 2)  # hs[t] is h_{t-1}; h_t is hs[t + 1]
            carry = da[t] @ wh.T
        flat = da.reshape(-1, wh.shape[0])
        return ((flat @ wx.T).reshape(steps, n, d).transpose(1, 0, 2), carry, xt.reshape(-1, d).T @ flat,
                hs[:-1].reshape(-1, wh.shape[0]).T @ flat, flat.sum(axis=0))

    def rnn_step_backward(dh_next, cache):
        x, h_prev, wx, wh, h_next = cache
        da = dh_next * (1.0 - h_prev ** 2)
        return da @ wx.T, da @ wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)

    for unit, case_name, wrong in (("rnn_backward", "T=6, batch of 2, 3 -> 4", rnn_backward),
                                   ("rnn_step_backward", "batch of 4, 3 -> 5", rnn_step_backward)):
        verdict = _verdict(unit, case_name, _with(sol, **{unit: wrong}))
        assert not verdict.passed
        assert "known mistake: tanh's derivative was taken at the state the step started from" in verdict.message, \
            verdict.message


def test_solution_passes_every_public_case_in_process(sol):
    for case in ASSIGNMENTS[NAME].public_cases():
        verdict = _verdict(case.unit, case.name, sol)
        assert verdict.passed, verdict.message

# ----------------------------------------------------------------------------- the experiments

def _orthogonal(n, rng):
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


def test_gradient_norms_vanish_and_explode_as_rho_to_the_distance(sol):
    rng = np.random.default_rng(1)
    n, steps, d, h = 4, 30, 3, 16
    q, wx = _orthogonal(h, rng), rng.normal(size=(d, h)) / np.sqrt(d)
    x, h0, b = 1e-5 * rng.normal(size=(n, steps, d)), np.zeros((n, h)), np.zeros(h)
    for rho in (0.5, 1.25):
        norms = sol["gradient_norms_by_distance"](x, h0, wx, rho * q, b)
        slope = np.polyfit(np.arange(steps), np.log(norms), 1)[0]
        assert slope == pytest.approx(np.log(rho), abs=0.05)
    assert sol["gradient_norms_by_distance"](x, h0, wx, 0.5 * q, b)[-1] < 1e-6 * \
        sol["gradient_norms_by_distance"](x, h0, wx, 0.5 * q, b)[0]


def test_clipping_tames_the_exploding_training_run():
    namespace = solution_namespace(NAME)  # its own copy: the notebook's data cells are not loaded, add the series
    series = namespace["mackey_glass"](6000)[1000::2]
    namespace["train_series"] = (series - series.mean()) / series.std()
    unclipped, _, _ = namespace["train_predictor"](None, iterations=60)
    clipped, norms, _ = namespace["train_predictor"](1.0, iterations=300)
    assert len(unclipped) < 60 and not unclipped[-1] < 1e3
    assert len(clipped) == 300 and clipped[-20:].mean() < 0.05 and norms.max() > 1.0


def test_a_clip_that_accepts_a_zero_threshold_fails_its_public_case():
    """The unit must raise ValueError naming clip_norm for a threshold of 0 or below, and accept a positive one."""
    (case,) = [c for c in ASSIGNMENTS[NAME].cases if c.unit == "clip_by_global_norm" and "rejected" in c.name]
    assert not case.hidden and case.points == 0.5
    inputs = case.make_inputs(None)
    solution = solution_namespace("07_rnn_bptt")
    lenient = dict(solution)
    exec(compile("def clip_by_global_norm(grads, clip_norm):\n    return grads, 0.0\n", "cell 99", "exec"), lenient)
    vague = dict(solution)
    exec(compile("_clip = clip_by_global_norm\ndef clip_by_global_norm(grads, clip_norm):\n"
                 "    if clip_norm <= 0:\n        raise ValueError('bad')\n    return _clip(grads, clip_norm)\n",
                 "cell 99", "exec"), vague)
    always = dict(solution)
    exec(compile("def clip_by_global_norm(grads, clip_norm):\n    raise ValueError(f'clip_norm={clip_norm}')\n",
                 "cell 99", "exec"), always)
    verdicts = []
    for namespace in (solution, lenient, vague, always):
        request = wire.decode(wire.encode(case.request(inputs)))
        reply = wire.decode(wire.encode(worker.run_case(namespace, request)))
        verdicts.append(judge(case, inputs, lambda: case.reference(**inputs), reply))
    assert verdicts[0].passed, verdicts[0].message
    assert not verdicts[1].passed and "was accepted" in verdicts[1].message
    assert not verdicts[2].passed and "names clip_norm" in verdicts[2].message
    assert not verdicts[3].passed and "these arguments are valid" in verdicts[3].message


@pytest.mark.parametrize("argument", ["x", "h0"])
def test_rnn_forward_rejects_a_misshapen_argument_by_name(argument):
    """The docstring's "Raises": x not 3-D, h0 not (N, H); NumPy's own errors (unpacking, broadcasting) do not
    name the argument, and a broadcast h0 raises nothing."""
    (case,) = [c for c in ASSIGNMENTS[NAME].cases if c.unit == "rnn_forward" and c.name.startswith(f"{argument} of")]
    inputs = case.make_inputs(None)
    solution = solution_namespace(NAME)
    unchecked = dict(solution)
    exec(compile("def rnn_forward(x, h0, wx, wh, b):\n    n, steps, d = x.shape\n    h = np.empty((n, steps, wh.shape[0]))\n"
                 "    h[:, 0] = h0\n    return h, None\n", "cell 99", "exec"), unchecked)
    verdicts = []
    for namespace in (solution, unchecked):
        request = wire.decode(wire.encode(case.request(inputs)))
        reply = wire.decode(wire.encode(worker.run_case(namespace, request)))
        verdicts.append(judge(case, inputs, lambda: case.reference(**inputs), reply))
    assert verdicts[0].passed, verdicts[0].message
    assert not verdicts[1].passed, verdicts[1].message
    assert (f"was accepted; raise ValueError when {argument} is invalid" in verdicts[1].message
            or f"raise ValueError with a message that names {argument}" in verdicts[1].message), verdicts[1].message
