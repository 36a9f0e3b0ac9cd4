"""The 01 references agree with central differences and with the solution, case by case."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.autograder.cases.backprop import ASSIGNMENT
from conftest import TEST_SECRET, solution_namespace
from dlcourse.gradcheck import central_difference, relative_error
from dlcourse.references import backprop as ref

rng = np.random.default_rng(7)


def test_dense_gradients_match_central_differences():
    x, w, b, dout = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=2), rng.normal(size=(3, 2))
    grads = ref.dense_backward(x, w, b, dout)
    objective = lambda x_, w_, b_: float(np.sum(ref.dense_forward(x_, w_, b_)["out"] * dout))  # noqa: E731
    assert relative_error(grads["dx"], central_difference(lambda v: objective(v, w, b), x)) < 1e-7
    assert relative_error(grads["dw"], central_difference(lambda v: objective(x, v, b), w)) < 1e-7
    assert relative_error(grads["db"], central_difference(lambda v: objective(x, w, v), b)) < 1e-7


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh"])
def test_activation_gradients_match_central_differences(name):
    x = rng.normal(size=(3, 4)) + 0.05  # away from ReLU's kink
    dout = rng.normal(size=x.shape)
    dx = ref.activation_backward(name, x, dout)["dx"]
    numeric = central_difference(lambda v: float(np.sum(ref.activation_forward(name, v)["out"] * dout)), x)
    assert relative_error(dx, numeric) < 1e-6


def test_loss_gradients_match_central_differences():
    logits, y = rng.normal(size=7) * 3, rng.integers(0, 2, size=7).astype(float)
    bce = ref.binary_crossentropy(logits, y)
    numeric = central_difference(lambda z: float(ref.binary_crossentropy(z, y)["loss"]), logits)
    assert relative_error(bce["dlogits"], numeric) < 1e-6
    logits, labels = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    sce = ref.softmax_crossentropy(logits, labels)
    numeric = central_difference(lambda z: float(ref.softmax_crossentropy(z, labels)["loss"]), logits)
    assert relative_error(sce["dlogits"], numeric) < 1e-6


def test_mlp_gradients_match_central_differences():
    params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4), "W2": rng.normal(size=(4, 3)),
              "b2": rng.normal(size=3)}
    x, y = rng.normal(size=(5, 3)), rng.integers(0, 3, size=5)
    grads = ref.mlp_loss_and_grads(params, x, y)["grads"]
    for name in params:
        numeric = central_difference(
            lambda v, name=name: float(ref.mlp_loss_and_grads({**params, name: v}, x, y)["loss"]), params[name])
        assert relative_error(grads[name], numeric) < 1e-6, name


def test_the_numerical_gradient_reference_is_the_exact_gradient():
    x, c, d = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    exact = c * np.cos(x) + d * x**2 + np.sum(x)
    assert relative_error(ref.cubic_sine_gradient(x, c, d)["grad"], exact) < 1e-12


def test_stable_losses_have_no_nan_at_extreme_logits():
    result = ref.binary_crossentropy(np.array([100.0, -100.0, 800.0]), np.array([0.0, 1.0, 1.0]))
    assert np.isfinite(result["loss"]) and np.isfinite(result["dlogits"]).all()


@pytest.mark.parametrize("case", [c for c in ASSIGNMENT.cases if c.driver == "call" and c.unit != "train_mlp"],
                         ids=lambda c: c.id)
def test_references_agree_with_the_solution_on_every_case(case):
    """Two independent computations of each case, hidden ones included: Keras and the solution."""
    solution = solution_namespace("01_backprop")
    inputs = case.make_inputs(TEST_SECRET)
    expected = case.reference(**inputs)
    value = solution[case.unit](*inputs.values())
    received = dict(zip(case.outputs, value if len(case.outputs) > 1 else (value,)))
    for name, want in expected.items():
        got = received[name]
        if isinstance(want, dict):
            for key in want:
                np.testing.assert_allclose(got[key], want[key], rtol=1e-9, atol=1e-12)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_held_out_accuracy_reference_counts_correct_predictions():
    params = {"W1": np.eye(3), "b1": np.zeros(3), "W2": np.eye(3) * 10, "b2": np.zeros(3)}
    x = np.eye(3)
    assert ref.mlp_accuracy(params, x, np.array([0, 1, 2])) == 1.0
    assert ref.mlp_accuracy(params, x, np.array([1, 1, 1])) == pytest.approx(1 / 3)


def test_the_numpy_mlp_forward_pass_is_the_keras_models():
    """Held-out accuracy uses ``mlp_logits`` (no Keras import): it must be the Keras model's forward pass."""
    rng = np.random.default_rng(3)
    sizes = [64, 32, 16, 10]
    params = {}
    for index, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        params[f"W{index}"] = rng.normal(0, 2.0, size=(fan_in, fan_out))  # large: saturated sigmoids too
        params[f"b{index}"] = rng.normal(size=fan_out)
    x = rng.normal(size=(50, 64)) * 4
    model, weights = ref._mlp(params, x.shape[1])
    keras_logits, _ = model.stateless_call(weights, [], x)
    np.testing.assert_allclose(ref.mlp_logits(params, x), np.asarray(keras_logits), rtol=1e-12, atol=1e-12)
