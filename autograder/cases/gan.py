"""Grading cases of assignment 09 (gan), against the Keras references in ``dlcourse.references.gan``.

Students write Keras code, so this assignment's sandbox lets Keras import (``frameworks=True``).
Their tensors and models never cross the boundary: the worker's drivers ("keras_call",
"keras_model", "gan_step", "gan_train") turn them into arrays first. The builders' cases are fresh (weights and
a batch drawn at each grading), so their reference runs at every grading: ``ref.dense_output``, the
Dense stack in NumPy, equal to the Keras build's ``ref.mlp_output`` to about 1e-15 (tested) and some
hundred times cheaper than building the model. A training step is compared
with the reference computed here, in float64, from the same injected weights, noise and batch.

Tolerance of a step: the student's networks run in float32 (Keras's default float type); one step
through these small networks differs from float64 by at most about 1e-7 (measured: 9e-8 over SGD
and Adam steps), so ``atol = rtol = 1e-5`` leaves a factor of 100, while the smallest of the named
mistakes moves some weight by more than 1e-3. Optimizers are SGD and Adam with stated
hyperparameters: their first step is deterministic and documented (see docs/keras-facts.md for Adam's form).

Points for training rest on steps verified exactly: ``STEPS_TOGETHER`` runs five compiled steps in a row
from weights and batches drawn from the secret and compares every loss and weight with the reference.
The ring-coverage case is a report with no points: whether training happened cannot be told from the
weights a worker returns (a generator made by hand, or trained before grading, covers a ring as
well), so no score rests on it. It believes only arrays: the worker returns the generator's weights before and
after training, and the judge maps noise the worker never saw (``eval_noise``, drawn afresh at each
grading) through them in the reference Dense stack (``generator_samples``). The samples it judges are
its own; the generator must be the assignment's Dense stack, must not cover the ring before the
first step, and its weights must move (``training_problem``).
"""

from __future__ import annotations

import hashlib

import numpy as np

from dlcourse.autograder.engine.case import Assignment, Case, GanStep, GanTrain, KerasCall, KerasModel, Mistake
from dlcourse.autograder.engine.compare import compare_value, describe
from dlcourse.references import gan as ref

# ----------------------------------------------------------------------------- the data: a ring of Gaussians

RING_MODES = 8
RING_RADIUS = 2.0
RING_STD = 0.05
ON_MODE_RADIUS = 0.25  # five standard deviations: a sample this close to a centre is "on" that mode
REQUIRED_MODES = 7


def ring_centres() -> np.ndarray:
    """The 8 mode centres, (8, 2): radius 2, angles 0, 45, ..., 315 degrees."""
    angles = 2 * np.pi * np.arange(RING_MODES) / RING_MODES
    return RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def sample_ring(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points (n, 2) of an equal mixture of 8 Gaussians (std 0.05) on the circle of radius 2."""
    return ring_centres()[rng.integers(0, RING_MODES, size=n)] + rng.normal(0.0, RING_STD, size=(n, 2))


def mode_counts(samples: np.ndarray) -> np.ndarray:
    """How many of ``samples`` (M, 2) lie within ``ON_MODE_RADIUS`` of each centre: (8,) integers."""
    distances = np.linalg.norm(samples[:, None, :] - ring_centres()[None], axis=2)
    on_mode = distances.min(axis=1) <= ON_MODE_RADIUS
    return np.bincount(distances.argmin(axis=1)[on_mode], minlength=RING_MODES)


def modes_covered(samples: np.ndarray) -> int:
    """Modes with at least a quarter of their fair share of the samples: ``count >= M / 32``."""
    return int(np.sum(mode_counts(samples) >= len(samples) / (4 * RING_MODES)))


# ----------------------------------------------------------------------------- stable BCE, for named mistakes

def _bce(labels, logits):
    logits = np.asarray(logits, np.float64)
    return float(np.mean(np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))))


def _clipped_bce(labels, logits):
    """``BinaryCrossentropy(from_logits=False)`` on float32 ``sigmoid(logits)``: clipped to [1e-7, 1 - 1e-7]."""
    eps = np.float32(1e-7)
    p = np.clip(np.exp(-np.logaddexp(np.float32(0), -np.asarray(logits, np.float32))), eps, np.float32(1) - eps)
    return float(np.mean(-(labels * np.log(p) + (1 - labels) * np.log(1 - p))))


# ----------------------------------------------------------------------------- losses

def _logits(n, scale, extremes=()):
    def make(rng):
        logits = rng.normal(0.0, scale, size=(n, 1))
        logits[:len(extremes), 0] = extremes
        return logits
    return make


def _d_inputs(n_real, n_fake, scale, extremes=()):
    """Real and generated batches of different sizes: one cross-entropy over their concatenation weights
    each half by its size, which only equals the mean of the two halves' means when the sizes agree."""
    def make(rng):
        return {"logits_real": _logits(n_real, scale, extremes)(rng),
                "logits_fake": _logits(n_fake, scale, extremes[::-1])(rng)}
    return make


def _random_d(rng):
    n_real = int(rng.integers(2, 40))
    n_fake = int(rng.integers(2, 39))
    return _d_inputs(n_real, n_fake + (n_fake >= n_real), 5.0)(rng)  # never the same size


def _g_inputs(n, scale, extremes=()):
    def make(rng):
        return {"logits_fake": _logits(n, scale, extremes)(rng)}
    return make


def _random_g(rng):
    return _g_inputs(int(rng.integers(2, 40)), 5.0)(rng)


EXTREMES = (100.0, -100.0, 100.0, -100.0)
LOSS_TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}
LOSS_HINT = ("use keras.losses.BinaryCrossentropy(from_logits=True) on the logits: it never takes the log of 0, "
             "as log(1 - sigmoid(z)) does for z = 100 in float32")

D_MISTAKES = (
    Mistake("the labels are swapped: real data has label 1 and generated data label 0",
            lambda i, e: {"loss": _bce(0, i["logits_real"]) + _bce(1, i["logits_fake"])}),
    Mistake("the two halves are averaged; the loss is their sum, BCE(1, real) + BCE(0, fake) = -V(D, G)",
            lambda i, e: {"loss": 0.5 * e["loss"]}),
    Mistake("one cross-entropy over the concatenated real and generated batch: it weights each half by its "
            "size; the loss is BCE(1, real) + BCE(0, fake), each a mean over its own batch",
            lambda i, e: {"loss": _concatenated(i)}),
    Mistake("twice one cross-entropy over the concatenated real and generated batch: that equals the loss only "
            "when both batches have the same size; the loss is BCE(1, real) + BCE(0, fake), each a mean over "
            "its own batch", lambda i, e: {"loss": 2 * _concatenated(i)}),
    Mistake("probabilities were passed with from_logits=False: Keras clips them to [1e-7, 1 - 1e-7], which "
            "caps each term near 16; pass the logits with from_logits=True",
            lambda i, e: {"loss": _clipped_bce(1, i["logits_real"]) + _clipped_bce(0, i["logits_fake"])}),
)

def _concatenated(inputs) -> float:
    """BCE over the concatenated batch, labels 1 for the real logits and 0 for the generated ones."""
    real, fake = np.asarray(inputs["logits_real"]).reshape(-1), np.asarray(inputs["logits_fake"]).reshape(-1)
    labels = np.concatenate([np.ones_like(real), np.zeros_like(fake)])
    return _bce(labels, np.concatenate([real, fake]))


G_MISTAKES = (
    Mistake("this is the saturating loss mean(log(1 - D(G(z)))) of the minimax game; the non-saturating "
            "loss is -mean(log D(G(z))) = BCE(1, logits_fake)", lambda i, e: {"loss": -_bce(0, i["logits_fake"])}),
    Mistake("the generated data got the discriminator's label 0; the generator wants D to say 1 (real)",
            lambda i, e: {"loss": _bce(0, i["logits_fake"])}),
    Mistake("probabilities were passed with from_logits=False: Keras clips them to [1e-7, 1 - 1e-7]; pass "
            "the logits with from_logits=True",
            lambda i, e: {"loss": _clipped_bce(1, i["logits_fake"])}),
)

def _judge_tensor(mistakes):
    def judge(inputs, expected, received, timing):
        ok, message = _judge_tensor_value(inputs, expected, received)
        if ok or message.startswith("returned a "):
            return ok, message
        for mistake in mistakes:  # a wrong value is named as in the unit's other cases
            if compare_value("loss", mistake.outputs(inputs, expected)["loss"], received["loss"],
                             **LOSS_TOLERANCE) is None:
                return False, f"{message}\nThis matches a known mistake: {mistake.name}."
        return False, f"{message}\nHint: {LOSS_HINT}"
    return judge


def _judge_tensor_value(inputs, expected, received):
    """The loss's value, and that it came back as a tensor: a Python or NumPy number passes a value check, but
    ``train_step`` differentiates the loss with a ``GradientTape``, which never sees such a number. (A tensor
    comes back as an array; a NumPy float32, from ``.numpy()``, does too and cannot be told from it here.)"""
    loss = received["loss"]
    if type(loss) in (float, int) or isinstance(loss, np.generic):
        kind = f"Python {type(loss).__name__}" if type(loss) in (float, int) else f"NumPy {type(loss).__name__}"
        return False, (f"returned a {kind} ({float(loss)!r}); return the loss as a tensor, as "
                       "keras.losses.BinaryCrossentropy(from_logits=True)(labels, logits) or keras.ops.mean(...) "
                       "give it. float(...), .item(), .numpy() and NumPy functions take it out of Keras: train_step's "
                       "GradientTape then has nothing to differentiate (and inside tf.function they fail)")
    problem = compare_value("loss", expected["loss"], loss, **LOSS_TOLERANCE)
    return problem is None, problem or ""


# "returns a tensor" cases: half a point each, taken from the unit's first public case
LOSSES = [
    Case("discriminator_loss", "8 real and 5 generated moderate logits", _d_inputs(8, 5, 2.0), ref.discriminator_loss,
         ("loss",), driver=KerasCall(), mistakes=D_MISTAKES, hint=LOSS_HINT, timeout=30.0, points=0.5,
         **LOSS_TOLERANCE),
    Case("discriminator_loss", "returns a tensor, 4 real and 7 generated", _d_inputs(4, 7, 2.0),
         ref.discriminator_loss, ("loss",), driver=KerasCall(), judge=_judge_tensor(D_MISTAKES), timeout=30.0,
         points=0.5),
    Case("discriminator_loss", "logits of +-100, 6 real and 9 generated", _d_inputs(6, 9, 2.0, EXTREMES),
         ref.discriminator_loss, ("loss",),
         driver=KerasCall(), mistakes=D_MISTAKES, hint=LOSS_HINT, timeout=30.0, **LOSS_TOLERANCE),
    Case("discriminator_loss", "random batch", _random_d, ref.discriminator_loss, ("loss",), driver=KerasCall(),
         hidden=True, timeout=30.0, **LOSS_TOLERANCE),
    Case("generator_loss", "8 moderate logits", _g_inputs(8, 2.0), ref.generator_loss, ("loss",),
         driver=KerasCall(), mistakes=G_MISTAKES, hint=LOSS_HINT, timeout=30.0, points=0.5, **LOSS_TOLERANCE),
    Case("generator_loss", "returns a tensor, 5 logits", _g_inputs(5, 2.0), ref.generator_loss, ("loss",),
         driver=KerasCall(), judge=_judge_tensor(G_MISTAKES), timeout=30.0, points=0.5),
    Case("generator_loss", "logits of +-100", _g_inputs(6, 2.0, EXTREMES), ref.generator_loss, ("loss",),
         driver=KerasCall(), mistakes=G_MISTAKES, hint=LOSS_HINT, timeout=30.0, **LOSS_TOLERANCE),
    Case("generator_loss", "random batch", _random_g, ref.generator_loss, ("loss",), driver=KerasCall(),
         hidden=True, timeout=30.0, **LOSS_TOLERANCE),
]


# ----------------------------------------------------------------------------- the two networks

def generator_spec(latent_dim, hidden_units, data_dim, activation="relu", output=None) -> dict:
    """The generator of the notebook: two ReLU ``Dense(hidden_units)`` layers, then a linear ``Dense(data_dim)``."""
    return {"input_dim": int(latent_dim),
            "layers": [[int(hidden_units), activation], [int(hidden_units), activation], [int(data_dim), output]]}


def discriminator_spec(data_dim, hidden_units, activation="relu", output=None) -> dict:
    """The discriminator: two ReLU ``Dense(hidden_units)`` layers, then ``Dense(1)`` giving a logit."""
    return generator_spec(data_dim, hidden_units, 1, activation, output)


def _spec_of(unit, sizes, **changes):
    return generator_spec(*sizes, **changes) if unit == "build_generator" else discriminator_spec(*sizes, **changes)


def _builder_inputs(unit, sizes_of):
    """The builder's sizes (``sizes_of(rng)``), plus weights and a batch (16 rows) that the driver sets and
    predicts with; drawn afresh at each grading (the cases are ``fresh``), so the outputs they give can only come
    from a model that computes what the reference computes."""
    def make(rng):
        sizes = tuple(sizes_of(rng))
        weights = [rng.normal(0.0, 1 / np.sqrt(shape[0]) if len(shape) == 2 else 0.5, size=shape)
                   for shape in ref.weight_shapes(_spec_of(unit, sizes))]
        return {**dict(zip(_ARG_NAMES[unit], sizes)), "set_weights": weights,
                "predict": rng.normal(0.0, 1.5, size=(16, sizes[0]))}
    return make


def _sizes(unit, inputs) -> tuple:
    return tuple(inputs[name] for name in _ARG_NAMES[unit])


def _builder_reference(unit):
    def reference(**inputs):
        spec = _spec_of(unit, _sizes(unit, inputs))
        return {"weight_shapes": [list(shape) for shape in ref.weight_shapes(spec)],
                "output": ref.dense_output(spec, inputs["set_weights"], inputs["predict"])["output"]}
    return reference


OUTPUT_MISTAKES = {
    "build_generator": (("the output layer has an activation (tanh, say); the generator's output is linear, "
                         "and tanh could never reach the ring's radius 2", ("tanh", "sigmoid", "relu")),),
    "build_discriminator": (("the discriminator's output goes through a sigmoid; return the logit (no activation): "
                             "the losses apply the sigmoid themselves, stably", ("sigmoid",)),),
}
HIDDEN_ACTIVATIONS = ("tanh", "sigmoid", "leaky_relu", "elu", None)


def _judge_builder(unit, hidden=False):
    """Weight shapes first (the worker's word, read to name a wrong architecture), then what earns the points:
    with the case's weights, the reference's outputs (the activations)."""
    def judge(inputs, expected, received, timing):
        value = received["model"]
        if not isinstance(value, dict) or "weight_shapes" not in value:
            return False, f"expected a description of the model, received {describe(value)}"
        shapes, want = value["weight_shapes"], expected["weight_shapes"]
        if shapes != want:
            wanted = "other shapes (hidden case)" if hidden else f"{want}"
            return False, (f"weight shapes {shapes}, expected {wanted}: kernels (in, out) and biases (out,) of "
                           "Dense layers in order, two hidden layers of hidden_units then the output layer")
        problem = compare_value("output", expected["output"], value.get("output"), 1e-5, 1e-5, hidden)
        if problem is None:
            return True, "same outputs as the reference with the same weights"
        sizes, weights, x = _sizes(unit, inputs), inputs["set_weights"], inputs["predict"]
        variants = [(name, {"output": output}) for name, outputs in OUTPUT_MISTAKES[unit] for output in outputs]
        variants += [(f"the hidden layers use {activation or 'no activation'} instead of ReLU",
                      {"activation": activation}) for activation in HIDDEN_ACTIVATIONS]
        for name, changes in variants:
            wrong = ref.dense_output(_spec_of(unit, sizes, **changes), weights, x)["output"]
            if compare_value("output", wrong, value.get("output"), 1e-5, 1e-5) is None:
                return False, f"with the same weights, {problem}\nThis matches a known mistake: {name}."
        return False, (f"with the same weights, {problem}\nHint: ReLU on both hidden layers, no activation on the "
                       "output layer")
    return judge


def _builder_cases(unit, public_sizes, output_sizes, random_sizes):
    def shown(sizes):
        return ", ".join(f"{name}={size}" for name, size in zip(_ARG_NAMES[unit], sizes))
    common = dict(driver=KerasModel(), fresh=True, timeout=30.0)
    return [
        Case(unit, f"architecture, {shown(public_sizes)}", _builder_inputs(unit, lambda rng: public_sizes),
             _builder_reference(unit), ("model",), judge=_judge_builder(unit), **common),
        Case(unit, f"same weights, same outputs, {shown(output_sizes)}", _builder_inputs(unit, lambda rng: output_sizes),
             _builder_reference(unit), ("model",), judge=_judge_builder(unit), **common),
        Case(unit, "random sizes", _builder_inputs(unit, random_sizes), _builder_reference(unit), ("model",),
             judge=_judge_builder(unit, hidden=True), hidden=True, **common),
    ]


_ARG_NAMES = {"build_generator": ("latent_dim", "hidden_units", "data_dim"),
              "build_discriminator": ("data_dim", "hidden_units")}


def _random_generator_sizes(rng):
    """``(latent_dim, hidden_units, data_dim)``, drawn."""
    return int(rng.integers(1, 9)), int(rng.integers(2, 33)), int(rng.integers(1, 5))


def _random_discriminator_sizes(rng):
    """``(data_dim, hidden_units)``, drawn."""
    return int(rng.integers(1, 5)), int(rng.integers(2, 33))


# ----------------------------------------------------------------------------- the settings of the graded training
# Measured with the solution on 2 shared cores, the later steps looped (``gan_train``): a check covered at least 7
# modes after 300-1,200 steps (600-800 in most draws) in 91 of 92 draws; in the other, and in one CI run, training
# settled on 6 of 8 modes and stayed there (still 6 after 2,900 steps). Hence the 0-point report's wording.
CORRECT_STEP_MISSES_ONE_IN = 50

LATENT_DIM = 2
HIDDEN_UNITS = 128
DATA_DIM = 2
TRAIN_STEPS = 1500
# Every REPORT_EVERY steps the samples so far are judged as the final ones would be, and training stops at the first
# check that passes: measured with the solution on 4 seeds, after 600-700 steps.
REPORT_EVERY = 100
BATCH_SIZE = 128
SAMPLES = 1000
TRAIN_OPTIMIZER = {"class": "Adam", "learning_rate": 1e-3, "beta_1": 0.5}

BUILDERS = (
    _builder_cases("build_generator", (LATENT_DIM, HIDDEN_UNITS, DATA_DIM), (3, 16, 2), _random_generator_sizes)
    + _builder_cases("build_discriminator", (DATA_DIM, HIDDEN_UNITS), (2, 16), _random_discriminator_sizes)
)


# ----------------------------------------------------------------------------- one training step

STEP_TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
SGD = {"class": "SGD", "learning_rate": 0.1}
FROZEN = {"class": "SGD", "learning_rate": 0.0}
ADAM = {"class": "Adam", "learning_rate": 0.01, "beta_1": 0.5}


def _initial_weights(rng, spec):
    """``{"kernel1": (in, out), "bias1": (out,), ...}``: scaled normal kernels, non-zero biases."""
    weights = {}
    for index, shape in enumerate(ref.weight_shapes(spec)):
        layer = index // 2 + 1
        if len(shape) == 2:
            weights[f"kernel{layer}"] = rng.normal(0.0, 1 / np.sqrt(shape[0]), size=shape)
        else:
            weights[f"bias{layer}"] = rng.normal(0.0, 0.1, size=shape)
    return weights


def _step_inputs(latent_dim, hidden_units, n, g_optimizer, d_optimizer):
    def make(rng):
        generator = generator_spec(latent_dim, hidden_units, DATA_DIM)
        discriminator = discriminator_spec(DATA_DIM, hidden_units)
        return {"generator": generator, "discriminator": discriminator,
                "g_weights": _initial_weights(rng, generator), "d_weights": _initial_weights(rng, discriminator),
                "g_optimizer": g_optimizer, "d_optimizer": d_optimizer,
                "real": sample_ring(n, rng), "noise": rng.normal(0.0, 1.0, size=(n, latent_dim))}
    return make


def _random_step(rng):
    optimizer = ADAM if rng.integers(0, 2) else SGD
    return _step_inputs(int(rng.integers(1, 5)), int(rng.integers(4, 13)), int(rng.integers(4, 33)),
                        optimizer, optimizer)(rng)


def _reference_step(inputs, variant="alternating"):
    """``ref.train_step`` on a case's inputs (whose weights are dicts, in ``get_weights()`` order)."""
    weights = {key: list(inputs[key].values()) for key in ("g_weights", "d_weights")}
    return ref.train_step(**{**inputs, **weights}, variant=variant)


def _step_reference(**inputs):
    return _reference_step(inputs)


NETWORKS = (("discriminator", "d_weights", "d_optimizer"), ("generator", "g_weights", "g_optimizer"))
STEP_NAMES = {
    "simultaneous": "the generator's loss was computed with the discriminator from before its update (a "
                    "simultaneous update); the step alternates: update D first, then compute G's loss with the new D",
    "discriminator_step_moves_generator": "the discriminator's update also moved the generator: apply d_loss's "
                                          "gradients to discriminator.trainable_variables only",
    "generator_step_moves_discriminator": "the generator's update also moved the discriminator: apply g_loss's "
                                          "gradients to generator.trainable_variables only",
    "saturating": "the generator's update minimised the saturating loss mean(log(1 - D(G(z)))); use the "
                  "non-saturating generator_loss",
}


def _scalar(value):
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind == "f":
        return value.reshape(())
    if isinstance(value, float):
        return np.asarray(value)
    return value


def _weights_problem(name, expected, received, hidden=False):
    """Why a network's weights after the step are wrong (None: they are right)."""
    if not isinstance(received, list) or len(received) != len(expected):
        return f"{name} weights: expected {len(expected)} arrays, received {describe(received)}"
    for index, (want, got) in enumerate(zip(expected, received)):
        label = f"{name} {'kernel' if want.ndim == 2 else 'bias'}{index // 2 + 1}"
        problem = compare_value(label, want, got, hidden=hidden, **STEP_TOLERANCE)
        if problem:
            return problem
    return None


def _moved(initial, received):
    """Whether weights differ from their initial values (beyond float32 rounding)."""
    return isinstance(received, list) and len(received) == len(initial) and any(
        isinstance(got, np.ndarray) and got.shape == np.shape(want) and not np.allclose(got, want, rtol=1e-6, atol=1e-7)
        for want, got in zip(initial, received))


def _judge_step(inputs, expected, received, timing, hidden=False):
    """Losses, then each network's weights; wrong networks are named, and so are the known wrong steps.

    ``hidden``: messages show no values (the case's inputs come from the grader's secret).
    """
    received = dict(received, d_loss=_scalar(received["d_loss"]), g_loss=_scalar(received["g_loss"]))
    for name in ("d_loss", "g_loss"):
        if not (isinstance(received[name], np.ndarray) and received[name].shape == ()):
            return False, (f"train_step must return (d_loss, g_loss) as two scalar losses; {name} is "
                           f"{describe(received[name])}")
    initial = {key: list(inputs[key].values()) for key in ("d_weights", "g_weights")}
    problems = []
    for network, weights_key, optimizer_key in NETWORKS:
        frozen = inputs[optimizer_key]["learning_rate"] == 0
        if frozen and _moved(initial[weights_key], received[network]):
            other = "generator" if network == "discriminator" else "discriminator"
            return False, (f"the {network}'s weights changed although {optimizer_key} had learning rate 0 in this "
                           f"case: the {other}'s update moved the {network}. Take each loss's gradients with respect "
                           f"to its own network's trainable_variables and apply them with its own optimizer"
                           + (f" (and the {other} did not move at all: are the optimizers swapped?)"
                              if not _moved(initial["d_weights" if other == "discriminator" else "g_weights"],
                                            received[other]) else "") + ".")
        problem = _weights_problem(network, expected[network], received[network], hidden)
        if problem:
            if not _moved(initial[weights_key], received[network]) and not frozen:
                problem = (f"the {network}'s weights did not change: apply its gradients with {optimizer_key}"
                           f".apply_gradients(zip(grads, {network}.trainable_variables))")
            problems.append(problem)
    for name, meaning in (("d_loss", "the discriminator's loss, before its update"),
                          ("g_loss", "the generator's loss, computed after the discriminator's update")):
        problem = compare_value(name, expected[name], received[name], hidden=hidden, **STEP_TOLERANCE)
        if problem:
            problems.insert(0, f"{problem} ({meaning})")
    if not problems:
        return True, "losses and both networks' weights match the reference"
    message = "\n".join(problems)
    for variant, named in STEP_NAMES.items():
        wrong = _reference_step(inputs, variant)
        if all(compare_value(key, wrong[key], received[key], **STEP_TOLERANCE) is None
               for key in ("d_loss", "g_loss")) and all(_weights_problem(key, wrong[key], received[key]) is None
                                                        for key in ("discriminator", "generator")):
            return False, f"{message}\nThis matches a known mistake: {named}."
    return False, (f"{message}\nHint: one step is: d_loss on (real, G(noise)), its gradients for D's variables, "
                   "d_optimizer; then g_loss = generator_loss(D(G(noise))) with the updated D, its gradients for "
                   "G's variables, g_optimizer")


STEP_OUTPUTS = ("d_loss", "g_loss", "generator", "discriminator")


def _step_case(name, make, points, hidden=False):
    def judge(inputs, expected, received, timing):
        return _judge_step(inputs, expected, received, timing, hidden)
    return Case("train_step", name, make, _step_reference, STEP_OUTPUTS, points=points, hidden=hidden,
                driver=GanStep(), judge=judge, timeout=60.0)


STEPS = [
    _step_case("one step, SGD(0.1), latent 3, hidden 8, batch 16", _step_inputs(3, 8, 16, SGD, SGD), 2.0),
    _step_case("one step, Adam(0.01, beta_1=0.5), latent 2, hidden 6, batch 12", _step_inputs(2, 6, 12, ADAM, ADAM),
               2.0),
    _step_case("g_optimizer at learning rate 0: only the discriminator moves", _step_inputs(3, 8, 16, FROZEN, SGD),
               1.0),
    _step_case("d_optimizer at learning rate 0: only the generator moves", _step_inputs(3, 8, 16, SGD, FROZEN),
               1.0),
    _step_case("random sizes and optimizer", _random_step, 2.0, hidden=True),
]


# ----------------------------------------------------------------------------- steps in a row, as training runs them

STEPS_IN_A_ROW = 5


def _steps_inputs(rng):
    """Random sizes, plain SGD (no optimizer state, so K reference steps are K single steps), weights injected
    here, and the batches of ``STEPS_IN_A_ROW`` steps: (K, N, DATA_DIM) and (K, N, latent_dim)."""
    latent_dim, hidden_units, n = int(rng.integers(1, 5)), int(rng.integers(4, 13)), int(rng.integers(4, 33))
    inputs = _step_inputs(latent_dim, hidden_units, n, SGD, SGD)(rng)
    inputs["real"] = sample_ring(STEPS_IN_A_ROW * n, rng).reshape(STEPS_IN_A_ROW, n, DATA_DIM)
    inputs["noise"] = rng.normal(0.0, 1.0, size=(STEPS_IN_A_ROW, n, latent_dim))
    return inputs


def _reference_steps(inputs, variant="alternating") -> dict:
    """``ref.train_step`` once per batch, each from the weights the previous one left."""
    g_weights, d_weights = list(inputs["g_weights"].values()), list(inputs["d_weights"].values())
    d_losses, g_losses = [], []
    for real, noise in zip(inputs["real"], inputs["noise"]):
        step = ref.train_step(inputs["generator"], inputs["discriminator"], g_weights, d_weights,
                              inputs["g_optimizer"], inputs["d_optimizer"], real, noise, variant=variant)
        g_weights, d_weights = step["generator"], step["discriminator"]
        d_losses.append(float(step["d_loss"]))
        g_losses.append(float(step["g_loss"]))
    return {"d_losses": np.array(d_losses), "g_losses": np.array(g_losses), "generator": g_weights,
            "discriminator": d_weights}


def _steps_reference(**inputs):
    return _reference_steps(inputs)


def _losses(value) -> np.ndarray | None:
    """Per-step losses (K,) from what the unit returned at each step (scalars), or None."""
    if not isinstance(value, list) or not all(isinstance(v, (np.ndarray, float)) and np.size(v) == 1 for v in value):
        return None
    return np.array([float(np.asarray(v).reshape(-1)[0]) for v in value])


def _judge_steps(inputs, expected, received, timing):
    """Each step's losses and both networks' weights after the last step, against the reference's; a known
    wrong step named. Nothing here can be produced but by steps that compute what the reference computes,
    from weights and batches drawn from the secret."""
    got = dict(received)
    for name in ("d_losses", "g_losses"):
        got[name] = _losses(received[name])
        if got[name] is None:
            return False, ("train_step must return (d_loss, g_loss), two scalar losses, at every step; received "
                           f"{describe(received[name])}")
    problems = [problem for problem in (
        compare_value("d_losses", expected["d_losses"], got["d_losses"], hidden=True, **STEP_TOLERANCE),
        compare_value("g_losses", expected["g_losses"], got["g_losses"], hidden=True, **STEP_TOLERANCE),
        _weights_problem("discriminator", expected["discriminator"], got["discriminator"], hidden=True),
        _weights_problem("generator", expected["generator"], got["generator"], hidden=True)) if problem]
    if not problems:
        return True, (f"{STEPS_IN_A_ROW} steps in a row, compiled: every loss and both networks' weights match the "
                      "reference")
    message = "\n".join(problems)
    for variant, named in STEP_NAMES.items():
        wrong = _reference_steps(inputs, variant)
        if all(compare_value(key, wrong[key], got[key], **STEP_TOLERANCE) is None for key in ("d_losses", "g_losses")) \
                and all(_weights_problem(key, wrong[key], got[key]) is None for key in ("discriminator", "generator")):
            return False, f"{message}\nThis matches a known mistake: {named}."
    return False, (f"{message}\nAfter {STEPS_IN_A_ROW} steps in a row (compiled with tf.function, as training runs "
                   "them), from weights injected by the grader, the losses or weights differ from the reference's")


STEPS_TOGETHER = [
    Case("train_step", f"{STEPS_IN_A_ROW} steps in a row, compiled as training runs them (random sizes, SGD)",
         _steps_inputs, _steps_reference, ("d_losses", "g_losses", "generator", "discriminator"), points=4.0,
         hidden=True, driver=GanStep(), judge=_judge_steps, timeout=90.0),
]


# ----------------------------------------------------------------------------- training on the ring

def _training_inputs(rng):
    """The batches of every step, and ``eval_noise``, which only the judge sees (the driver keeps it here)."""
    return {"generator_args": [LATENT_DIM, HIDDEN_UNITS, DATA_DIM], "discriminator_args": [DATA_DIM, HIDDEN_UNITS],
            "g_optimizer": TRAIN_OPTIMIZER, "d_optimizer": TRAIN_OPTIMIZER, "seed": int(rng.integers(0, 2**31)),
            "real": sample_ring(TRAIN_STEPS * BATCH_SIZE, rng).reshape(TRAIN_STEPS, BATCH_SIZE, DATA_DIM),
            "noise": rng.normal(0.0, 1.0, size=(TRAIN_STEPS, BATCH_SIZE, LATENT_DIM)),
            "eval_noise": rng.normal(0.0, 1.0, size=(SAMPLES, LATENT_DIM))}


def _centres(**inputs):
    return {"centres": ring_centres()}


GENERATOR = generator_spec(LATENT_DIM, HIDDEN_UNITS, DATA_DIM)
GENERATOR_SHAPES = [list(shape) for shape in ref.weight_shapes(GENERATOR)]


def generator_samples(weights: list, noise: np.ndarray) -> np.ndarray:
    """The assignment's generator with ``weights`` (``get_weights()`` order) on ``noise`` (M, LATENT_DIM):
    (M, DATA_DIM) samples, computed here (NumPy, float64: ReLU after each hidden Dense layer, the output
    linear), never by the worker. The same function as ``ref.mlp_output(GENERATOR, ...)``, 50x faster."""
    h = np.asarray(noise, np.float64)
    for index in range(0, len(weights), 2):
        h = h @ np.asarray(weights[index], np.float64) + np.asarray(weights[index + 1], np.float64)
        if index + 2 < len(weights):
            h = np.maximum(h, 0.0)
    return h


def _weights_problem_of_generator(weights, name: str) -> str | None:
    """Why ``weights`` are not the assignment's generator's (None: six float arrays of its shapes, finite)."""
    if not isinstance(weights, list) or [list(np.shape(w)) for w in weights] != GENERATOR_SHAPES or not all(
            isinstance(w, np.ndarray) and w.dtype.kind == "f" for w in weights):
        shapes = ([list(np.shape(w)) for w in weights] if isinstance(weights, list) and all(
            isinstance(w, np.ndarray) for w in weights) else describe(weights))
        return f"the {name} weights should be float arrays of shapes {GENERATOR_SHAPES}; received {shapes}"
    if not all(np.isfinite(w).all() for w in weights):
        return f"the {name} weights contain NaN or inf"
    return None


def _generator_layers(layers) -> list | str:
    """The student's generator as ``[[units, activation], ...]`` of Dense layers (a separate Activation
    or ReLU layer folded into the Dense before it), or why it is not a stack of Dense layers."""
    if not isinstance(layers, list) or not all(isinstance(layer, list) and len(layer) == 3 for layer in layers):
        return f"the generator could not be described (received {describe(layers)})"
    dense = []
    for kind, units, activation in layers:
        activation = None if activation in (None, "linear") else activation
        if kind == "Dense" and isinstance(units, int):
            dense.append([units, activation])
        elif kind in ("Activation", "ReLU") and dense and dense[-1][1] is None:
            dense[-1][1] = "relu" if kind == "ReLU" else activation
        else:
            return f"it has a {kind} layer"
    return dense


def training_problem(inputs, received) -> str | None:
    """Why the weights may not come from training: a generator other than the assignment's, one that
    already covers the ring before the first step, or one whose weights never moved. The layer list is
    the worker's word, read only to name a wrong architecture; the rest is computed here from the
    returned arrays on the judge's own noise."""
    want = GENERATOR["layers"]
    shown = ", ".join(f"Dense({units}{', ' + activation if activation else ''})" for units, activation in want)
    layers = _generator_layers(received["layers"])
    shapes_problem = _weights_problem_of_generator(received["weights"], "trained")
    if layers != want or (shapes_problem and "NaN" not in shapes_problem):
        got = layers if isinstance(layers, str) else "its layers are " + ", ".join(
            f"Dense({units}{', ' + str(activation) if activation else ''})" for units, activation in layers)
        if layers == want:
            got = shapes_problem
        return (f"the trained generator must be the one the assignment specifies, {shown} and nothing else; "
                f"{got}. build_generator(latent_dim, hidden_units, data_dim) builds it for any sizes")
    initial = received["initial"]
    if _weights_problem_of_generator(initial, "initial") is not None:
        return "the generator's initial weights were not returned as its trained weights are (was the driver replaced?)"
    covered = _modes_covered_before_training(initial, inputs["eval_noise"])
    if covered >= REQUIRED_MODES:
        return (f"your generator covers {covered} of {RING_MODES} modes before any training step: the coverage "
                "must come from train_step, starting from the weights build_generator's layers draw")
    trained = received["weights"]
    if shapes_problem is None and max(float(np.max(np.abs(a - b))) for a, b in zip(initial, trained)) <= 1e-6:
        return (f"train_step did not change the generator's weights over {len(inputs['real'])} steps: apply "
                "g_optimizer to the generator's gradients")
    return None


_COVERED_BEFORE: dict[bytes, int] = {}  # digest of (initial weights, eval_noise) -> modes covered


def _modes_covered_before_training(initial: list, eval_noise: np.ndarray) -> int:
    """``modes_covered(generator_samples(initial, eval_noise))``, remembered by the exact bytes of both: every
    progress report of one training returns the same initial weights, judged once rather than at each report."""
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(array, np.float64).tobytes() + repr(np.shape(array)).encode()
                                     for array in (*initial, eval_noise))).digest()
    if digest not in _COVERED_BEFORE:
        if len(_COVERED_BEFORE) >= 16:
            _COVERED_BEFORE.clear()
        _COVERED_BEFORE[digest] = modes_covered(generator_samples(initial, eval_noise))
    return _COVERED_BEFORE[digest]


def judge_coverage(inputs, expected, received, timing):
    """At least 7 of the 8 modes covered by the samples the judge draws from the returned weights.

    First: the generator is the assignment's, did not cover the ring before training, and its weights
    moved (``training_problem``); then its samples of ``eval_noise``, computed here."""
    problem = training_problem(inputs, received)
    if problem:
        return False, problem
    return coverage_verdict(generator_samples(received["weights"], inputs["eval_noise"]), received, inputs, timing)


def coverage_verdict(samples, received, inputs, timing):
    """``(ok, message)`` for the samples (M, DATA_DIM) the judge drew: modes covered, or what went wrong."""
    m = len(samples)
    d_losses, g_losses = (np.asarray(received[key], np.float64).reshape(-1) for key in ("d_losses", "g_losses"))
    losses = (f" Final losses: d_loss {d_losses[-1]:.3g}, g_loss {g_losses[-1]:.3g}."
              if len(d_losses) and len(g_losses) else "")
    if not np.isfinite(samples).all():
        return False, ("the trained generator's samples contain NaN or inf: training diverged "
                       f"(check the losses for NaN at extreme logits).{losses}")
    counts = mode_counts(samples)
    covered = modes_covered(samples)
    summary = (f"covers {covered} of {RING_MODES} modes (samples within {ON_MODE_RADIUS} of each mode, of {m}: "
               f"{counts.tolist()}; a mode is covered with at least {m / (4 * RING_MODES):g})")
    seconds = f" Training took {timing['seconds']:.0f} s."
    if "stopped_at" in timing:
        seconds = (f" Training stopped after step {timing['stopped_at']} of {len(inputs['real'])}, the first check "
                   f"(every {REPORT_EVERY} steps) that reached the bar, in {timing['seconds']:.0f} s.")
    if covered >= REQUIRED_MODES:
        return True, summary + seconds
    spread = float(np.sqrt(np.mean(np.sum((samples - samples.mean(axis=0)) ** 2, axis=1))))
    largest = int(np.argmax(counts))
    if spread < ON_MODE_RADIUS or counts[largest] >= m / 2:
        where = (f"{counts[largest] / m:.0%} of the samples fall on mode {largest}" if counts[largest] >= m / 2 else
                 f"all samples lie within about {spread:.2g} of the point {np.round(samples.mean(axis=0), 2).tolist()}")
        diagnosis = (f"Mode collapse: {where}; the generator maps almost every noise vector to the same place, "
                     "whatever the noise.")
    elif counts.sum() < m / 2:
        diagnosis = (f"Only {counts.sum() / m:.0%} of the samples lie near any mode: the generator has not learned "
                     "the ring (is its update applied, with the non-saturating loss?).")
    else:
        missing = [int(k) for k in np.flatnonzero(counts < m / (4 * RING_MODES))]
        diagnosis = (f"Partial mode collapse: modes {missing} get (almost) no samples. A correct step ends like "
                     f"this in about 1 training of {CORRECT_STEP_MISSES_ONE_IN} (each grading draws new data); if "
                     "your losses look like the notebook's, grade again: this report carries no points.")
    return False, f"{summary}; at least {REQUIRED_MODES} are required. {diagnosis}{losses}{seconds}"


TRAINING = [
    Case("train_step",
         f"ring of 8 Gaussians, {TRAIN_STEPS} steps: at least {REQUIRED_MODES} modes covered (a report, no points)",
         _training_inputs, _centres, ("weights", "d_losses", "g_losses", "initial", "layers"), points=0.0,
         driver=GanTrain(builders=("build_generator", "build_discriminator"), report_every=REPORT_EVERY,
                         progress=TRAIN_STEPS // REPORT_EVERY),
         fresh=True, private=("eval_noise",), judge=judge_coverage, timeout=180.0),
]


ASSIGNMENT = Assignment(
    name="09_gan",
    title="Generative adversarial networks",
    cases=tuple(LOSSES + BUILDERS + STEPS + STEPS_TOGETHER + TRAINING),
    frameworks=True,
    # Measured on 2 cores: a worker that imports Keras and trains peaks at 1.44 GB of address space
    # (1 GiB fails at import) and runs 6 threads (12 processes suffice). TensorFlow sizes its thread
    # pools by the core count, each thread reserving stack address space: these limits leave room
    # for a grading machine of a few dozen cores while still bounding a memory or fork bomb.
    memory_bytes=4 * 1024**3,
    processes=256,
)
