"""The 01 references agree with central differences and with the solution, case by case."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.autograder.cases.backprop import ASSIGNMENT
from dlcourse.autograder.engine.runner import CaseRunner, in_process
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


@pytest.mark.parametrize("case", [c for c in ASSIGNMENT.cases if c.driver.name == "call" and c.unit != "train_mlp"],
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


# ----------------------------------------------------------------------------- mistakes named (issue 26)

def _public_messages(namespace, unit, source):
    """``unit``'s public verdicts, run as ``check()`` runs them, on the solution with ``source`` executed over it."""
    changed = dict(namespace)
    exec(compile(source, "cell 99", "exec"), changed)  # the test's own wrong answers
    runner = CaseRunner(in_process(changed), lambda case, inputs: case.reference(**inputs))
    return [runner.verdict(case) for case in ASSIGNMENT.public_cases() if case.unit == unit]


WRONG = [
    ("softmax_crossentropy", "import numpy as np\ndef softmax_crossentropy(logits, labels):\n    n = logits.shape[0]\n"
     "    shifted = logits - logits.max(axis=0, keepdims=True)\n"
     "    probs = np.exp(shifted) / np.exp(shifted).sum(axis=0, keepdims=True)\n"
     "    loss = -np.log(probs[np.arange(n), labels]).mean()\n    dlogits = probs.copy()\n"
     "    dlogits[np.arange(n), labels] -= 1\n    return loss, dlogits / n\n",
     "the softmax is normalised along axis 0"),
    ("binary_crossentropy", "import numpy as np\ndef binary_crossentropy(logits, y):\n    y = 1 - y\n"
     "    loss = np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits))))\n"
     "    return loss, (1 / (1 + np.exp(-logits)) - y) / len(y)\n", "y and 1 - y are swapped: the loss"),
    ("binary_crossentropy", "import numpy as np\ndef binary_crossentropy(logits, y):\n    p = 1 / (1 + np.exp(-logits))\n"
     "    loss = -np.mean((1 - y) * np.log(p) + y * np.log(1 - p))\n    return loss, (p - y) / len(y)\n",
     "y and 1 - y are swapped in the loss (the gradient is right)"),
    ("dense_backward", "def dense_backward(dout, cache):\n    x, w = cache\n"
     "    return dout @ w.T, x.T @ dout / x.shape[0], dout.sum(axis=0)\n", "dw is divided by the batch size N"),
    ("sigmoid_backward", "def sigmoid_backward(dout, cache):\n    return cache * (1 - cache)\n", "dout is not multiplied"),
    ("sigmoid_backward", "import numpy as np\ndef sigmoid_backward(dout, cache):\n    s = 1 / (1 + np.exp(-cache))\n"
     "    return dout * s * (1 - s)\n", "sigmoid was applied to the cached output again"),
    ("relu_backward", "def relu_backward(dout, cache):\n    return (cache > 0).astype(float)\n", "dout is not multiplied"),
    ("tanh_backward", "def tanh_backward(dout, cache):\n    return 1 - cache ** 2\n", "dout is not multiplied"),
    ("tanh_backward", "import numpy as np\ndef tanh_backward(dout, cache):\n    return dout * (1 - np.tanh(cache) ** 2)\n",
     "tanh applied again"),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0) in the wrong losses at logits of +-100
@pytest.mark.parametrize("unit, source, mistake", WRONG, ids=[f"{unit}: {name}" for unit, _, name in WRONG])
def test_more_known_mistakes_are_named(unit, source, mistake):
    """Each wrong unit fails its public cases, and every failure that names a mistake names this one."""
    failing = [v.message for v in _public_messages(solution_namespace("01_backprop"), unit, source) if not v.passed]
    assert failing, f"{unit} should have failed"
    assert any(f"This matches a known mistake: {mistake}" in message for message in failing), failing
    assert all(mistake in message for message in failing if "known mistake" in message), failing



# ----------------------------------------------------------------------------- cases the mutation audit asked for (issue 28)

@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0): the rows shifted far below their maximum
def test_a_shift_by_the_whole_arrays_maximum_fails_only_on_rows_far_apart():
    """Softmax is unchanged by any shift, so logits.max() for each row's maximum agrees wherever the rows are close;
    rows 2000 apart underflow to exp(...) = 0 and log(0)."""
    source = ("import numpy as np\ndef softmax_crossentropy(logits, labels):\n    n = logits.shape[0]\n"
              "    shifted = logits - logits.max(keepdims=True)\n"
              "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n"
              "    dlogits = np.exp(log_probs)\n    dlogits[np.arange(n), labels] -= 1.0\n"
              "    return -log_probs[np.arange(n), labels].mean(), dlogits / n\n")
    names = [c.name for c in ASSIGNMENT.public_cases() if c.unit == "softmax_crossentropy"]
    verdicts = dict(zip(names, _public_messages(solution_namespace("01_backprop"), "softmax_crossentropy", source)))
    failing = {name: verdict.message for name, verdict in verdicts.items() if not verdict.passed}
    assert list(failing) == ["rows far apart: logits near 1000, -1000 and 0"], failing
    assert "subtract each row's maximum" in next(iter(failing.values()))


def test_an_integer_point_needs_a_float_copy():
    """numerical_gradient working on x itself, or on a copy that keeps its int dtype, rounds x + h back to an
    integer: only the integer-point case sees it (the float cases are restored exactly)."""
    source = ("import numpy as np\ndef numerical_gradient(f, x, h=1e-5):\n    x = np.array(x)\n"
              "    grad = np.zeros_like(x)\n    for index in np.ndindex(x.shape):\n        original = x[index]\n"
              "        x[index] = original + h\n        plus = f(x)\n        x[index] = original - h\n"
              "        minus = f(x)\n        x[index] = original\n        grad[index] = (plus - minus) / (2 * h)\n"
              "    return grad\n")
    verdicts = dict(zip([c.name for c in ASSIGNMENT.public_cases() if c.unit == "numerical_gradient"],
                        _public_messages(solution_namespace("01_backprop"), "numerical_gradient", source)))
    failing = {name: verdict.message for name, verdict in verdicts.items() if not verdict.passed}
    assert list(failing) == ["an integer point: x an int64 (2, 3) array, h=0.0001"], failing
    assert "work on a float copy" in next(iter(failing.values()))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_trainer_that_ignores_its_seed_is_not_reproducible():
    """train_mlp drawing from a generator of its own (the notebook's global `rng`, say) still trains, but the
    same seed twice gives different params: the training case fails and says why."""
    source = ("import numpy as np\n_trained, _draws = train_mlp, np.random.default_rng(0)\n"
              "def train_mlp(x, y, seed=0, epochs=EPOCHS, learning_rate=LEARNING_RATE, history=None):\n"
              "    return _trained(x, y, int(_draws.integers(1000)), epochs, learning_rate, history)\n")
    (verdict,) = _public_messages(solution_namespace("01_backprop"), "train_mlp", source)
    assert not verdict.passed and "train_mlp is not reproducible" in verdict.message, verdict.message
    (verdict,) = _public_messages(solution_namespace("01_backprop"), "train_mlp", "")
    assert verdict.passed, verdict.message
