"""Messages a student can act on: unit, quantity, what kind of wrong, expected and received values."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.autograder.cases.backprop import ASSIGNMENT
from dlcourse.autograder.engine.sandboxed import worker
from dlcourse.autograder.engine.compare import judge
from dlcourse.autograder.engine.extract import kept_statements
from dlcourse.autograder.engine.runner import CaseRunner, in_process
from conftest import SOLUTIONS, TEST_SECRET, code_cell, solution_namespace, write_variant


@pytest.fixture(scope="module")
def solution():
    return solution_namespace("01_backprop")


def verdicts(reference_cache, namespace, unit, source=None, hidden=False):
    """Grade ``unit`` in-process (the path of ``check()``), after executing ``source`` over the solution."""
    namespace = dict(namespace)
    if source:
        statements = [[line, text] for line, text, _ in kept_statements(source, "cell 99")]
        defined = worker.load([{"label": "cell 99", "statements": statements}])["namespace"]
        namespace.update({key: value for key, value in defined.items() if not key.startswith("__")})
    runner = CaseRunner(in_process(namespace), reference_cache.expected, secret=TEST_SECRET)
    return [runner.verdict(case) for case in ASSIGNMENT.cases if case.unit == unit and case.hidden == hidden]


def first_message(reference_cache, solution, unit, source, hidden=False):
    failing = [v for v in verdicts(reference_cache, solution, unit, source, hidden) if not v.passed]
    assert failing, f"{unit} should have failed"
    return failing[0].message


def test_wrong_shape_is_called_out_with_both_shapes_and_the_case_arguments(reference_cache, solution):
    message = first_message(reference_cache, solution, "dense_forward", """
def dense_forward(x, w, b):
    return (x @ w + b).T, None
""")
    assert "dense_forward, out: wrong shape: expected (4, 3), received (3, 4) (transposed?)" in message
    assert "public case 'batch of 4, 5 -> 3': x.shape=(4, 5), w.shape=(5, 3), b.shape=(3,)" in message


def test_wrong_dtype_is_called_out(reference_cache, solution):
    message = first_message(reference_cache, solution, "relu_forward", """
import numpy as np
def relu_forward(x):
    return np.maximum(x, 0).astype(np.int64), x
""")
    assert "out: wrong dtype: expected floating point values, received dtype int64" in message


def test_wrong_type_is_called_out(reference_cache, solution):
    message = first_message(reference_cache, solution, "tanh_forward", """
import numpy as np
def tanh_forward(x):
    return np.tanh(x).tolist(), None
""")
    assert "out: expected a NumPy array of shape (5, 4), received a list of 5 values" in message


def test_missing_return_is_called_out(reference_cache, solution):
    message = first_message(reference_cache, solution, "sigmoid_backward", """
def sigmoid_backward(dout, cache):
    dx = dout * cache * (1 - cache)
""")
    assert "received None (did the function forget to `return`?)" in message


def test_nan_is_called_out_with_its_position(reference_cache, solution):
    messages = [v.message for v in verdicts(reference_cache, solution, "softmax_crossentropy", """
import numpy as np
def softmax_crossentropy(logits, labels):
    n = logits.shape[0]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(n), labels]).mean()
    probs[np.arange(n), labels] -= 1
    return loss, probs / n
""") if not v.passed]
    # moderate logits pass; the cases near 1000 overflow (logits near 1000, and rows far apart)
    assert len(messages) == 2 and "rows far apart" in messages[1]
    assert "contains NaN" in messages[0] and "first at index" in messages[0]
    assert "logits near 1000" in messages[0] and "subtract each row's maximum" in messages[0]


def test_wrong_values_give_max_errors_worst_index_and_both_values(reference_cache, solution):
    message = first_message(reference_cache, solution, "dense_forward", """
def dense_forward(x, w, b):
    out = x @ w + b
    out[2, 1] += 0.5
    return out, None
""")
    assert "out: wrong values in 1 of 12 entries; max abs error 0.5 at index (2, 1) (expected " in message
    assert "max rel error" in message and "tolerance rtol=1e-06" in message


def test_hidden_cases_reveal_nothing_of_their_inputs(reference_cache, solution):
    message = first_message(reference_cache, solution, "dense_forward", """
def dense_forward(x, w, b):
    return x @ w + b + 1.0, None
""", hidden=True)
    assert "hidden case 'random shape': its inputs are not shown" in message
    assert "shape=" not in message and "index" not in message and "expected " not in message


def test_a_crash_shows_the_students_traceback_only(grader, tmp_path):
    path = write_variant(tmp_path, SOLUTIONS / "01_backprop.ipynb", lambda nb: nb["cells"].append(code_cell(
        "def helper(x):\n    return x[10]\n\ndef relu_forward(x):\n    return helper(x), x\n")))
    result = grader.grade(path)
    message = next(r.verdict.message for r in result.results if r.case.unit == "relu_forward")
    assert "relu_forward raised IndexError" in message
    assert "in relu_forward" in message and "in helper" in message and ", line 2, in helper" in message
    assert "worker.py" not in message and "autograder" not in message


def test_in_place_changes_are_named(reference_cache, solution):
    message = first_message(reference_cache, solution, "relu_forward", """
def relu_forward(x):
    x[x < 0] = 0
    return x, x
""")
    assert "relu_forward changed its input `x` in place" in message


@pytest.mark.parametrize("unit, source, mistake", [
    ("dense_backward", "def dense_backward(dout, cache):\n    x, w = cache\n    return dout @ w.T, x.T @ dout, dout.mean(axis=0)\n",
     "db averages over the batch"),
    ("relu_backward", "def relu_backward(dout, cache):\n    return dout * (cache >= 0)\n", "x == 0 counted as active"),
    ("tanh_backward", "import numpy as np\ndef tanh_forward(x):\n    return np.tanh(x), x\n"
     "def tanh_backward(dout, cache):\n    return dout * (1 - cache ** 2)\n",
     "1 - x**2 was used"),
    ("binary_crossentropy", "import numpy as np\ndef binary_crossentropy(logits, y):\n"
     "    loss = np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits))))\n"
     "    return loss, 1 / (1 + np.exp(-logits)) - y\n", "dlogits is not divided by the batch size"),
    ("binary_crossentropy", "import numpy as np\ndef binary_crossentropy(logits, y):\n"
     "    p = 1 / (1 + np.exp(-logits))\n    loss = -np.mean(y * np.log(p + 1e-8) + (1 - y) * np.log(1 - p + 1e-8))\n"
     "    return loss, (p - y) / len(y)\n", "the loss was computed from probabilities as -log(p + eps) with eps = 1e-08"),
    ("numerical_gradient", "import numpy as np\ndef numerical_gradient(f, x, h=1e-5):\n    x = x.copy(); g = np.zeros_like(x); fx = f(x)\n"
     "    for i in np.ndindex(x.shape):\n        old = x[i]; x[i] = old + h; g[i] = (f(x) - fx) / h; x[i] = old\n    return g\n",
     "a one-sided difference"),
    ("dense_forward", "def dense_forward(x, w, b):\n    return x @ w, (x, w)\n", "the bias `b` is not added"),
])
def test_known_mistakes_are_named(reference_cache, solution, unit, source, mistake):
    message = first_message(reference_cache, solution, unit, source)
    assert f"This matches a known mistake: {mistake}" in message


def test_sandbox_and_notebook_check_give_the_same_message(grader, reference_cache, solution, tmp_path):
    source = "def dense_backward(dout, cache):\n    x, w = cache\n    return dout @ w.T, x.T @ dout, dout.mean(axis=0)\n"
    path = write_variant(tmp_path, SOLUTIONS / "01_backprop.ipynb", lambda nb: nb["cells"].append(code_cell(source)))
    sandboxed = next(r.verdict.message for r in grader.grade(path).results
                     if r.case.unit == "dense_backward" and not r.verdict.passed)
    assert sandboxed == first_message(reference_cache, solution, "dense_backward", source)


# ----------------------------------------------------------------------------- values compare by meaning, not type

def _public_verdicts(module, namespace, unit, source):
    """``unit``'s public cases on the solution with ``source`` executed over it, through the check path."""
    changed = dict(namespace)
    exec(compile(source, "cell 99", "exec"), changed)  # the test's own variants
    runner = CaseRunner(in_process(changed), lambda case, inputs: case.reference(**inputs))
    found = [runner.verdict(case) for case in module.ASSIGNMENT.public_cases() if case.unit == unit]
    assert found
    return found


def test_numpy_integer_fans_get_full_marks():
    from dlcourse.autograder.cases import initialization
    source = ("import numpy as np\ndef compute_fans(shape):\n"
              "    if any(int(d) != d or d < 0 for d in shape):\n"
              "        raise ValueError(f'Expected non-negative integer dimensions. Received shape={shape!r}.')\n"
              "    shape = np.array(shape, dtype=np.int64)\n"
              "    if shape.size == 0:\n        return np.int64(1), np.int64(1)\n"
              "    if shape.size == 1:\n        return shape[0], shape[0]\n"
              "    field = np.prod(shape[:-2])\n    return shape[-2] * field, shape[-1] * field\n")
    verdicts = _public_verdicts(initialization, solution_namespace("02_initialization"), "compute_fans", source)
    assert all(verdict.passed for verdict in verdicts), [verdict.message for verdict in verdicts]


def test_an_optimizer_counting_steps_in_a_numpy_integer_gets_full_marks():
    from dlcourse.autograder.cases import optimization
    source = ("import numpy as np\ndef adam(w, dw, config=None):\n"
              "    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)\n"
              "    t = config.get('t', np.int64(0)) + np.int64(1)\n"
              "    m = config['beta_1'] * config.get('m', np.zeros_like(w)) + (1 - config['beta_1']) * dw\n"
              "    v = config['beta_2'] * config.get('v', np.zeros_like(w)) + (1 - config['beta_2']) * dw * dw\n"
              "    alpha = config['learning_rate'] * np.sqrt(1 - config['beta_2']**t) / (1 - config['beta_1']**t)\n"
              "    config['m'], config['v'], config['t'] = m, v, t\n"
              "    return w - alpha * m / (np.sqrt(v) + config['epsilon']), config\n")
    verdicts = _public_verdicts(optimization, solution_namespace("03_optimization"), "adam", source)
    assert all(verdict.passed for verdict in verdicts), [verdict.message for verdict in verdicts]


def test_a_float32_result_is_told_it_is_float32_rounding_and_how_to_keep_float64(solution):
    from dlcourse.autograder.cases import backprop
    source = ("import numpy as np\ndef dense_forward(x, w, b):\n"
              "    x, w, b = (a.astype(np.float32) for a in (x, w, b))\n    return x @ w + b, (x, w)\n")
    verdicts = _public_verdicts(backprop, solution, "dense_forward", source)
    assert verdicts and not any(v.passed for v in verdicts)  # every case: the float policy (test_compare.py)
    message = verdicts[0].message
    assert "dense_forward, out: wrong dtype: expected float64, received float32 (its values agree with the expected " \
           "ones to float32 rounding: only the dtype is wrong)" in message, message
    assert "graded in float64: given float64 inputs, its results must be float64, whatever their values. Keep " \
           "float64: no .astype(np.float32)" in message


# ----------------------------------------------------------------------------- a mistake is named only when it fits

def test_a_wrong_dx_on_a_batch_of_one_is_not_called_db_averaging(reference_cache, solution):
    found = verdicts(reference_cache, solution, "dense_backward", """
def dense_backward(dout, cache):
    x, w = cache
    return 2 * dout @ w.T, x.T @ dout, dout.sum(axis=0)
""")
    failing = [verdict.message for verdict in found if not verdict.passed]
    assert len(failing) == 2 and all("dx: wrong values" in message for message in failing)
    assert not any("db averages" in message for message in failing), failing


def test_several_matching_mistakes_are_all_named():
    from dlcourse.autograder.engine.case import Case, Mistake
    case = Case("f", "one", lambda rng: {"x": np.ones(2)}, lambda x: {"y": x}, ("y",),
                mistakes=(Mistake("used fan_in", lambda i, e: {"y": i["x"] * 2}),
                          Mistake("used fan_out", lambda i, e: {"y": i["x"] * 2}),
                          Mistake("no change", lambda i, e: {"y": i["x"]})))
    inputs = {"x": np.ones(2)}
    verdict = judge(case, inputs, lambda: case.reference(**inputs), {"status": "ok", "value": np.full(2, 2.0)})
    assert "This matches a known mistake: used fan_in; or used fan_out (this case cannot tell these apart)." \
        in verdict.message, verdict.message
    assert "no change" not in verdict.message


ADAM_FROM_ONE = """
import numpy as np
def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    t = config.get("t", 1) + 1
    m = config["beta_1"] * config.get("m", np.zeros_like(w)) + (1 - config["beta_1"]) * dw
    v = config["beta_2"] * config.get("v", np.zeros_like(w)) + (1 - config["beta_2"]) * dw * dw
    alpha = config["learning_rate"] * np.sqrt(1 - config["beta_2"]**t) / (1 - config["beta_1"]**t)
    config["m"], config["v"], config["t"] = m, v, t
    return w - alpha * m / (np.sqrt(v) + config["epsilon"]), config
"""

MOVING_AVERAGE_MOMENTUM = """
import numpy as np
def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) + (1 - config["momentum"]) * dw
    config["velocity"] = v
    return w - config["learning_rate"] * v, config
"""

CLIP_BY_VALUE = """
import numpy as np
def clip_by_global_norm(grads, clip_norm):
    norm = np.sqrt(sum(np.sum(g * g) for g in grads if g is not None))
    return [None if g is None else np.clip(g, -clip_norm, clip_norm) for g in grads], norm
"""

CLIP_ZEROING = """
import numpy as np
def clip_by_global_norm(grads, clip_norm):
    norm = np.sqrt(sum(np.sum(g * g) for g in grads if g is not None))
    return [None if g is None else g * clip_norm / max(norm, clip_norm) for g in grads], norm
"""


@pytest.mark.parametrize("module, unit, source, named", [
    ("optimization", "adam", ADAM_FROM_ONE, "the step count started at 1"),
    ("optimization", "sgd_momentum", MOVING_AVERAGE_MOMENTUM, "momentum as a moving average"),
    ("rnn_bptt", "clip_by_global_norm", CLIP_BY_VALUE, "clipped to [-clip_norm, clip_norm] (clip by value)"),
])
def test_the_catalogue_names_what_students_write(module, unit, source, named):
    import importlib
    cases = importlib.import_module(f"dlcourse.autograder.cases.{module}")
    notebook = {"optimization": "03_optimization", "rnn_bptt": "07_rnn_bptt"}[module]
    failing = [v.message for v in _public_verdicts(cases, solution_namespace(notebook), unit, source) if not v.passed]
    assert failing and any(named in message for message in failing), failing


def test_an_infinite_global_norm_is_not_called_already_below_the_threshold():
    from dlcourse.autograder.cases import rnn_bptt
    found = _public_verdicts(rnn_bptt, solution_namespace("07_rnn_bptt"), "clip_by_global_norm", CLIP_ZEROING)
    failing = [verdict.message for verdict in found if not verdict.passed]
    assert failing, "zeroing the gradients when the norm is infinite should fail"
    assert not any("already below it" in message for message in failing), failing


def test_a_glorot_limit_of_sqrt_6_over_fan_in_is_named_with_its_twin_on_a_shape_that_cannot_tell():
    from dlcourse.autograder.cases import initialization
    source = ("import numpy as np\ndef xavier_uniform(shape, rng):\n    fan_in, fan_out = compute_fans(shape)\n"
              "    limit = np.sqrt(6.0 / fan_in)\n    return uniform_init(shape, rng, -limit, limit)\n")
    found = _public_verdicts(initialization, solution_namespace("02_initialization"), "xavier_uniform", source)
    failing = [verdict.message for verdict in found if not verdict.passed]
    assert failing
    assert any("He's variance 2 / fan_in (for uniform, the limit sqrt(6 / fan_in))" in message for message in failing)
    named = [message for message in failing if "fan_out was used" in message]
    assert all("He's variance" in message and "cannot tell these apart" in message for message in named), named
