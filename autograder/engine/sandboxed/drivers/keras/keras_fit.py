"""``keras_fit``: ``value = unit(*args)`` for a unit that trains a Keras model with ``fit`` and returns its weights.

Request: as for "call". While the unit runs, every ``fit`` of a Keras model gets one more callback:
after each epoch it reports the model's weights (``model.get_weights()``, the unit's value) to the
grader (``_progress.report``), and once the grader answers that they reach the case's bar it sets
``model.stop_training``, so ``fit`` returns after that epoch and the unit returns as it always
does. A unit that trains without ``fit`` runs to its end. Value: whatever the unit returns.

Before a compiled model's first ``fit`` on arrays, its optimizer's and metrics' variables are built on
the first batch (``build_before_tracing``), as Keras builds them under a distribution strategy. Built
inside the first trace of the training step instead, they make TensorFlow trace that step twice (0.3-0.6 s
a fit for 06's LeNet-5). The variables and their initial values are the same, and so is the training,
bit for bit.
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
        build_before_tracing(model, args, kwargs)
        return original(model, *args, **kwargs)

    keras.Model.fit = fit
    try:
        value, mutated = invoke(function, request["unit"], request["args"])
    finally:
        keras.Model.fit = original
    return {"status": "ok", "value": value, "mutated": mutated}


def build_before_tracing(model, args: tuple, kwargs: dict) -> None:
    """Build a compiled model's unbuilt optimizer and metrics on the first batch of ``fit(x, y, batch_size, ...)``
    (``Trainer._symbolic_build``, what Keras runs under a distribution strategy); nothing unless ``x`` and ``y``
    are arrays. Whatever goes wrong here is left to ``fit``, which builds them itself and says what is wrong."""
    x = args[0] if args else kwargs.get("x")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    optimizer = getattr(model, "optimizer", None)
    build = getattr(model, "_symbolic_build", None)  # Keras 3's, as pinned
    if (build is None or optimizer is None or getattr(optimizer, "built", True)
            or not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)) or len(x) == 0):
        return
    batch = (args[2] if len(args) > 2 else kwargs.get("batch_size")) or 32
    try:
        build(data_batch=(x[:batch], y[:batch]))
    except Exception:  # noqa: BLE001 - see the docstring
        pass
