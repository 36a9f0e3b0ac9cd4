"""Keras references for assignment 09 (gan): the two losses, the two networks, one training step.

Each function takes plain NumPy inputs and returns a dict of named float64 outputs. Networks are
float64 ``Sequential`` stacks of ``Dense`` layers built from a plain spec, ``{"input_dim": D,
"layers": [[units, activation], ...]}``, with injected weights (never Keras's random streams).
The training step is written once, with switches for the wrong variants the grader names.
"""

from __future__ import annotations

import numpy as np

from dlcourse.autograder.engine.sandboxed.drivers.keras import model_spec
from dlcourse.references._keras import keras
from dlcourse.references.autodiff import to_numpy, value_and_grad

F64 = "float64"
STEP_VARIANTS = ("alternating", "simultaneous", "discriminator_step_moves_generator",
                 "generator_step_moves_discriminator", "saturating")


def _bce(labels, logits):
    """``BinaryCrossentropy(from_logits=True)`` in float64: the mean over the batch."""
    loss = keras().losses.BinaryCrossentropy(from_logits=True, dtype=F64)
    return loss(labels, logits)


def _discriminator_loss(logits_real, logits_fake):
    ops = keras().ops
    return _bce(ops.ones_like(logits_real), logits_real) + _bce(ops.zeros_like(logits_fake), logits_fake)


def _generator_loss(logits_fake):
    ops = keras().ops
    return _bce(ops.ones_like(logits_fake), logits_fake)


def discriminator_loss(logits_real, logits_fake) -> dict:
    """``BCE(1, logits_real) + BCE(0, logits_fake)``, each a mean over its batch: ``{"loss": ()}``.

    Args:
        logits_real: the discriminator's logits on real data, (N, 1).
        logits_fake: its logits on generated data, (M, 1).
    """
    value = _discriminator_loss(np.asarray(logits_real, np.float64), np.asarray(logits_fake, np.float64))
    return {"loss": to_numpy(value)}


def generator_loss(logits_fake) -> dict:
    """The non-saturating generator loss ``BCE(1, logits_fake) = -mean(log D(G(z)))``: ``{"loss": ()}``."""
    return {"loss": to_numpy(_generator_loss(np.asarray(logits_fake, np.float64)))}


def mlp(spec: dict):
    """A float64 ``Sequential`` of ``Dense`` layers from ``{"input_dim": D, "layers": [[units, activation], ...]}``,
    built as the sandboxed worker builds the "gan_step" driver's models (``model_spec.sequential``).

    The reference of ``build_generator`` and ``build_discriminator`` (through ``weight_shapes`` and
    ``mlp_output``).
    """
    return model_spec.sequential(keras(), spec, dtype=F64)


def weight_shapes(spec: dict) -> list[tuple[int, ...]]:
    """Shapes of the weights of ``mlp(spec)`` in ``get_weights()`` order: kernel (in, out), then bias (out,)."""
    shapes, width = [], int(spec["input_dim"])
    for units, _ in spec["layers"]:
        shapes += [(width, int(units)), (int(units),)]
        width = int(units)
    return shapes


def mlp_output(spec: dict, weights: list, x) -> dict:
    """``mlp(spec)`` with ``weights`` on ``x`` (N, input_dim): ``{"output": (N, units of the last layer)}``."""
    model = mlp(spec)
    output, _ = model.stateless_call([np.asarray(w, np.float64) for w in weights], [], np.asarray(x, np.float64))
    return {"output": to_numpy(output)}


# Keras's activations by name (``keras.activations``, default arguments), in NumPy float64
ACTIVATIONS = {
    None: lambda h: h,
    "linear": lambda h: h,
    "relu": lambda h: np.maximum(h, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda h: np.exp(-np.logaddexp(0.0, -h)),
    # negative_slope=0.2, a float32 attribute in TensorFlow's op (an exact 0.2 would differ by 4e-7 relative)
    "leaky_relu": lambda h: np.where(h >= 0.0, h, float(np.float32(0.2)) * h),
    "elu": lambda h: np.where(h > 0.0, h, np.expm1(np.minimum(h, 0.0))),  # alpha=1
}


def dense_output(spec: dict, weights: list, x) -> dict:
    """``mlp_output(spec, weights, x)`` computed in NumPy, float64, without building a Keras model (a build costs
    some 0.1 s; this, well under 1 ms): each layer ``activation(h @ kernel + bias)``. Equal to ``mlp_output`` to
    about 1e-15 for every activation of ``ACTIVATIONS`` (checked in the tests over many draws); the grader's
    fresh builder cases compare a student's float32 model with it at 1e-5."""
    h = np.asarray(x, np.float64)
    for (units, activation), kernel, bias in zip(spec["layers"], weights[0::2], weights[1::2]):
        if activation not in ACTIVATIONS:
            raise ValueError(f"Expected an activation among {sorted(map(str, ACTIVATIONS))}. Received {activation!r}.")
        h = ACTIVATIONS[activation](h @ np.asarray(kernel, np.float64) + np.asarray(bias, np.float64))
    return {"output": h}


def train_step(generator, discriminator, g_weights, d_weights, g_optimizer, d_optimizer, real, noise,
               variant: str = "alternating") -> dict:
    """One alternating GAN step: a discriminator update, then a generator update against the new discriminator.

    Args:
        generator, discriminator: specs for :func:`mlp`.
        g_weights, d_weights: initial weights, lists of arrays in ``get_weights()`` order.
        g_optimizer, d_optimizer: ``{"class": "SGD", **config}`` for ``keras.optimizers``.
        real: a batch of data, (N, data_dim). noise: (N, latent_dim), used by both halves.
        variant: "alternating" (right), or a known mistake: "simultaneous" (the generator's gradient
            taken with the discriminator from before its update), "discriminator_step_moves_generator"
            / "generator_step_moves_discriminator" (a half that updates both networks), "saturating"
            (the generator minimises ``mean(log(1 - D(G(z))))``).

    Returns:
        ``{"d_loss": (), "g_loss": (), "generator": [arrays], "discriminator": [arrays]}``: the losses
        of the two halves, each before its update, and the weights after the step.
    """
    if variant not in STEP_VARIANTS:
        raise ValueError(f"Expected variant in {STEP_VARIANTS}. Received variant={variant!r}.")
    g_model, d_model = mlp(generator), mlp(discriminator)
    ops = keras().ops
    g_now = [np.asarray(w, np.float64) for w in g_weights]
    d_now = [np.asarray(w, np.float64) for w in d_weights]
    real, noise = np.asarray(real, np.float64), np.asarray(noise, np.float64)
    split = len(d_now)

    def d_objective(*weights):  # the discriminator's loss, as a function of (d weights..., g weights...)
        fake, _ = g_model.stateless_call(list(weights[split:]), [], noise)
        logits_real, _ = d_model.stateless_call(list(weights[:split]), [], real)
        logits_fake, _ = d_model.stateless_call(list(weights[:split]), [], fake)
        return _discriminator_loss(logits_real, logits_fake)

    def g_objective(*weights):  # the generator's loss, as a function of (d weights..., g weights...)
        fake, _ = g_model.stateless_call(list(weights[split:]), [], noise)
        logits, _ = d_model.stateless_call(list(weights[:split]), [], fake)
        if variant == "saturating":
            return -_bce(ops.zeros_like(logits), logits)
        return _generator_loss(logits)

    if variant == "simultaneous":
        g_loss, g_grads = value_and_grad(g_objective, *d_now, *g_now)
    d_loss, d_grads = value_and_grad(d_objective, *d_now, *g_now)
    moves_g = variant == "discriminator_step_moves_generator"
    moved = _apply(model_spec.optimizer(keras(), d_optimizer), d_now + (g_now if moves_g else []),
                   d_grads if moves_g else d_grads[:split])
    d_now, g_now = moved[:split], (moved[split:] if moves_g else g_now)
    if variant != "simultaneous":
        g_loss, g_grads = value_and_grad(g_objective, *d_now, *g_now)
    moves_d = variant == "generator_step_moves_discriminator"
    moved = _apply(model_spec.optimizer(keras(), g_optimizer), g_now + (d_now if moves_d else []),
                   g_grads[split:] + (g_grads[:split] if moves_d else []))
    g_now, d_now = moved[:len(g_now)], (moved[len(g_now):] if moves_d else d_now)
    return {"d_loss": d_loss, "g_loss": g_loss, "generator": g_now, "discriminator": d_now}


def _apply(optimizer, weights: list, grads: list) -> list:
    """One ``optimizer`` update of float64 ``weights`` with ``grads``; returns the new weights."""
    k = keras()
    variables = [k.Variable(weight, dtype=F64) for weight in weights]
    optimizer.build(variables)
    optimizer.apply_gradients(zip([k.ops.convert_to_tensor(grad, dtype=F64) for grad in grads], variables))
    return [to_numpy(variable.value) for variable in variables]
