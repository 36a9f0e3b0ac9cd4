"""``keras_model``: build a Keras model with the student's function and describe it as plain data.

Request: ``{"unit", "args": the builder's arguments}``, and optionally (a case's ``extra``)
``"set_weights"`` (list of arrays, in ``model.get_weights()`` order) and ``"predict"`` (an input
batch). Value: ``model_spec.describe(model)``, with ``"output"`` (float64) when asked to predict.
A builder that returns no ``keras.Model`` is a wrong type.
"""

from __future__ import annotations

import numpy as np

from .._calling import error_reply, invoke, lookup
from . import model_spec
from ._values import require_model


def run(namespace, request):
    build = lookup(namespace, request["unit"])
    model, _ = invoke(build, request["unit"], request["args"])
    import keras

    value = model_spec.describe(require_model(keras, model, request["unit"]))
    try:
        if request.get("set_weights") is not None:
            model.set_weights(request["set_weights"])
        if request.get("predict") is not None:
            value["output"] = np.asarray(model(request["predict"], training=False), dtype=np.float64)
    except BaseException as error:  # noqa: BLE001 - the student's model failed to run
        return error_reply(error, during=request["unit"])
    return {"status": "ok", "value": value, "mutated": []}
