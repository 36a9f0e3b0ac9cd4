"""Grading cases of assignment 07 (rnn_bptt), against the Keras references in ``dlcourse.references.rnn_bptt``.

Every recurrent case starts from a non-zero initial state; sequence lengths run from 1 to 50. The
NumPy functions here only compute known wrong answers, so that a message can name the mistake;
every expected value comes from Keras.
"""

from __future__ import annotations

import numpy as np

from dlcourse.autograder.cases.rejections import mixed, rejections_case
from dlcourse.autograder.cases.random_sizes import random_sizes
from dlcourse.autograder.engine.case import Assignment, Case, ForwardBackward, Mistake
from dlcourse.autograder.engine.compare import compare_value
from dlcourse.references import rnn_bptt as ref


def _normal(rng, *shape, scale=1.0):
    return rng.normal(0.0, scale, size=shape)


def _weights(rng, d, h):
    """Kernel (D, H) ~ N(0, 1/D), recurrent kernel (H, H) ~ N(0, 1/H) (spectral radius near 1), bias ~ N(0, 0.5^2)."""
    return {"wx": _normal(rng, d, h, scale=1 / np.sqrt(d)), "wh": _normal(rng, h, h, scale=1 / np.sqrt(h)),
            "b": _normal(rng, h, scale=0.5)}


# ----------------------------------------------------------------------------- known wrong answers

def _forward(x, h0, wx, wh, b, *, recurrent=None, carry=True, bias=True):
    """Hidden states (N, T, H); the keywords switch on a mistake."""
    recurrent = wh if recurrent is None else recurrent
    h, out = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ wx + (h if carry else h0) @ recurrent + (b if bias else 0.0))
        out.append(h)
    return np.stack(out, axis=1)


def _backward(x, h0, wx, wh, b, dout, *, carry=True, carry_kernel=None, derivative_of_preactivation=False,
              derivative_of_previous=False):
    """BPTT with switches for the usual mistakes; returns dx, dh0, dwx, dwh, db."""
    hs = _forward(x, h0, wx, wh, b)
    previous = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    carry_kernel = wh.T if carry_kernel is None else carry_kernel
    dx, dwx, dwh, db = np.zeros_like(x), np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b)
    dh = np.zeros_like(h0)
    for t in range(x.shape[1] - 1, -1, -1):
        grad = dout[:, t] + (dh if carry else 0.0)
        if derivative_of_preactivation:
            pre = x[:, t] @ wx + previous[:, t] @ wh + b
            da = grad * (1 - pre ** 2)
        elif derivative_of_previous:
            da = grad * (1 - previous[:, t] ** 2)
        else:
            da = grad * (1 - hs[:, t] ** 2)
        dx[:, t] = da @ wx.T
        dwx, dwh, db = dwx + x[:, t].T @ da, dwh + previous[:, t].T @ da, db + da.sum(axis=0)
        dh = da @ carry_kernel
    return dx, dh, dwx, dwh, db


def _grads(**switches):
    names = ("dx", "dh0", "dwx", "dwh", "db")
    return lambda i, e: dict(zip(names, _backward(i["x"], i["h0"], i["wx"], i["wh"], i["b"], i["dout"], **switches)))


def _step(mistake):
    """A sequence-level mistake seen through one step (inputs named h_prev, outputs h_next / dh_prev)."""
    def outputs(i, e):
        seq = {"x": i["x"][:, None], "h0": i["h_prev"], "wx": i["wx"], "wh": i["wh"], "b": i["b"]}
        if "dout" in i:
            seq["dout"] = i["dout"][:, None]
        wrong = mistake.outputs(seq, e)
        renamed = {"h": "h_next", "dh0": "dh_prev"}
        return {renamed.get(k, k): (v[:, 0] if k in ("h", "dx") else v) for k, v in wrong.items()}
    return Mistake(mistake.name, outputs)


def _seq(i):
    return i["x"], i["h0"], i["wx"], i["wh"], i["b"]


FORGOT_BIAS = Mistake("the bias `b` is not added", lambda i, e: {"h": _forward(*_seq(i), bias=False)})
TRANSPOSED = Mistake("the recurrent kernel is used transposed: Keras computes h_prev @ wh, with wh of shape "
                     "(units, units) laid out (from, to)", lambda i, e: {"h": _forward(*_seq(i), recurrent=i["wh"].T)})
NOT_CARRIED = Mistake("every step starts from h0: the new state must feed the next step",
                      lambda i, e: {"h": _forward(*_seq(i), carry=False)})
NO_CARRY = Mistake("the gradient is not carried back through time: each step must add dh_prev from the step "
                   "after it to its own dout", _grads(carry=False))
CARRY_UNTRANSPOSED = Mistake("the gradient is carried back with wh instead of wh.T (dh_prev = da @ wh.T)",
                             lambda i, e: dict(zip(("dx", "dh0", "dwx", "dwh", "db"),
                                                   _backward(*_seq(i), i["dout"], carry_kernel=i["wh"]))))
PREACTIVATION = Mistake("tanh's derivative was taken as 1 - a**2 of the pre-activation a; it is 1 - h**2 of the "
                        "new state h = tanh(a)", _grads(derivative_of_preactivation=True))
PREVIOUS_STATE = Mistake("tanh's derivative was taken at the state the step started from, 1 - h_prev**2 (an index "
                         "off by one among the stored states, say); it is 1 - h**2 of the state the step produced, "
                         "h = tanh(a)",
                         _grads(derivative_of_previous=True))
DB_MEAN = Mistake("db averages over the batch; it is the sum over the batch (and over time)",
                  lambda i, e: {"db": e["db"] / i["x"].shape[0]})


# ----------------------------------------------------------------------------- one step

def _step_inputs(n, d, h, backward=False):
    def make(rng):
        inputs = {"x": _normal(rng, n, d), "h_prev": np.tanh(_normal(rng, n, h)), **_weights(rng, d, h)}
        if backward:
            inputs["dout"] = _normal(rng, n, h)
        return inputs
    return make


STEP_HINT = "h_next = tanh(x @ wx + h_prev @ wh + b); cache what the backward pass needs"
STEP_BACK_HINT = ("with da = dout * (1 - h_next**2): dx = da wx^T, dh_prev = da wh^T, dwx = x^T da, "
                  "dwh = h_prev^T da, db = sum of da over the batch")
STEP_MISTAKES = tuple(_step(m) for m in (FORGOT_BIAS, TRANSPOSED))
STEP_BACK_MISTAKES = tuple(_step(m) for m in (PREACTIVATION, PREVIOUS_STATE, CARRY_UNTRANSPOSED)) + (DB_MEAN,)

STEP = [
    Case("rnn_step_forward", "batch of 4, 3 -> 5", _step_inputs(4, 3, 5), ref.rnn_step_forward, ("h_next", "cache"),
         mistakes=STEP_MISTAKES, hint=STEP_HINT),
    Case("rnn_step_forward", "one example, 6 -> 2", _step_inputs(1, 6, 2), ref.rnn_step_forward,
         ("h_next", "cache"), mistakes=STEP_MISTAKES, hint=STEP_HINT),
    Case("rnn_step_forward", "random shape", random_sizes(_step_inputs, False), ref.rnn_step_forward,
         ("h_next", "cache"), hidden=True),
    Case("rnn_step_backward", "batch of 4, 3 -> 5", _step_inputs(4, 3, 5, True), ref.rnn_step_backward,
         ("dx", "dh_prev", "dwx", "dwh", "db"), driver=ForwardBackward("rnn_step_forward"),
         mistakes=STEP_BACK_MISTAKES, hint=STEP_BACK_HINT),
    Case("rnn_step_backward", "one example, 6 -> 2", _step_inputs(1, 6, 2, True), ref.rnn_step_backward,
         ("dx", "dh_prev", "dwx", "dwh", "db"), driver=ForwardBackward("rnn_step_forward"),
         mistakes=STEP_BACK_MISTAKES, hint=STEP_BACK_HINT),
    Case("rnn_step_backward", "random shape", random_sizes(_step_inputs, True), ref.rnn_step_backward,
         ("dx", "dh_prev", "dwx", "dwh", "db"), driver=ForwardBackward("rnn_step_forward"),
         hidden=True, points=2.0),
]


# ----------------------------------------------------------------------------- whole sequences

def _sequence_inputs(n, t, d, h, backward=False):
    def make(rng):
        inputs = {"x": _normal(rng, n, t, d), "h0": np.tanh(_normal(rng, n, h)), **_weights(rng, d, h)}
        if backward:
            inputs["dout"] = _normal(rng, n, t, h)
        return inputs
    return make


def _random_sequence(backward, lengths=(1, 51)):
    def make(rng):
        n, d, h = (int(v) for v in rng.integers(1, 8, size=3))
        n = max(n, 2)
        return _sequence_inputs(n, int(rng.integers(*lengths)), d, h, backward)(rng)
    return make


FORWARD_HINT = "loop over time: h_t = tanh(x_t @ wx + h_{t-1} @ wh + b), starting from h_{-1} = h0; return all h_t"
BACKWARD_HINT = ("go backwards in time; at step t the state's gradient is dout[:, t] plus dh_prev from step t+1; "
                 "the weight gradients add up over all steps; dh0 is the dh_prev of the first step")
FORWARD_MISTAKES = (FORGOT_BIAS, TRANSPOSED, NOT_CARRIED)
BACKWARD_MISTAKES = (NO_CARRY, CARRY_UNTRANSPOSED, PREACTIVATION, PREVIOUS_STATE, DB_MEAN)
GRADS = ("dx", "dh0", "dwx", "dwh", "db")

def rejects(unit, argument, make, states=("h0",)):
    """A case of ``unit`` called on ``make(rng)`` (batch N, inputs D, units H) with ``argument`` changed, in some
    calls to a shape that does not fit (the docstring's "Raises": a ValueError whose message names it, as Keras's
    layers reject such inputs) and in others to a shape that does (``cases/rejections.py``).

    Bad: ``x`` 2-D and 4-D; ``h0`` of shapes (1, H) (NumPy broadcasts it silently), (N + 1 or 2, H), (N, H + 1)
    and (H,). Good: the same batch and a new one of 1-5, of length 1-5, ``x`` and the ``states`` given together.
    """
    sample = make(np.random.default_rng(0))
    n, _, d = sample["x"].shape
    h = sample["wh"].shape[0]

    def draw(rng):
        def fitting(batch):
            return {"x": _normal(rng, batch, int(rng.integers(1, 6)), d),
                    **{state: np.tanh(_normal(rng, batch, h)) for state in states}}
        if argument == "x":
            bad = [({"x": _normal(rng, n, int(rng.integers(1, 6)))}, "x"), ({"x": _normal(rng, n, 2, d, 1)}, "x")]
        else:
            wrong = [(1, h) if n > 1 else (2, h), (n + int(rng.integers(1, 3)), h), (n, h + 1), (h,)]
            bad = [({argument: _normal(rng, *shape)}, argument) for shape in wrong]
        return mixed(rng, bad, [fitting(n), fitting(int(rng.integers(1, 6)))])

    shapes = "x must be (N, T, D)" if argument == "x" else f"{argument} must be (N, H)"
    return rejections_case(unit, f"{argument} of the wrong shape is rejected, fitting shapes accepted ({shapes})",
                           make, draw, points=0.25)


SEQUENCE = [
    Case("rnn_forward", "T=1, batch of 3, 4 -> 5", _sequence_inputs(3, 1, 4, 5), ref.rnn_forward, ("h", "cache"),
         mistakes=FORWARD_MISTAKES, hint=FORWARD_HINT),
    Case("rnn_forward", "T=6, batch of 2, 3 -> 4", _sequence_inputs(2, 6, 3, 4), ref.rnn_forward, ("h", "cache"),
         mistakes=FORWARD_MISTAKES, hint=FORWARD_HINT),
    Case("rnn_forward", "T=50, batch of 5, 4 -> 8", _sequence_inputs(5, 50, 4, 8), ref.rnn_forward, ("h", "cache"),
         mistakes=FORWARD_MISTAKES, hint=FORWARD_HINT),
    Case("rnn_forward", "random length 1-50", _random_sequence(False), ref.rnn_forward, ("h", "cache"),
         hidden=True, points=1.5),
    rejects("rnn_forward", "x", _sequence_inputs(3, 4, 4, 5)),
    rejects("rnn_forward", "h0", _sequence_inputs(3, 4, 4, 5)),
    Case("rnn_backward", "T=1, batch of 3, 4 -> 5", _sequence_inputs(3, 1, 4, 5, True), ref.rnn_backward, GRADS,
         driver=ForwardBackward("rnn_forward"), mistakes=BACKWARD_MISTAKES, hint=BACKWARD_HINT),
    Case("rnn_backward", "T=6, batch of 2, 3 -> 4", _sequence_inputs(2, 6, 3, 4, True), ref.rnn_backward, GRADS,
         driver=ForwardBackward("rnn_forward"), mistakes=BACKWARD_MISTAKES, hint=BACKWARD_HINT,
         points=2.0),
    Case("rnn_backward", "T=50, batch of 5, 4 -> 8", _sequence_inputs(5, 50, 4, 8, True), ref.rnn_backward, GRADS,
         driver=ForwardBackward("rnn_forward"), mistakes=BACKWARD_MISTAKES, hint=BACKWARD_HINT,
         points=2.0),
    Case("rnn_backward", "random length 1-50", _random_sequence(True), ref.rnn_backward, GRADS,
         driver=ForwardBackward("rnn_forward"), hidden=True, points=2.0),
    Case("rnn_backward", "random length 30-50", _random_sequence(True, (30, 51)), ref.rnn_backward, GRADS,
         driver=ForwardBackward("rnn_forward"), hidden=True),
]


# ----------------------------------------------------------------------------- gradient versus distance

def _distance_inputs(n, t, d, h):
    def make(rng):
        inputs = _sequence_inputs(n, t, d, h)(rng)
        inputs["wh"] = inputs["wh"] * 1.2
        return inputs
    return make


def _random_distance(rng):
    n, d, h = (int(v) for v in rng.integers(1, 7, size=3))
    n = max(n, 2)
    return _distance_inputs(n, int(rng.integers(2, 31)), d, h)(rng)


DISTANCE = [
    Case("gradient_norms_by_distance", "T=12, batch of 3, 2 -> 6", _distance_inputs(3, 12, 2, 6),
         ref.gradient_norms_by_distance, ("norms",),
         mistakes=(Mistake("the norms are in time order; norms[k] is k steps back from the last step, so norms[0] "
                           "belongs to the last input", lambda i, e: {"norms": e["norms"][::-1]}),),
         hint="dout is zero everywhere except the last step, where it is all ones; then take the norm of dx[:, t, :] "
              "for each t, and order by distance from the end"),
    Case("gradient_norms_by_distance", "random shape", _random_distance, ref.gradient_norms_by_distance,
         ("norms",), hidden=True),
]


# ----------------------------------------------------------------------------- clipping

def _clip_inputs(shapes, clip_norm, scale=1.0, nones=(), special=None):
    def make(rng):
        grads = [_normal(rng, *shape, scale=scale) for shape in shapes]
        for index in nones:
            grads[index] = None
        if special is not None:
            index, value = special
            grads[index].reshape(-1)[0] = value
        return {"grads": grads, "clip_norm": clip_norm}
    return make


def _random_clip(rng):
    count = int(rng.integers(1, 5))
    shapes = [tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(0, 3)))) for _ in range(count)]
    return _clip_inputs(shapes, float(rng.uniform(0.5, 5.0)), scale=float(rng.choice([0.1, 3.0])))(rng)


def _per_tensor(inputs, expected):
    clip = inputs["clip_norm"]
    clipped = [None if g is None else g * min(1.0, clip / max(np.linalg.norm(g), 1e-300)) for g in inputs["grads"]]
    return {"clipped": clipped}


def _always(inputs, expected):
    norm = expected["global_norm"]
    if not np.isfinite(norm) or norm >= inputs["clip_norm"]:  # then scaling to clip_norm is no mistake
        return {"clipped": []}  # matches nothing
    return {"clipped": [None if g is None else g * inputs["clip_norm"] / norm for g in inputs["grads"]]}


def _by_value(inputs, expected):
    clip = inputs["clip_norm"]
    return {"clipped": [None if g is None else np.clip(g, -clip, clip) for g in inputs["grads"]]}


CLIP_MISTAKES = (
    Mistake("each gradient was clipped by its own norm; clip_by_global_norm scales all of them by one factor "
            "computed from the norm of all of them together", _per_tensor),
    Mistake("the gradients were scaled to norm clip_norm even though their global norm was already below it: "
            "nothing changes below the threshold", _always),
    Mistake("each entry was clipped to [-clip_norm, clip_norm] (clip by value); clipping by global norm scales "
            "every gradient by one factor, keeping their direction", _by_value),
)
CLIP_HINT = ("global_norm = sqrt(sum of every squared entry of every gradient, None skipped); each gradient is "
             "multiplied by clip_norm / max(global_norm, clip_norm); return (clipped list, global_norm)")


def _judge_clip(hidden):
    """Compare a clipped list with TensorFlow's, None entries and NaN results included."""
    def judge(inputs, expected, received, timing):
        with np.errstate(invalid="ignore"):  # inf - inf when the norm is infinite; no warning on stderr
            return _clip_verdict(inputs, expected, received, hidden)
    return judge


def _clip_verdict(inputs, expected, received, hidden):
    problem = compare_value("global_norm", expected["global_norm"], received.get("global_norm"), 1e-6, 1e-8, hidden)
    clipped, want = received.get("clipped"), expected["clipped"]
    if problem is None and (not isinstance(clipped, (list, tuple)) or len(clipped) != len(want)):
        count = f" of {len(clipped)}" if isinstance(clipped, (list, tuple)) else ""
        problem = (f"clipped: expected a list of {len(want)} entries, one per gradient, "
                   f"received {type(clipped).__name__}{count}")
    for index, value in enumerate(want if problem is None else ()):
        got = clipped[index]
        if value is None:
            if got is not None:
                problem = f"clipped[{index}]: the gradient was None and should stay None (as in TensorFlow)"
        elif np.isnan(value).all():
            if not isinstance(got, np.ndarray) or got.shape != value.shape or not np.isnan(got).all():
                problem = (f"clipped[{index}]: the global norm is not finite, so every clipped value is NaN "
                           "(TensorFlow's semantics: scaling by clip_norm / inf would silently zero them)")
        else:
            problem = compare_value(f"clipped[{index}]", value, got, 1e-6, 1e-8, hidden)
        if problem:
            break
    if problem is None:
        return True, ""
    for mistake in CLIP_MISTAKES:
        wrong = mistake.outputs(inputs, expected)["clipped"]
        if isinstance(clipped, (list, tuple)) and len(clipped) == len(wrong) and all(
                (w is None and g is None) or (w is not None and compare_value("", w, g, 1e-6, 1e-8) is None)
                for w, g in zip(wrong, clipped)):
            return False, f"{problem}\nThis matches a known mistake: {mistake.name}."
    return False, f"{problem}\nHint: {CLIP_HINT}"


def _clip_checks(rng):
    """Bad: a clip_norm of 0.0, 0 and below; good: a positive float and int (TensorFlow rejects the same)."""
    return mixed(rng, [({"clip_norm": 0.0}, "clip_norm"), ({"clip_norm": 0}, "clip_norm"),
                       ({"clip_norm": -float(rng.uniform(0.01, 5.0))}, "clip_norm")],
                 [{"clip_norm": float(rng.uniform(1e-3, 10.0))}, {"clip_norm": int(rng.integers(1, 5))}])


CLIP = [
    Case("clip_by_global_norm", "norm above the threshold", _clip_inputs([(3, 4), (4,), (2, 2, 2)], 1.0),
         ref.clip_by_global_norm, ("clipped", "global_norm"), judge=_judge_clip(False)),
    Case("clip_by_global_norm", "norm below the threshold", _clip_inputs([(5,), (2, 3)], 50.0, scale=0.5),
         ref.clip_by_global_norm, ("clipped", "global_norm"), judge=_judge_clip(False)),
    Case("clip_by_global_norm", "a None gradient is passed through", _clip_inputs([(3,), (2, 2), ()], 2.0, 3.0, (1,)),
         ref.clip_by_global_norm, ("clipped", "global_norm"), judge=_judge_clip(False), points=0.5),
    rejections_case("clip_by_global_norm", "a clip_norm of 0 or below is rejected, positive ones accepted",
                    lambda rng: {"grads": [np.ones(3)], "clip_norm": 1.0}, _clip_checks),
    Case("clip_by_global_norm", "an infinite entry", _clip_inputs([(3,), (2,)], 1.0, special=(1, np.inf)),
         ref.clip_by_global_norm, ("clipped", "global_norm"), judge=_judge_clip(False)),
    Case("clip_by_global_norm", "random list", _random_clip, ref.clip_by_global_norm, ("clipped", "global_norm"),
         hidden=True, judge=_judge_clip(True)),
]


ASSIGNMENT = Assignment(
    name="07_rnn_bptt",
    title="Recurrent networks and backpropagation through time",
    cases=tuple(STEP + SEQUENCE + DISTANCE + CLIP),
)
