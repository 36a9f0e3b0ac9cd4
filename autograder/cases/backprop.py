"""Grading cases of assignment 01 (backprop), against the Keras references in ``dlcourse.references.backprop``.

Public cases have fixed seeds and show their arguments in messages; hidden cases draw shapes and
values from the grader's secret. Points add up to the table in the notebook's introduction.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from dlcourse.autograder.engine.probes import GLOBAL_SEEDS, held_out_verdict, same_value
from dlcourse.autograder.cases.random_sizes import random_sizes
from dlcourse.autograder.engine.case import Assignment, Case, ForwardBackward, Mistake, NumericalGradient, RngProbe
from dlcourse.autograder.engine.compare import FLOAT64_ADVICE, dtype_problems
from dlcourse import datasets
from dlcourse.references import backprop as ref


def _normal(rng, *shape, scale=1.0):
    return rng.normal(0.0, scale, size=shape)


# ----------------------------------------------------------------------------- dense

def _dense_inputs(n, d, m, backward=False):
    def make(rng):
        inputs = {"x": _normal(rng, n, d), "w": _normal(rng, d, m), "b": _normal(rng, m)}
        if backward:
            inputs["dout"] = _normal(rng, n, m)
        return inputs
    return make


FORGOT_BIAS = Mistake("the bias `b` is not added", lambda i, e: {"out": i["x"] @ i["w"]})
DB_MEAN = Mistake("db averages over the batch; it is the sum over the batch",
                  lambda i, e: {"db": i["dout"].mean(axis=0)})
DW_MEAN = Mistake("dw is divided by the batch size N; dw = x^T dout is already the sum over the batch (any 1/N "
                  "belongs to the loss, and reaches dw through dout)", lambda i, e: {"dw": e["dw"] / len(i["x"])})
DENSE_BACK_MISTAKES = (DB_MEAN, DW_MEAN)

DENSE = [
    Case("dense_forward", "batch of 4, 5 -> 3", _dense_inputs(4, 5, 3), ref.dense_forward, ("out", "cache"),
         mistakes=(FORGOT_BIAS,)),
    Case("dense_forward", "one example, 7 -> 2", _dense_inputs(1, 7, 2), ref.dense_forward, ("out", "cache"),
         mistakes=(FORGOT_BIAS,)),
    Case("dense_forward", "random shape", random_sizes(_dense_inputs, False), ref.dense_forward, ("out", "cache"),
         hidden=True),
    Case("dense_backward", "batch of 4, 5 -> 3", _dense_inputs(4, 5, 3, True), ref.dense_backward,
         ("dx", "dw", "db"), driver=ForwardBackward("dense_forward"), mistakes=DENSE_BACK_MISTAKES,
         hint="dx = dout w^T, dw = x^T dout, db sums dout over the batch"),
    Case("dense_backward", "one example, 7 -> 2", _dense_inputs(1, 7, 2, True), ref.dense_backward,
         ("dx", "dw", "db"), driver=ForwardBackward("dense_forward"), mistakes=DENSE_BACK_MISTAKES),
    Case("dense_backward", "random shape", random_sizes(_dense_inputs, True), ref.dense_backward, ("dx", "dw", "db"),
         driver=ForwardBackward("dense_forward"), hidden=True, points=2.0),
]


# ----------------------------------------------------------------------------- activations

def _activation_inputs(shape, special=(), backward=False):
    def make(rng):
        x = _normal(rng, *shape, scale=3.0)
        flat = x.reshape(-1)
        flat[:len(special)] = special
        inputs = {"x": x}
        if backward:
            inputs["dout"] = _normal(rng, *shape)
        return inputs
    return make


def _random_activation(backward):
    def make(rng):
        shape = tuple(int(v) for v in rng.integers(1, 7, size=int(rng.integers(1, 4))))
        return _activation_inputs(shape, backward=backward)(rng)
    return make


def _activation_cases(activation, units, special, mistakes=(), hint=""):
    """The cases of ``units`` (forward, backward) against ``keras.activations.<activation>``."""
    forward_unit, backward_unit = units
    forward = lambda x: ref.activation_forward(activation, x)  # noqa: E731
    backward = lambda x, dout: ref.activation_backward(activation, x, dout)  # noqa: E731
    return [
        Case(forward_unit, "5x4, with extreme values", _activation_inputs((5, 4), special), forward, ("out", "cache")),
        Case(forward_unit, "random shape", _random_activation(False), forward, ("out", "cache"), hidden=True),
        Case(backward_unit, "5x4, with extreme values", _activation_inputs((5, 4), special, True), backward,
             ("dx",), driver=ForwardBackward(forward_unit), mistakes=mistakes, hint=hint),
        Case(backward_unit, "random shape", _random_activation(True), backward, ("dx",),
             driver=ForwardBackward(forward_unit), hidden=True),
    ]


def _forgot_dout(derivative):
    """The local derivative returned alone: ``derivative(x)`` without the upstream ``dout``."""
    return Mistake("dout is not multiplied in: the backward pass returns dout times the local derivative "
                   "(chain rule), not the derivative alone", lambda i, e: {"dx": derivative(i["x"])})


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def _tanh_derivative(x):
    return 1 - np.tanh(x) ** 2


ACTIVATIONS = (
    _activation_cases("sigmoid", ("sigmoid_forward", "sigmoid_backward"), (0.0, 40.0, -40.0, 700.0, -700.0), mistakes=(
        Mistake("the derivative was taken at x instead of at sigmoid(x): use s (1 - s) with s = sigmoid(x)",
                lambda i, e: {"dx": i["dout"] * i["x"] * (1 - i["x"])}),
        Mistake("sigmoid was applied to the cached output again: the cache already holds s = sigmoid(x), so the "
                "derivative is s (1 - s), not sigmoid(s) (1 - sigmoid(s))",
                lambda i, e: {"dx": i["dout"] * _sigmoid(_sigmoid(i["x"])) * (1 - _sigmoid(_sigmoid(i["x"])))}),
        _forgot_dout(lambda x: _sigmoid(x) * (1 - _sigmoid(x)))))
    + _activation_cases("relu", ("relu_forward", "relu_backward"), (0.0, 0.0, -0.0, 5.0, -5.0), mistakes=(
        Mistake("x == 0 counted as active; Keras's ReLU has gradient 0 at 0 (use x > 0)",
                lambda i, e: {"dx": i["dout"] * (i["x"] >= 0)}),
        _forgot_dout(lambda x: (x > 0).astype(np.float64))))
    + _activation_cases("tanh", ("tanh_forward", "tanh_backward"), (0.0, 30.0, -30.0), mistakes=(
        Mistake("1 - x**2 was used; the derivative is 1 - tanh(x)**2",
                lambda i, e: {"dx": i["dout"] * (1 - i["x"] ** 2)}),
        Mistake("tanh applied again: the cache already holds t = tanh(x), so the derivative is 1 - t**2, "
                "not 1 - tanh(t)**2", lambda i, e: {"dx": i["dout"] * _tanh_derivative(np.tanh(i["x"]))}),
        _forgot_dout(_tanh_derivative)))
)


# ----------------------------------------------------------------------------- losses

def _bce_inputs(n, scale, extremes=()):
    def make(rng):
        logits = _normal(rng, n, scale=scale)
        logits[:len(extremes)] = extremes
        return {"logits": logits, "y": rng.integers(0, 2, size=n).astype(np.float64)}
    return make


def _random_bce(rng):
    return _bce_inputs(int(rng.integers(2, 40)), 4.0)(rng)


def _per_example_mistake(name):
    return Mistake(f"{name} is not divided by the batch size N (the loss is the mean over the batch)",
                   lambda i, e: {"dlogits": e["dlogits"] * len(i["logits"])})


def _log_of_p_plus_eps(eps):
    def outputs(inputs, expected):
        p, y = 1 / (1 + np.exp(-inputs["logits"])), inputs["y"]
        return {"loss": -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))}
    return Mistake(f"the loss was computed from probabilities as -log(p + eps) with eps = {eps:g}: at large |z| "
                   "p rounds to 0 or 1 and the loss stops at -log(eps); compute it from the logits "
                   "(max(z, 0) - z y + log(1 + exp(-|z|)))", outputs)


LOG_P_PLUS_EPS = tuple(_log_of_p_plus_eps(eps) for eps in (1e-7, 1e-8, 1e-12, 1e-15))


def _bce_with_labels(logits, y):
    """The stable mean binary cross-entropy and its gradient, for labels ``y`` (the reference's formulas)."""
    loss = np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits))))
    return {"loss": loss, "dlogits": (_sigmoid(logits) - y) / len(logits)}


BCE_SWAPPED = (
    Mistake("y and 1 - y are swapped: the loss is -mean(y log p + (1 - y) log(1 - p)) with p = sigmoid(z), "
            "so label 1 is rewarded for a large logit z; the gradient is then (p - y) / N",
            lambda i, e: _bce_with_labels(i["logits"], 1 - i["y"])),
    Mistake("y and 1 - y are swapped in the loss (the gradient is right): the loss is "
            "-mean(y log p + (1 - y) log(1 - p)) with p = sigmoid(z)",
            lambda i, e: {"loss": _bce_with_labels(i["logits"], 1 - i["y"])["loss"]}),
)

BCE_HINT = ("use the stable form max(z, 0) - z y + log(1 + exp(-|z|)); its gradient is "
            "(sigmoid(z) - y) / N")

LOSSES = [
    Case("binary_crossentropy", "8 moderate logits", _bce_inputs(8, 2.0), ref.binary_crossentropy,
         ("loss", "dlogits"), mistakes=(_per_example_mistake("dlogits"),) + BCE_SWAPPED, hint=BCE_HINT),
    Case("binary_crossentropy", "logits of +-100", _bce_inputs(6, 2.0, (100.0, -100.0, 100.0, -100.0)),
         ref.binary_crossentropy, ("loss", "dlogits"), hint=BCE_HINT, mistakes=LOG_P_PLUS_EPS + BCE_SWAPPED),
    Case("binary_crossentropy", "random batch", _random_bce, ref.binary_crossentropy, ("loss", "dlogits"),
         hidden=True),
]


def _sce_inputs(n, c, scale, shift=0.0):
    def make(rng):
        return {"logits": _normal(rng, n, c, scale=scale) + shift, "labels": rng.integers(0, c, size=n)}
    return make


def _random_sce(rng):
    return _sce_inputs(int(rng.integers(2, 30)), int(rng.integers(2, 12)), 3.0)(rng)


def _softmax_over_batch(inputs, expected):
    """Softmax normalised along axis 0 (over the batch, for each class) instead of along each row."""
    logits, labels = inputs["logits"], inputs["labels"]
    n = len(logits)
    shifted = logits - logits.max(axis=0, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore"):
        loss = -np.log(probs[np.arange(n), labels]).mean()
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1
    return {"loss": loss, "dlogits": dlogits / n}


SCE_MISTAKES = (
    Mistake("the softmax is normalised along axis 0 (over the batch); each example's probabilities are its own "
            "row: take the max and the sum along axis=1 (over the classes), with keepdims=True", _softmax_over_batch),
)
SCE_HINT = ("the softmax runs along each row (axis=1, over the classes): subtract each row's maximum before "
            "exponentiating and divide by each row's sum; the gradient is (softmax - onehot) / N")


def _rows_far_apart(rng):
    """Rows of logits near +1000 and near -1000 in one batch: a shift by the whole array's maximum leaves the
    low rows near -2000, whose exponentials underflow to 0 (each row must be shifted by its own maximum)."""
    logits = _normal(rng, 6, 4, scale=3.0) + np.array([1000.0, -1000.0, 0.0, 1000.0, -1000.0, 0.0])[:, None]
    return {"logits": logits, "labels": rng.integers(0, 4, size=6)}


LOSSES += [
    Case("softmax_crossentropy", "6 examples, 4 classes", _sce_inputs(6, 4, 2.0), ref.softmax_crossentropy,
         ("loss", "dlogits"), mistakes=(_per_example_mistake("dlogits"),) + SCE_MISTAKES, hint=SCE_HINT),
    Case("softmax_crossentropy", "logits near 1000", _sce_inputs(5, 3, 50.0, 1000.0), ref.softmax_crossentropy,
         ("loss", "dlogits"), mistakes=SCE_MISTAKES, hint=SCE_HINT),
    Case("softmax_crossentropy", "rows far apart: logits near 1000, -1000 and 0", _rows_far_apart,
         ref.softmax_crossentropy, ("loss", "dlogits"), mistakes=SCE_MISTAKES, hint=SCE_HINT, points=0.5),
    Case("softmax_crossentropy", "random batch", _random_sce, ref.softmax_crossentropy, ("loss", "dlogits"),
         hidden=True, points=0.5),
]


# ----------------------------------------------------------------------------- gradient checking

def _gradient_inputs(shape, h):
    def make(rng):
        return {"x": _normal(rng, *shape), "h": h, "c": _normal(rng, *shape), "d": _normal(rng, *shape, scale=0.3)}
    return make


def _random_gradient(rng):
    shape = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 3))))
    return _gradient_inputs(shape, 1e-5)(rng)


def _forward_difference(inputs, expected):
    x, h, c, d = inputs["x"], inputs["h"], inputs["c"], inputs["d"]
    f = lambda v: np.sum(c * np.sin(v)) + np.sum(d * v**3) / 3 + np.sum(v) ** 2 / 2  # noqa: E731
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        bumped = x.copy()
        bumped[index] += h
        grad[index] = (f(bumped) - f(x)) / h
    return {"grad": grad}


def _integer_point(rng):
    """A point given as an int64 array (x = np.array([[1, -2, 0], ...])): perturbing it in place, or a copy
    that keeps its integer dtype, rounds x + h back to an integer."""
    return {**_gradient_inputs((2, 3), 1e-4)(rng), "x": rng.integers(-3, 4, size=(2, 3))}


def _integer_reference(x, c, d, h=None):
    return ref.cubic_sine_gradient(np.asarray(x, dtype=np.float64), c, d, h)


NUMERICAL = [
    Case("numerical_gradient", f"{shape} array, h={h:g}", _gradient_inputs(shape, h), ref.cubic_sine_gradient,
         ("grad",), driver=NumericalGradient("cubic_sine", ("c", "d")), rtol=1e-5, atol=1e-6,
         mistakes=(Mistake("a one-sided difference (f(x+h) - f(x)) / h; use (f(x+h) - f(x-h)) / 2h",
                           _forward_difference),),
         hint="perturb one entry at a time, put it back afterwards, and use central differences")
    for shape, h in (((3, 4), 1e-5), ((6,), 1e-3))
] + [Case("numerical_gradient", "an integer point: x an int64 (2, 3) array, h=0.0001", _integer_point,
          _integer_reference, ("grad",), driver=NumericalGradient("cubic_sine", ("c", "d")),
          rtol=1e-5, atol=1e-6, points=0.5,
          hint="work on a float copy of x, np.array(x, dtype=np.float64): an integer array rounds x + h back to x"),
     Case("numerical_gradient", "random array", _random_gradient, ref.cubic_sine_gradient, ("grad",),
          driver=NumericalGradient("cubic_sine", ("c", "d")), rtol=1e-5, atol=1e-6, hidden=True,
          points=0.5)]


# ----------------------------------------------------------------------------- the MLP

def _mlp_inputs(n, sizes):
    def make(rng):
        params = {}
        for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params[f"W{index}"] = _normal(rng, fan_in, fan_out, scale=1 / np.sqrt(fan_in))
            params[f"b{index}"] = _normal(rng, fan_out, scale=0.5)
        return {"params": params, "x": _normal(rng, n, sizes[0]), "y": rng.integers(0, sizes[-1], size=n)}
    return make


def _random_mlp(rng):
    depth = int(rng.integers(2, 5))
    sizes = [int(v) for v in rng.integers(2, 10, size=depth + 1)]
    return _mlp_inputs(int(rng.integers(2, 20)), sizes)(rng)


MLP = [
    Case("mlp_loss_and_grads", "2 layers, 6-5-3", _mlp_inputs(8, (6, 5, 3)), ref.mlp_loss_and_grads,
         ("loss", "grads"), points=2.0, hint="hidden layers are sigmoid, the last layer is linear logits "
                                             "into softmax cross-entropy; backpropagate layer by layer"),
    Case("mlp_loss_and_grads", "3 layers, 4-7-6-5", _mlp_inputs(10, (4, 7, 6, 5)), ref.mlp_loss_and_grads,
         ("loss", "grads"), points=2.0),
    Case("mlp_loss_and_grads", "random depth", _random_mlp, ref.mlp_loss_and_grads, ("loss", "grads"),
         points=2.0, hidden=True),
]


# ----------------------------------------------------------------------------- training

REQUIRED_ACCURACY = 0.93  # the solution's worst of 40 drawn tasks: 0.963; the class means alone: 0.87-0.96


def _training_inputs(rng):
    """A task new at each grading: ten symbols nobody has seen (``datasets.make_glyphs``), 1,500 images
    to train on, flattened to (N, 64) as the digits are; the 400 held out stay in the grader (``private``)."""
    x, y, x_test, y_test = datasets.make_glyphs(rng)
    return {"x": x.reshape(len(x), -1), "y": y, "seed": 0, "x_test": x_test.reshape(len(x_test), -1), "y_test": y_test}


def _held_out(x, y, seed, x_test, y_test):
    """The held-out images of the task drawn for this grading, and their labels."""
    return {"x_test": x_test, "y_test": y_test}


def _judge_training(inputs, held_out, received, timing):
    """Held-out accuracy of the returned parameters (the reference model's forward pass, in NumPy)."""
    params = received["params"]
    if not isinstance(params, dict) or not params:
        return False, f"train_mlp should return the params dict {{'W1': ..., 'b1': ..., ...}}, received {type(params).__name__}"
    depth = len(params) // 2
    expected_keys = {f"{kind}{index}" for index in range(1, depth + 1) for kind in "Wb"}
    if set(params) != expected_keys:
        return False, f"params should have keys W1, b1, ..., WL, bL; received {sorted(params)}"
    width = 64
    for index in range(1, depth + 1):
        w, b = params[f"W{index}"], params[f"b{index}"]
        if not (isinstance(w, np.ndarray) and isinstance(b, np.ndarray)) or w.ndim != 2 or b.shape != (w.shape[1],) \
                or w.shape[0] != width or w.dtype.kind != "f" or b.dtype.kind != "f":
            return False, (f"params W{index}/b{index} should be float arrays of shapes ({width}, H) and (H,); received "
                           f"{getattr(w, 'shape', type(w).__name__)} and {getattr(b, 'shape', type(b).__name__)}")
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            return False, f"params W{index}/b{index} contain NaN or inf (the learning rate may be too large)"
        width = w.shape[1]
    if width != 10:
        return False, f"the last layer should have 10 outputs (one per class); received {width}"
    return held_out_verdict(ref.mlp_accuracy(params, held_out["x_test"], held_out["y_test"]), REQUIRED_ACCURACY,
                            "train longer, or tune the learning rate and hidden size")


# Before the judged training, train_mlp runs twice on the task's first SEED_CHECK_SIZE images with the same
# seed and NumPy's global state seeded differently (the "rng_probe" driver): the docstring's "seed seeds every
# random choice" means the two give the same params. One batch of images: the check costs 5% of the training.
SEED_CHECK_SIZE = 32


def _seed_check_probe(case: Case):
    def probe(inputs: dict) -> dict:
        subset = {"x": inputs["x"][:SEED_CHECK_SIZE], "y": inputs["y"][:SEED_CHECK_SIZE]}
        runs = [[0, GLOBAL_SEEDS[0], subset], [0, GLOBAL_SEEDS[1], subset], [0, GLOBAL_SEEDS[0]]]
        # "rng_arg" names no argument of train_mlp: every run gets the case's own seed
        return {"inner": case.request(inputs), "rng_arg": "no generator argument", "runs": runs}
    return probe


def _judge_seeded_training(training: Case):
    """The judge of ``training`` run through the "rng_probe" driver: the last run judged as the training (the float
    rule, then held-out accuracy), then the two seed-check runs compared."""
    def judge(inputs, held_out, received, timing):
        probe = received["probe"]
        runs = probe.get("runs") if isinstance(probe, dict) else None
        if not isinstance(runs, list) or len(runs) != 3:
            return False, "the training runs received no results"
        problems = dtype_problems(training, {"params": runs[2]}, {})
        if problems:
            return False, "\n".join(problems) + f"\n{FLOAT64_ADVICE}"
        return _reproducible(inputs, runs, *_judge_training(inputs, held_out, {"params": runs[2]}, timing))
    return judge


def _reproducible(inputs, runs, passed: bool, message: str) -> tuple[bool, str]:
    if passed and not same_value(runs[0], runs[1]):
        return False, (f"train_mlp is not reproducible: trained twice on the same {SEED_CHECK_SIZE} images with the "
                       f"same seed ({int(inputs['seed'])}), it returned different params once NumPy's global random "
                       "state had changed in between; the docstring's `seed` seeds every random choice: draw them "
                       "all from rng = np.random.default_rng(seed) (no np.random.* functions, no generator made "
                       "elsewhere in the notebook)")
    return passed, message


def _training_case() -> Case:
    base = Case("train_mlp", f"ten symbols drawn for this grading, held-out accuracy >= {REQUIRED_ACCURACY}",
                _training_inputs, _held_out, ("params",), points=4.0, timeout=120.0, judge=_judge_training, fresh=True,
                private=("x_test", "y_test"))
    return dataclasses.replace(base, driver=RngProbe(_seed_check_probe(base)), outputs=("probe",),
                               judge=_judge_seeded_training(base))


TRAINING = [_training_case()]


ASSIGNMENT = Assignment(
    name="01_backprop",
    title="Backpropagation",
    cases=tuple(DENSE + ACTIVATIONS + LOSSES + NUMERICAL + MLP + TRAINING),
)
