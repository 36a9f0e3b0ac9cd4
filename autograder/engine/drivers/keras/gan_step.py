"""``gan_step``: one GAN training step by the student's unit, on Keras models built here from a plain spec.

Request: ``{"unit", "args"}`` with (all plain data):
    generator, discriminator: ``{"input_dim": D, "layers": [[units, activation], ...]}``
        (``model_spec.sequential``, float32).
    g_weights, d_weights: their initial weights in ``get_weights()`` order: lists of arrays, or
        dicts of them (the names are for messages only).
    g_optimizer, d_optimizer: ``{"class": "SGD", **config}`` (``model_spec.optimizer``).
    real: (N, data_dim) and noise: (N, latent_dim), passed as float32 tensors.

Calls ``unit(generator, discriminator, g_optimizer, d_optimizer, real, noise) -> (d_loss, g_loss)``
once, eagerly (a unit the student compiled with ``tf.function`` runs from its Python function: its
traces would hold on to another case's optimizer variables). Value: ``(d_loss, g_loss, generator
weights, discriminator weights)``: the losses as the unit returned them (tensors made NumPy), the
weights after the step as lists of float64 arrays in ``get_weights()`` order.
"""

from __future__ import annotations

import numpy as np

from .._calling import invoke, lookup
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
    call = [("generator", generator), ("discriminator", discriminator),
            ("g_optimizer", model_spec.optimizer(keras, args["g_optimizer"])),
            ("d_optimizer", model_spec.optimizer(keras, args["d_optimizer"])),
            ("real", keras.ops.convert_to_tensor(args["real"], "float32")),
            ("noise", keras.ops.convert_to_tensor(args["noise"], "float32"))]
    value, _ = invoke(step, request["unit"], call)
    losses = two_losses(value, request["unit"])
    weights = [[np.asarray(w, dtype=np.float64) for w in model.get_weights()] for model in (generator, discriminator)]
    return {"status": "ok", "value": (*losses, *weights), "mutated": []}
