"""Grading cases of assignment 03 (optimization), against ``dlcourse.references.optimization``.

Schedules are compared elementwise with Keras's schedules over hundreds of steps. Each optimizer
is stepped 10-16 times on a fixed gradient sequence by the "steps" driver, and the weights and
every slot of the config (velocity, moments, accumulators, Adam's step count) are compared
with the Keras optimizer's after every step, with the defaults and with non-default values. An
epsilon of 1e-3 and a learning rate of 0.5 make Keras's forms of RMSprop and Adam differ from the
textbook's by far more than the tolerance; when a submission matches a textbook variant, the
message says which one and how Keras differs. Each case steps a second optimizer with its own
config and a copy of the first one step behind, interleaved (see ``drivers/steps.py``): state kept
anywhere but in ``config`` makes the copy differ, and the message says so.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcourse.autograder.cases.rejections import mixed, rejections_case
from dlcourse.autograder.engine.case import Assignment, Case, Mistake, Steps
from dlcourse.autograder.engine.compare import compare_value
from dlcourse.autograder.engine.probes import same_value
from dlcourse.references import optimization as ref

# Both sides compute in float64 (see the reference's docstring); what remains is rounding in a
# different order of operations, ~1e-15 relative after 16 steps. The textbook variants named below
# differ by 1e-6 relative or more on the cases built to show them.
RTOL, ATOL = 1e-9, 1e-12


# ----------------------------------------------------------------------------- schedules


def _schedule_inputs(step, initial_learning_rate, decay_steps, decay_rate, staircase):
    def make(rng):
        return {"step": step, "initial_learning_rate": initial_learning_rate, "decay_steps": decay_steps,
                "decay_rate": decay_rate, "staircase": staircase}
    return make


def _random_schedule(rng):
    """Random hyperparameters and steps, in no particular order (a schedule is a function of the step)."""
    return _schedule_inputs(rng.integers(0, 5000, size=int(rng.integers(50, 400))),
                            float(rng.uniform(0.01, 2.0)), int(rng.integers(1, 500)),
                            float(rng.uniform(0.05, 0.99)), bool(rng.integers(2)))(rng)


def _schedule_checks(rng):
    """Bad: steps with one -1 (an array), a negative step (an int), a decay_steps of 0, a negative one; good:
    steps from 0 up, decay_steps 1 and more (the notebook: "Raise ValueError for decay_steps <= 0 or a negative step")."""
    steps = rng.integers(0, 50, size=int(rng.integers(2, 8)))
    steps[int(rng.integers(len(steps)))] = 0
    negative = steps.copy()
    negative[int(rng.integers(len(steps)))] = -1  # the boundary; the single int below is any negative
    return mixed(rng, [({"step": negative}, "step"), ({"step": -int(rng.integers(1, 20))}, "step"),
                       ({"decay_steps": 0}, "decay_steps"), ({"decay_steps": -int(rng.integers(1, 5))}, "decay_steps")],
                 [{"step": steps}, {"step": int(rng.integers(0, 50))}, {"decay_steps": 1},
                  {"decay_steps": int(rng.integers(2, 50))}])


def _schedule_mistakes(unit: str) -> tuple[Mistake, ...]:
    def rate(inputs, p):
        lr0, decay_rate = float(inputs["initial_learning_rate"]), float(inputs["decay_rate"])
        if unit == "exponential_decay":
            return lr0 * decay_rate ** p
        return lr0 / (1.0 + decay_rate * p)

    def steps(inputs):
        return np.asarray(inputs["step"], dtype=np.float64)

    def with_p(make_p):
        def outputs(inputs, expected):
            p = make_p(inputs)
            return None if p is None else {"learning_rate": rate(inputs, p)}
        return outputs

    mistakes = [
        Mistake("staircase is ignored: with staircase=True, p = floor(step / decay_steps)",
                with_p(lambda i: steps(i) / i["decay_steps"] if i["staircase"] else None)),
        Mistake("p is floored although staircase=False (integer division step // decay_steps); "
                "only staircase=True floors it",
                with_p(lambda i: np.floor(steps(i) / i["decay_steps"]) if not i["staircase"] else None)),
        Mistake("the step is counted from 1; Keras evaluates the schedule at the number of steps already taken "
                "(0 for the first update)",
                with_p(lambda i: (np.floor if i["staircase"] else np.asarray)((steps(i) + 1) / i["decay_steps"]))),
        Mistake("step is not divided by decay_steps", with_p(lambda i: steps(i))),
    ]
    if unit == "inverse_time_decay":
        mistakes.append(Mistake(
            "the exponential rule lr0 * decay_rate ** p; inverse-time decay is lr0 / (1 + decay_rate * p)",
            lambda i, e: {"learning_rate": float(i["initial_learning_rate"]) * float(i["decay_rate"]) ** (
                np.floor(steps(i) / i["decay_steps"]) if i["staircase"] else steps(i) / i["decay_steps"])}))
    return tuple(mistakes)


SCHEDULE_HINTS = {
    "inverse_time_decay": "lr0 / (1 + decay_rate * p) with p = step / decay_steps, floored only when staircase=True",
    "exponential_decay": "lr0 * decay_rate ** p with p = step / decay_steps, floored only when staircase=True",
}


def _schedule_cases(unit: str) -> list[Case]:
    reference = lambda **inputs: ref.schedule(unit, **inputs)  # noqa: E731
    mistakes = _schedule_mistakes(unit)
    hint = SCHEDULE_HINTS[unit]
    steps = np.arange(0, 1001, 7)
    integer_case = (_schedule_inputs(np.arange(0, 101), 1, 10, 2, True) if unit == "inverse_time_decay"
                    else _schedule_inputs(np.arange(0, 101), 2, 10, 0.5, True))
    integer_name = ("integer-looking arguments: lr0=1, decay_steps=10, decay_rate=2, staircase, steps 0-100"
                    if unit == "inverse_time_decay" else
                    "integer-looking arguments: lr0=2, decay_steps=10, decay_rate=0.5, staircase, steps 0-100")

    def case(name, inputs, hidden=False, points=1.0):
        return Case(unit, name, inputs, reference, ("learning_rate",), hidden=hidden, rtol=RTOL, atol=ATOL,
                    mistakes=() if hidden else mistakes, hint=hint, points=points)

    return [
        case("lr0=0.1, decay_steps=100, decay_rate=0.96, steps 0-1000", _schedule_inputs(steps, 0.1, 100, 0.96, False)),
        case("the same steps out of order, staircase=True", _schedule_inputs(
            np.random.default_rng(3).permutation(steps), 0.1, 100, 0.96, True)),
        case(integer_name, integer_case),
        case("a single step (an int): step=250, lr0=0.5, decay_steps=30, decay_rate=0.3",
             _schedule_inputs(250, 0.5, 30, 0.3, False)),
        case("random hyperparameters and steps", _random_schedule, hidden=True, points=0.5),
        # the notebook: "Raise ValueError for decay_steps <= 0 or a negative step"; decay_steps = 1 is valid
        rejections_case(unit, "a negative step or decay_steps of 0 or below is rejected, others accepted",
                        _schedule_inputs(np.arange(0, 20), 0.1, 10, 0.5, False), _schedule_checks),
    ]


# ----------------------------------------------------------------------------- textbook variants (NumPy)

def _zeros_like(w):
    return np.zeros_like(np.asarray(w, dtype=np.float64))


def _hyper(unit, config):
    return {**ref.OPTIMIZERS[unit][1], **config}


def _run(update: Callable, w, dws) -> dict:
    """Step a variant ``update(w, g, state) -> (w, state)`` through ``dws``; record weights and states."""
    w, state, weights, states = np.array(w, dtype=np.float64), {}, [], []
    for g in np.asarray(dws, dtype=np.float64):
        w, state = update(w, g, state)
        weights.append(w)
        states.append(dict(state))
    return {"weights": np.stack(weights), "configs": states}


def momentum_pytorch(w, dws, config, nesterov=None):
    """PyTorch's SGD momentum: buf = mu buf + g; w -= lr (g + mu buf) (Nesterov) or lr buf."""
    h = _hyper("sgd_momentum", config)
    nesterov = h["nesterov"] if nesterov is None else nesterov

    def update(w, g, state):
        buf = h["momentum"] * state.get("velocity", _zeros_like(w)) + g
        step = g + h["momentum"] * buf if nesterov else buf
        return w - h["learning_rate"] * step, {"velocity": buf}
    return _run(update, w, dws)


def momentum_keras(w, dws, config, nesterov=None):
    """Keras's form, optionally with ``nesterov`` forced (to recognise a flag that was ignored)."""
    h = _hyper("sgd_momentum", config)
    nesterov = h["nesterov"] if nesterov is None else nesterov

    def update(w, g, state):
        m = h["momentum"] * state.get("velocity", _zeros_like(w)) - h["learning_rate"] * g
        return (w + h["momentum"] * m - h["learning_rate"] * g if nesterov else w + m), {"velocity": m}
    return _run(update, w, dws)


def rmsprop_variant(w, dws, config, eps_outside=False, swapped=False):
    h = _hyper("rmsprop", config)
    rho = 1 - h["rho"] if swapped else h["rho"]

    def update(w, g, state):
        v = rho * state.get("velocity", _zeros_like(w)) + (1 - rho) * g * g
        denominator = np.sqrt(v) + h["epsilon"] if eps_outside else np.sqrt(v + h["epsilon"])
        return w - h["learning_rate"] * g / denominator, {"velocity": v}
    return _run(update, w, dws)


def adadelta_variant(w, dws, config, learning_rate=None, eps_outside=False):
    h = _hyper("adadelta", config)
    lr = h["learning_rate"] if learning_rate is None else learning_rate
    eps = h["epsilon"]

    def rms(x):
        return np.sqrt(x) + eps if eps_outside else np.sqrt(x + eps)

    def update(w, g, state):
        eg = h["rho"] * state.get("accumulated_grad", _zeros_like(w)) + (1 - h["rho"]) * g * g
        ed = state.get("accumulated_delta_var", _zeros_like(w))
        delta = -rms(ed) * g / rms(eg)
        ed = h["rho"] * ed + (1 - h["rho"]) * delta * delta
        return w + lr * delta, {"accumulated_grad": eg, "accumulated_delta_var": ed}
    return _run(update, w, dws)


def adam_variant(w, dws, config, form="keras"):
    """Adam as Keras ("keras"), as Kingma & Ba's Algorithm 1 and PyTorch ("textbook"), or without
    bias correction ("uncorrected")."""
    h = _hyper("adam", config)
    b1, b2, eps, lr = h["beta_1"], h["beta_2"], h["epsilon"], h["learning_rate"]

    def update(w, g, state):
        t = state.get("t", 0) + 1
        m = b1 * state.get("m", _zeros_like(w)) + (1 - b1) * g
        v = b2 * state.get("v", _zeros_like(w)) + (1 - b2) * g * g
        if form == "textbook":
            step = lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        elif form == "uncorrected":
            step = lr * m / (np.sqrt(v) + eps)
        else:
            step = lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
        return w - step, {"m": m, "v": v, "t": t}
    return _run(update, w, dws)


def momentum_moving_average(w, dws, config):
    """Momentum as an exponential moving average of the gradients: v = b * v + (1 - b) * dw, w -= lr * v."""
    h = _hyper("sgd_momentum", config)
    b, lr = h["momentum"], h["learning_rate"]

    def update(w, g, state):
        v = b * state.get("velocity", _zeros_like(w)) + (1 - b) * g
        return w - lr * v, {"velocity": v}
    return _run(update, w, dws)


def adam_misstep(w, dws, config, first_t=1, epsilon=None):
    """Adam as Keras, but with the step count starting at ``first_t`` (so the first step uses t = first_t + 1)
    or a fixed ``epsilon`` in place of the config's."""
    h = _hyper("adam", config)
    b1, b2, lr = h["beta_1"], h["beta_2"], h["learning_rate"]
    eps = h["epsilon"] if epsilon is None else epsilon

    def update(w, g, state):
        t = state.get("t", first_t) + 1
        m = b1 * state.get("m", _zeros_like(w)) + (1 - b1) * g
        v = b2 * state.get("v", _zeros_like(w)) + (1 - b2) * g * g
        return w - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps), {"m": m, "v": v, "t": t}
    return _run(update, w, dws)


def sgd_ascent(w, dws, config):
    h = _hyper("sgd", config)
    return _run(lambda w, g, state: (w + h["learning_rate"] * g, {}), w, dws)


def _flag(inputs):
    return bool(_hyper("sgd_momentum", inputs["config"])["nesterov"])


# (name of the variant, how Keras differs, NumPy implementation (inputs) -> {"weights", "configs"},
#  the slot keys compared, or None to compare the weights only).
VARIANTS: dict[str, list[tuple[str, Callable[[dict], dict], tuple[str, ...] | None]]] = {
    "sgd": [
        ("gradient ascent: the step was added (w + lr * dw); gradient descent subtracts it, w - lr * dw",
         lambda i: sgd_ascent(i["w"], i["dws"], i["config"]), None),
    ],
    "sgd_momentum": [
        ("PyTorch-style momentum: a velocity buf = momentum * buf + dw without the learning rate, and "
         "w -= lr * buf (with Nesterov, w -= lr * (dw + momentum * buf)). The weights are the same for a "
         "constant rate, but Keras's slot is m = momentum * m - lr * dw (the learning rate and the sign are "
         "inside), and `velocity` must hold Keras's m",
         lambda i: momentum_pytorch(i["w"], i["dws"], i["config"]), ("velocity",)),
        ("nesterov=True was ignored: Keras's Nesterov step is w += momentum * m - lr * dw with the new m "
         "(the classic step is w += m)",
         lambda i: momentum_keras(i["w"], i["dws"], i["config"], nesterov=False) if _flag(i) else None, None),
        ("a Nesterov step although nesterov=False: the classic step is w += m",
         lambda i: momentum_keras(i["w"], i["dws"], i["config"], nesterov=True) if not _flag(i) else None, None),
        ("momentum as a moving average, v = momentum * v + (1 - momentum) * dw and w -= lr * v: that damps every "
         "step by (1 - momentum); Keras's velocity is m = momentum * m - lr * dw and w += m",
         lambda i: momentum_moving_average(i["w"], i["dws"], i["config"]) if not _flag(i) else None, None),
    ],
    "rmsprop": [
        ("epsilon outside the square root, lr * dw / (sqrt(v) + eps), as in the textbook and PyTorch; Keras adds "
         "it inside: lr * dw / sqrt(v + eps)",
         lambda i: rmsprop_variant(i["w"], i["dws"], i["config"], eps_outside=True), None),
        ("rho and 1 - rho swapped: v = rho * v + (1 - rho) * dw**2 keeps rho of the old average",
         lambda i: rmsprop_variant(i["w"], i["dws"], i["config"], swapped=True), None),
    ],
    "adadelta": [
        ("Zeiler's Adadelta without a learning rate (w += delta); Keras multiplies the step by learning_rate "
         "(0.001 by default): w += lr * delta",
         lambda i: adadelta_variant(i["w"], i["dws"], i["config"], learning_rate=1.0), None),
        ("epsilon outside the square roots; Keras uses sqrt(E + eps) for both RMS terms",
         lambda i: adadelta_variant(i["w"], i["dws"], i["config"], eps_outside=True), None),
    ],
    "adam": [
        ("the textbook Adam (Kingma & Ba's Algorithm 1, also PyTorch's): lr * m_hat / (sqrt(v_hat) + eps) with "
         "m_hat = m / (1 - beta_1**t), v_hat = v / (1 - beta_2**t). Keras uses the 'epsilon hat' form of the "
         "paper's section 2: alpha_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t), w -= alpha_t * m / (sqrt(v) + eps), "
         "so its epsilon is not divided by sqrt(1 - beta_2**t)",
         lambda i: adam_variant(i["w"], i["dws"], i["config"], form="textbook"), None),
        ("the bias correction is missing: Keras scales the step by sqrt(1 - beta_2**t) / (1 - beta_1**t), "
         "t = the number of steps including this one",
         lambda i: adam_variant(i["w"], i["dws"], i["config"], form="uncorrected"), None),
        ("the step count started at 1, so the first step used t = 2: start t at 0 and add 1 before each step",
         lambda i: adam_misstep(i["w"], i["dws"], i["config"], first_t=1), None),
        ("a fixed epsilon of 1e-8 (PyTorch's default) instead of config['epsilon'] (Keras's default is 1e-7)",
         lambda i: adam_misstep(i["w"], i["dws"], i["config"], first_t=0, epsilon=1e-8), None),
    ],
}

OPTIMIZER_HINTS = {
    "sgd": "next_w = w - learning_rate * dw",
    "sgd_momentum": ("v = momentum * v - learning_rate * dw; next_w = w + v, or with nesterov "
                     "w + momentum * v - learning_rate * dw"),
    "rmsprop": "v = rho * v + (1 - rho) * dw**2; next_w = w - learning_rate * dw / sqrt(v + epsilon)",
    "adadelta": "the update is -sqrt(E[dx^2] + eps) * dw / sqrt(E[g^2] + eps), computed after updating E[g^2] "
                "and before updating E[dx^2]; next_w = w + learning_rate * update",
    "adam": ("t = t + 1 (starting from 0); alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t); "
             "next_w = w - alpha * m / (sqrt(v) + eps)"),
}


def _first_difference(expected: dict, weights, configs, slots) -> str | None:
    """The first step at which the weights or a slot differ (None: all agree within tolerance)."""
    for k in range(len(expected["configs"])):
        problem = compare_value(f"w after step {k + 1}", expected["weights"][k], weights[k], RTOL, ATOL)
        if problem:
            return problem
        want = expected["configs"][k] if slots is None else {key: expected["configs"][k][key] for key in slots}
        problem = compare_value(f"config after step {k + 1}", want, configs[k], RTOL, ATOL)
        if problem:
            return problem
    return None


def matching_variant(unit: str, inputs: dict, weights, configs) -> str | None:
    """The name of the first textbook variant that ``weights`` (and its compared slots) reproduce."""
    for name, implementation, slots in VARIANTS[unit]:
        wrong = implementation(inputs)
        if wrong is None:
            continue
        if _first_difference(wrong, weights, configs, slots if slots is not None else ()) is None:
            return name
    return None


def _steps_judge(unit: str):
    keras_name = ref.OPTIMIZERS[unit][0]

    def judge(inputs, expected, received, timing):
        value, want = received["result"], expected["result"]
        problem = _malformed(value, len(want["configs"]))
        if problem:
            return False, problem
        weights, configs = value["weights"], value["configs"]
        if isinstance(value.get("copy"), dict) and not _malformed(value["copy"], len(want["configs"])):
            copy = value["copy"]
            drift = next((k for k in range(len(configs)) if not (same_value(weights[k], copy["weights"][k])
                                                                 and same_value(configs[k], copy["configs"][k]))), None)
            if drift is not None:
                return False, (f"your {unit} keeps state outside `config`: two optimizers stepped on the same weights, "
                               f"gradients and config gave different results after step {drift + 1} when other "
                               "optimizers were stepped in between; its result may depend only on (w, dw, config): "
                               "keep every slot (velocity, moments, step count) in the config it returns")
        problem = _first_difference(want, weights, configs, None)
        if problem is not None:
            message = f"differs from keras.optimizers.{keras_name}: {problem}"
            variant = matching_variant(unit, inputs, weights, configs)
            if variant is not None:
                return False, message + f"\nThis matches a known variant: {variant}."
            return False, message + f"\nHint: {OPTIMIZER_HINTS[unit]}"
        if "partner" in expected:
            for key in ("partner", "copy"):
                problem = _malformed(value.get(key), len(want["configs"] if key == "copy" else
                                                         expected["partner"]["configs"]))
                if problem:
                    return False, f"the interleaved optimizers were not all stepped ({key}: {problem})"
            partner = value["partner"]
            problem = _first_difference(expected["partner"], partner["weights"], partner["configs"], None)
            if problem is not None:
                return False, (f"a second optimizer with its own config, stepped in turn with this one, differs from "
                               f"keras.optimizers.{keras_name}: {problem} (its config was "
                               f"{_config_text(inputs['partner']['config'])})")
        steps = len(want["configs"])
        return True, f"{steps} steps agree with keras.optimizers.{keras_name}"
    return judge


def _malformed(value, steps: int) -> str | None:
    """Why ``value`` is not ``{"weights": K arrays, "configs": K dicts}`` (None: it is)."""
    if not isinstance(value, dict) or "weights" not in value or "configs" not in value:
        return "the steps driver received no (next_w, config) pairs"
    weights, configs = value["weights"], value["configs"]
    if len(weights) != steps or len(configs) != steps:
        return f"expected {steps} steps, received {len(weights)}"
    if not all(isinstance(config, dict) for config in configs):
        return "config must be a dict (return (next_w, config))"
    return None


def _config_text(config: dict) -> str:
    return "{" + ", ".join(f"{key}: {value!r}" for key, value in config.items()) + "}" if config else "{} (defaults)"


# ----------------------------------------------------------------------------- optimizer cases

def _gradients(rng, shape, steps):
    """A gradient sequence with a persistent direction and per-coordinate scales from 0.01 to 3."""
    scales = 10.0 ** rng.uniform(-2.0, 0.5, size=shape)
    drift = rng.normal(size=shape)
    return (0.7 * drift + rng.normal(size=(steps,) + tuple(shape))) * scales


def _steps_inputs(shape, config, steps=12):
    def make(rng):
        inputs = {"w": rng.normal(size=shape), "dws": _gradients(rng, shape, steps), "config": dict(config)}
        return {**inputs, "partner": _partner(rng, inputs)}
    return make


def _partner(rng, inputs) -> dict:
    """A second optimizer stepped in turn with the case's own: another shape, other gradients, another config.

    Drawn after the case's own inputs, so those stay what they were; its config changes the learning
    rate and keeps the case's other settings (the same unit, a separate instance).
    """
    shape = tuple(np.shape(inputs["w"]))[::-1] + (2,)
    steps = len(inputs["dws"]) - 2
    config = {**inputs["config"], "learning_rate": float(rng.choice([0.002, 0.03, 0.25]))}
    return {"w": rng.normal(size=shape), "dws": _gradients(rng, shape, steps), "config": config}


def _random_steps(unit):
    def make(rng):
        shape = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 4))))
        config = {"learning_rate": float(rng.choice([0.001, 0.01, 0.1, 0.5]))}
        if unit == "sgd_momentum":
            config.update(momentum=float(rng.uniform(0.5, 0.99)), nesterov=bool(rng.integers(2)))
        if unit in ("rmsprop", "adadelta"):
            config.update(rho=float(rng.uniform(0.5, 0.99)), epsilon=float(rng.choice([1e-7, 1e-4, 1e-3])))
        if unit == "adam":
            config.update(beta_1=float(rng.uniform(0.5, 0.95)), beta_2=float(rng.uniform(0.8, 0.9999)),
                          epsilon=float(rng.choice([1e-7, 1e-4, 1e-3])))
        return _steps_inputs(shape, config, int(rng.integers(10, 17)))(rng)
    return make


def _steps_case(unit, name, inputs, hidden=False, points=1.0):
    def reference(w, dws, config, partner=None):
        expected = ref.optimizer_steps(unit, w, dws, config)
        if partner is not None:
            expected["partner"] = ref.optimizer_steps(unit, partner["w"], partner["dws"], partner["config"])["result"]
        return expected
    return Case(unit, name, inputs, reference, ("result",), driver=Steps(), hidden=hidden, points=points,
                judge=_steps_judge(unit), rtol=RTOL, atol=ATOL)


# Non-default values are exact in float32 where they can be (0.875, 0.5, 0.75), so that the same
# numbers also mean the same thing to Keras used without the reference's float64 care.
OPTIMIZER_CASES = [
    _steps_case("sgd", "defaults (config {}), 12 steps on a (4, 5) weight", _steps_inputs((4, 5), {})),
    _steps_case("sgd", "learning_rate 0.5, 12 steps on a (6,) weight", _steps_inputs((6,), {"learning_rate": 0.5})),
    _steps_case("sgd", "random weights and rate", _random_steps("sgd"), hidden=True),
    _steps_case("sgd_momentum", "defaults (momentum 0.9), 12 steps", _steps_inputs((4, 5), {})),
    _steps_case("sgd_momentum", "nesterov=True, other defaults", _steps_inputs((4, 5), {"nesterov": True})),
    _steps_case("sgd_momentum", "learning_rate 0.5, momentum 0.875", _steps_inputs(
        (3, 2, 2), {"learning_rate": 0.5, "momentum": 0.875})),
    _steps_case("sgd_momentum", "learning_rate 0.5, momentum 0.875, nesterov=True", _steps_inputs(
        (3, 2, 2), {"learning_rate": 0.5, "momentum": 0.875, "nesterov": True})),
    _steps_case("sgd_momentum", "random hyperparameters", _random_steps("sgd_momentum"), hidden=True, points=2.0),
    _steps_case("rmsprop", "defaults (rho 0.9, epsilon 1e-7), 12 steps", _steps_inputs((4, 5), {})),
    _steps_case("rmsprop", "learning_rate 0.5, rho 0.75, epsilon 1e-3", _steps_inputs(
        (4, 5), {"learning_rate": 0.5, "rho": 0.75, "epsilon": 1e-3})),
    _steps_case("rmsprop", "random hyperparameters", _random_steps("rmsprop"), hidden=True, points=2.0),
    _steps_case("adadelta", "defaults (learning_rate 0.001, rho 0.95, epsilon 1e-7), 12 steps",
                _steps_inputs((4, 5), {})),
    _steps_case("adadelta", "learning_rate 0.5, rho 0.875, epsilon 1e-3", _steps_inputs(
        (4, 5), {"learning_rate": 0.5, "rho": 0.875, "epsilon": 1e-3})),
    _steps_case("adadelta", "random hyperparameters", _random_steps("adadelta"), hidden=True, points=2.0),
    _steps_case("adam", "defaults (beta_1 0.9, beta_2 0.999, epsilon 1e-7), 12 steps", _steps_inputs((4, 5), {})),
    _steps_case("adam", "learning_rate 0.5, beta_1 0.75, beta_2 0.875, epsilon 1e-3", _steps_inputs(
        (4, 5), {"learning_rate": 0.5, "beta_1": 0.75, "beta_2": 0.875, "epsilon": 1e-3})),
    _steps_case("adam", "random hyperparameters", _random_steps("adam"), hidden=True, points=2.0),
]


ASSIGNMENT = Assignment(
    name="03_optimization",
    title="Optimization",
    # in the notebook's order: plain SGD, the schedules that anneal its rate, then the other optimizers
    cases=tuple(OPTIMIZER_CASES[:3] + _schedule_cases("inverse_time_decay") + _schedule_cases("exponential_decay")
                + OPTIMIZER_CASES[3:]),
)
