"""``keras_model``: build a Keras model with the student's function and describe it as plain data.

Request: ``{"unit", "args": the builder's arguments}``, and optionally ``"set_weights"`` (list of
arrays, in ``model.get_weights()`` order) and ``"predict"`` (an input batch), taken from the case's
inputs of those names (``request``). Value: ``model_spec.describe(model)``, with ``"output"``
(float64) when asked to predict (left out when the model's weights have other shapes than those
given, so that the judge names the shapes rather than an error of ``set_weights``). The description is the worker's word: judges read it to name a
wrong layer, and credit only the output on the weights and batch they chose.
A builder that returns no ``keras.Model`` is a wrong type.
"""

from __future__ import annotations

import numpy as np

from .._calling import error_reply, invoke, lookup
from . import model_spec
from ._values import require_model


def request(case, args: dict, inputs: dict) -> dict:
    """Grader side: the inputs ``set_weights`` and ``predict`` are for the driver, not the builder's arguments."""
    return {key: args.pop(key) for key in ("set_weights", "predict") if key in args}


def run(namespace, request):
    build = lookup(namespace, request["unit"])
    model, _ = invoke(build, request["unit"], request["args"])
    import keras

    value = model_spec.describe(require_model(keras, model, request["unit"]))
    given = request.get("set_weights")
    if given is not None and value["weight_shapes"] != [list(np.shape(weight)) for weight in given]:
        return {"status": "ok", "value": value, "mutated": []}  # other weights: the judge names the shapes
    try:
        if request.get("set_weights") is not None:
            model.set_weights(request["set_weights"])
        if request.get("predict") is not None:
            value["output"] = np.asarray(model(request["predict"], training=False), dtype=np.float64)
    except BaseException as error:  # noqa: BLE001 - the student's model failed to run
        return error_reply(error, during=request["unit"])
    return {"status": "ok", "value": value, "mutated": []}
