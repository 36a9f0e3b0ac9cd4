"""``gan_step``: one GAN training step by the student's unit, on Keras models built here from a plain spec.

Request: ``{"unit", "args"}`` with (all plain data):
    generator, discriminator: ``{"input_dim": D, "layers": [[units, activation], ...]}``
        (``model_spec.sequential``, float32).
    g_weights, d_weights: their initial weights in ``get_weights()`` order: lists of arrays, or
        dicts of them (the names are for messages only).
    g_optimizer, d_optimizer: ``{"class": "SGD", **config}`` (``model_spec.optimizer``).
    real: (N, data_dim) and noise: (N, latent_dim), passed as float32 tensors; or (K, N, data_dim) and
        (K, N, latent_dim): K steps in a row on the same models and optimizers.

Calls ``unit(generator, discriminator, g_optimizer, d_optimizer, real, noise) -> (d_loss, g_loss)``
once, eagerly (a unit the student compiled with ``tf.function`` runs from its Python function: its
traces would hold on to another case's optimizer variables). Value: ``(d_loss, g_loss, generator
weights, discriminator weights)``: the losses as the unit returned them (tensors made NumPy), the
weights after the step as lists of float64 arrays in ``get_weights()`` order.

With K steps the unit is compiled afresh with ``tf.function``, as training runs it (``gan_train``), and
called once per step, the first step excepted: it runs eagerly (``FIRST_STEP``). The value is
``(d_losses (K,), g_losses (K,), generator weights, discriminator weights)``, the weights after the
last step.
"""

from __future__ import annotations

import numpy as np

from .._calling import StudentError, invoke, lookup
from . import model_spec
from ._values import two_losses


def run(namespace, request):
    step = lookup(namespace, request["unit"])
    step = getattr(step, "python_function", step)
    import keras

    args = dict(request["args"])
    generator = model_spec.sequential(keras, args["generator"])
    discriminator = model_spec.sequential(keras, args["discriminator"])
    for model, weights in ((generator, args["g_weights"]), (discriminator, args["d_weights"])):
        model.set_weights(list(weights.values()) if isinstance(weights, dict) else weights)
    optimizers = [("g_optimizer", model_spec.optimizer(keras, args["g_optimizer"])),
                  ("d_optimizer", model_spec.optimizer(keras, args["d_optimizer"]))]
    real, noise = np.asarray(args["real"]), np.asarray(args["noise"])
    if real.ndim == 3:
        return _steps(step, request["unit"], generator, discriminator, optimizers, real, noise)
    call = [("generator", generator), ("discriminator", discriminator), *optimizers,
            ("real", keras.ops.convert_to_tensor(real, "float32")),
            ("noise", keras.ops.convert_to_tensor(noise, "float32"))]
    value, _ = invoke(step, request["unit"], call)
    losses = two_losses(value, request["unit"])
    return {"status": "ok", "value": (*losses, *_weights(generator, discriminator)), "mutated": []}


# Why the first of several steps runs eagerly: Keras builds an optimizer's variables at its first
# ``apply_gradients``, and a ``tf.function`` whose first call creates variables is traced twice (once
# creating them, once more without), each trace costing as much as hundreds of compiled steps (measured:
# 8.7 s first call, 2 traces; 3.2 s for an eager step and then 1 trace; 13 ms a compiled step, on 2 loaded
# cores). Run eagerly, the first step builds them; every later step is compiled and traced once. The unit
# must work both ways, as it already must in the one-step cases (eager) and in training (compiled).
FIRST_STEP = ("run eagerly (the later steps run inside tf.function, as training runs them; the first builds the "
              "optimizers' variables)")
COMPILED_STEP = ("run inside tf.function as the grader runs it (tensor operations only: no .numpy() or float() on "
                 "tensors)")


def _steps(step, unit, generator, discriminator, optimizers, real, noise):
    """K steps of ``step``, the first eagerly and the others compiled with ``tf.function`` (as ``gan_train`` runs
    them, see ``FIRST_STEP``): per-step losses, last weights."""
    import tensorflow as tf  # the TensorFlow backend's compiler

    compiled = tf.function(step)
    models = [("generator", generator), ("discriminator", discriminator), *optimizers]
    d_losses, g_losses = [], []
    for index, (real_batch, noise_batch) in enumerate(zip(real, noise)):
        d_loss, g_loss = one_step(step if index == 0 else compiled, unit, models, real_batch, noise_batch, index,
                                  len(real))
        d_losses.append(d_loss)
        g_losses.append(g_loss)
    return {"status": "ok", "value": (d_losses, g_losses, *_weights(generator, discriminator)), "mutated": []}


def one_step(step, unit, models, real, noise, index, count):
    """Step ``index`` of ``count`` in a call of its own on ``[(name, model or optimizer), ...]`` and one batch,
    ``real`` (N, data_dim) and ``noise`` (N, latent_dim): ``(d_loss, g_loss)`` as plain values. A failure's
    traceback starts by saying which step it was and how it ran (``FIRST_STEP``, ``COMPILED_STEP``)."""
    import tensorflow as tf

    call = [*models, ("real", tf.constant(real, tf.float32)), ("noise", tf.constant(noise, tf.float32))]
    try:
        value, _ = invoke(step, unit, call)
    except StudentError as failure:
        failure.reply["traceback"] = (f"At step {index + 1} of {count}, {FIRST_STEP if index == 0 else COMPILED_STEP}"
                                      ":\n" + failure.reply["traceback"])
        raise
    return two_losses(value, unit)


def _weights(*models) -> list:
    return [[np.asarray(w, dtype=np.float64) for w in model.get_weights()] for model in models]
