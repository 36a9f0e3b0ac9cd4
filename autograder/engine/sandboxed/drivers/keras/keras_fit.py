"""``keras_fit``: ``value = unit(*args)`` for a unit that trains a Keras model with ``fit`` and returns its weights.

Request: as for "call". While the unit runs, every ``fit`` of a Keras model gets one more callback:
after each epoch it reports the model's weights (``model.get_weights()``, the unit's value) to the
grader (``_progress.report``), and once the grader answers that they reach the case's bar it sets
``model.stop_training``, so ``fit`` returns after that epoch and the unit returns as it always
does. A unit that trains without ``fit`` runs to its end. Value: whatever the unit returns.
"""

from __future__ import annotations

import numpy as np

from .._calling import invoke, lookup
from .._progress import report


def run(namespace, request):
    function = lookup(namespace, request["unit"])
    import keras

    class ReportEachEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            weights = [np.asarray(weight) for weight in self.model.get_weights()]
            if report(weights, epoch + 1):
                self.model.stop_training = True

    original = keras.Model.fit

    def fit(model, *args, **kwargs):
        callbacks = kwargs.get("callbacks")  # fit(x, y, batch_size, epochs, verbose, callbacks, ...)
        if len(args) <= 5 and (callbacks is None or isinstance(callbacks, (list, tuple))):
            kwargs["callbacks"] = [*(callbacks or ()), ReportEachEpoch()]
        return original(model, *args, **kwargs)

    keras.Model.fit = fit
    try:
        value, mutated = invoke(function, request["unit"], request["args"])
    finally:
        keras.Model.fit = original
    return {"status": "ok", "value": value, "mutated": mutated}
