"""``gan_train``: train a GAN with the student's builders and step; return the trained generator's weights.

Request: ``{"unit": the step, "builders": [the generator's builder, the discriminator's], "args"}``
(the builders are the case's ``GanTrain`` option, ``request``) with (all plain data):
    generator_args, discriminator_args: lists of values the builders are called with.
    g_optimizer, d_optimizer: as for "gan_step".
    seed: for ``keras.utils.set_random_seed`` before building, so initial weights are reproducible.
    real: (S, N, data_dim) and noise: (S, N, latent_dim): the batches of each of the S steps.

The case's ``eval_noise`` stays in the grader (``Case.private``): the judge maps it through the returned
weights itself, in a Dense stack of its own, so nothing the worker computes about the generator's
samples is believed (after the student's cells load, this file is the student's too).

The step runs compiled with ``tf.function``, as Keras's own ``fit`` runs a ``train_step`` (eager
Keras is some 40x slower), the first step excepted: it runs eagerly and builds the optimizers'
variables, so that the compiled step is traced once, not twice (``gan_step.FIRST_STEP``).
Value: ``(weights, d_losses (S,), g_losses (S,), initial, layers)``:
``weights`` and ``initial`` are the generator's ``get_weights()`` after the steps and before the
first one (float64 arrays), and ``layers`` describes the generator (``model_spec.dense_layers``),
which the judge reads only to name what is wrong.

With ``"report_every": k`` in the request (the option of that name), the value so far is reported to
the grader before every k-th step (``_progress.report``); once the grader answers that it reaches the
case's bar, training stops there and the value after the steps taken is returned.
"""

from __future__ import annotations

import numpy as np

from .._calling import StudentError, invoke, lookup
from .._progress import report
from . import model_spec
from ._values import require_model, two_losses
from .gan_step import COMPILED_STEP, FIRST_STEP


def request(case, args: dict, inputs: dict) -> dict:
    """Grader side: the builders, and the steps between progress reports where the case asks for them."""
    options = case.driver
    keys = {"builders": list(options.builders)}
    if options.report_every is not None:
        keys["report_every"] = options.report_every
    return keys


def run(namespace, request):
    step = lookup(namespace, request["unit"])
    step = getattr(step, "python_function", step)  # a unit the student compiled: its Python function
    build_generator, build_discriminator = (lookup(namespace, name) for name in request["builders"])
    import keras
    import tensorflow as tf  # the TensorFlow backend's compiler

    args = dict(request["args"])
    keras.utils.set_random_seed(int(args["seed"]))
    models = []
    for build, name, key in ((build_generator, request["builders"][0], "generator_args"),
                             (build_discriminator, request["builders"][1], "discriminator_args")):
        model, _ = invoke(build, name, [(str(index), value) for index, value in enumerate(args[key])])
        models.append(require_model(keras, model, name))
    generator, discriminator = models
    initial = _weights(generator)
    g_optimizer = model_spec.optimizer(keras, args["g_optimizer"])
    d_optimizer = model_spec.optimizer(keras, args["d_optimizer"])
    compiled = tf.function(step)  # compiled afresh, as for "gan_step"
    steps = len(args["real"])
    every = int(request.get("report_every") or 0)
    history, losses = [], []

    def so_far():
        losses.extend(two_losses(returned, request["unit"]) for returned in history[len(losses):])
        return _value(keras, generator, losses, initial)

    for index in range(steps):
        if every and index and index % every == 0 and report(so_far(), index):
            break
        call = [("generator", generator), ("discriminator", discriminator), ("g_optimizer", g_optimizer),
                ("d_optimizer", d_optimizer), ("real", tf.constant(args["real"][index], tf.float32)),
                ("noise", tf.constant(args["noise"][index], tf.float32))]
        try:
            value, _ = invoke(step if index == 0 else compiled, request["unit"], call)
        except StudentError as failure:
            failure.reply["traceback"] = (f"At step {index + 1} of {steps}, {FIRST_STEP if index == 0 else COMPILED_STEP}"
                                          ":\n" + failure.reply["traceback"])
            raise
        history.append(value)
    return {"status": "ok", "value": so_far(), "mutated": []}


def _weights(model) -> list:
    return [np.array(weight, dtype=np.float64) for weight in model.get_weights()]


def _value(keras, generator, losses, initial):
    """The driver's value after the steps whose ``(d_loss, g_loss)`` are ``losses`` (see the module)."""
    d_losses = np.array([float(np.mean(d)) for d, _ in losses]) if losses else np.zeros(0)
    g_losses = np.array([float(np.mean(g)) for _, g in losses]) if losses else np.zeros(0)
    return _weights(generator), d_losses, g_losses, initial, model_spec.dense_layers(keras, generator)
