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
variables, so that the compiled step is traced once, not twice (``gan_step.FIRST_STEP``). The
later steps run many to a compiled call, a ``tf.range`` loop over the batches between two progress
reports (as Keras's ``steps_per_execution`` runs a ``train_step``): the same operations on the same
variables, in the same order, without Python between the steps (measured with the solution's step: 2.6 ms
a step one call each, 1.4 ms in the loop). A step that cannot be traced inside the loop (it returns
something other than two losses, say) runs one compiled call per step instead, where whatever is wrong
with it is named as in ``gan_step``.
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
from ._values import require_model
from .gan_step import COMPILED_STEP, one_step


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
    models = [("generator", generator), ("discriminator", discriminator), ("g_optimizer", g_optimizer),
              ("d_optimizer", d_optimizer)]
    real, noise = np.asarray(args["real"], np.float32), np.asarray(args["noise"], np.float32)
    steps = len(real)
    every = int(request.get("report_every") or 0)
    losses = []  # (d_loss, g_loss) of each step taken, as floats

    def so_far():
        return _value(keras, generator, losses, initial)

    looped = compiled = None
    starts = sorted({0, 1, *range(every or CHUNK, steps, every or CHUNK)})  # the eager first step, then runs
    for start, end in zip(starts, [*starts[1:], steps]):
        if start >= steps or (every and start and start % every == 0 and report(so_far(), start)):
            break
        if start == 0:
            losses.append(_means(one_step(step, request["unit"], models, real[0], noise[0], 0, steps)))
            looped = _loop(tf, step, models, real.shape[1:], noise.shape[1:])
        elif looped is not None:
            _run_loop(looped, request["unit"], real, noise, start, end, losses)
        else:
            compiled = compiled or tf.function(step)  # compiled afresh, as for "gan_step"
            for index in range(start, end):
                losses.append(_means(one_step(compiled, request["unit"], models, real[index], noise[index], index,
                                              steps)))
    return {"status": "ok", "value": so_far(), "mutated": []}


CHUNK = 100  # steps to a compiled call when the case asks for no progress reports


def _means(losses) -> tuple[float, float]:
    """``(d_loss, g_loss)`` as the means of what one step returned."""
    return tuple(float(np.mean(loss)) for loss in losses)


def _loop(tf, step, models, real_shape, noise_shape):
    """``step`` over K batches in one compiled call: ``(real (K, N, D), noise (K, N, L)) -> (d_losses (K,),
    g_losses (K,))``, each the mean of what the step returned; traced here, once. None when the step cannot be
    traced inside the loop (the caller then runs one compiled call per step, whose errors name the step)."""
    values = [value for _, value in models]

    def steps(real, noise):
        count = tf.shape(real)[0]
        d_losses, g_losses = tf.TensorArray(tf.float64, size=count), tf.TensorArray(tf.float64, size=count)
        for index in tf.range(count):
            returned = step(*values, real[index], noise[index])
            if not isinstance(returned, (tuple, list)) or len(returned) != 2:
                raise TypeError("not two losses")  # only ends the tracing: the step runs one call each instead
            d_losses = d_losses.write(index, tf.reduce_mean(tf.cast(returned[0], tf.float64)))
            g_losses = g_losses.write(index, tf.reduce_mean(tf.cast(returned[1], tf.float64)))
        return d_losses.stack(), g_losses.stack()

    looped = tf.function(steps, input_signature=[tf.TensorSpec((None, *real_shape), tf.float32),
                                                 tf.TensorSpec((None, *noise_shape), tf.float32)])
    try:
        return looped.get_concrete_function()
    except Exception:  # noqa: BLE001 - whatever the step does wrong is named when it runs on its own
        return None


def _run_loop(looped, unit, real, noise, start, end, losses):
    """Steps ``start`` to ``end - 1`` in one call of ``looped``; their losses appended."""
    import tensorflow as tf

    try:
        (d_losses, g_losses), _ = invoke(looped, unit, [("real", tf.constant(real[start:end])),
                                                        ("noise", tf.constant(noise[start:end]))])
    except StudentError as failure:
        failure.reply["traceback"] = (f"In steps {start + 1} to {end} of {len(real)}, {COMPILED_STEP}:\n"
                                      + failure.reply["traceback"])
        raise
    losses.extend(zip(np.asarray(d_losses).tolist(), np.asarray(g_losses).tolist()))


def _weights(model) -> list:
    return [np.array(weight, dtype=np.float64) for weight in model.get_weights()]


def _value(keras, generator, losses, initial):
    """The driver's value after the steps whose ``(d_loss, g_loss)`` means are ``losses`` (see the module)."""
    d_losses = np.array([d for d, _ in losses], np.float64)
    g_losses = np.array([g for _, g in losses], np.float64)
    return _weights(generator), d_losses, g_losses, initial, model_spec.dense_layers(keras, generator)
