"""Keras references for assignment 03 (optimization): learning-rate schedules and optimizers.

Precision. On the TensorFlow backend Keras turns a Python float into a float32 tensor before any
cast: ``ExponentialDecay(0.1, ...)`` computes in float32, an optimizer's learning rate is a
``floatx()`` (float32) variable, and ``ops.cast(0.9, "float64")`` is 0.89999997615814. Compared
with exact float64 NumPy maths that is an error of about 1e-7 relative, as large as some of the
differences between Keras's update rules and the textbook's that the grader must tell apart.
So the references give Keras its hyperparameters as ``np.float64`` values (which Keras casts
without passing through float32) and build optimizers with ``floatx`` set to float64 (so the
learning-rate variable is float64). Keras then runs its own code in exact float64; the tests check
that with float32-exact hyperparameters (0.875, 0.5, ...) this equals Keras left at its defaults.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from dlcourse.references._keras import keras
from dlcourse.references.autodiff import to_numpy

F64 = "float64"

# ----------------------------------------------------------------------------- schedules

SCHEDULES = {"inverse_time_decay": "InverseTimeDecay", "exponential_decay": "ExponentialDecay"}


def schedule(unit: str, step, initial_learning_rate, decay_steps, decay_rate, staircase=False) -> dict:
    """``keras.optimizers.schedules.<InverseTimeDecay | ExponentialDecay>(...)(step)``.

    Every hyperparameter is given to Keras as a float64 value. Keras computes in the dtype of
    ``initial_learning_rate`` and casts ``decay_rate`` to it: with an int rate of 1 and a decay rate
    of 0.5 Keras would use 0 (integer arithmetic), which no student is asked to reproduce; with
    float64 values it computes the real-valued schedule, in float64.

    Returns:
        ``{"learning_rate": float64 array shaped like step}``.
    """
    k = keras()
    cls = getattr(k.optimizers.schedules, SCHEDULES[unit])
    rule = cls(np.float64(initial_learning_rate), np.float64(decay_steps), np.float64(decay_rate),
               staircase=bool(staircase))
    return {"learning_rate": to_numpy(rule(np.asarray(step, dtype=np.float64)))}


# ----------------------------------------------------------------------------- optimizers

# unit -> (Keras class, the unit's defaults, {config key: Keras slot-variable suffix}). Adam's slots
# take the textbook's names m and v (Keras calls them momentum and velocity, a clash with SGD's
# hyperparameter), and its step count t is Keras's ``iterations`` after the step.
# The defaults are Keras's, except that ``sgd_momentum`` defaults to momentum 0.9 (Keras's SGD to 0).
OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.01}, {}),
    "sgd_momentum": ("SGD", {"learning_rate": 0.01, "momentum": 0.9, "nesterov": False}, {"velocity": "momentum"}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-7}, {"velocity": "velocity"}),
    "adadelta": ("Adadelta", {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
                 {"accumulated_grad": "accumulated_grad", "accumulated_delta_var": "accumulated_delta_var"}),
    "adam": ("Adam", {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
             {"m": "momentum", "v": "velocity"}),
}


def _value(variable) -> np.ndarray:
    """A Keras variable's value as a float64 array (``variable.numpy()`` avoids a NumPy 2 deprecation)."""
    return np.array(variable.numpy(), dtype=np.float64)


@contextmanager
def _floatx(dtype: str):
    k = keras()
    previous = k.config.floatx()
    k.config.set_floatx(dtype)
    try:
        yield
    finally:
        k.config.set_floatx(previous)


def make_optimizer(unit: str, config: dict | None = None, exact: bool = True):
    """The Keras optimizer of ``unit`` with the unit's defaults updated by ``config``.

    Args:
        exact: float64 hyperparameters and learning-rate variable (see the module docstring);
            False gives Keras exactly what a user would (Python floats, float32 learning rate).
    """
    k = keras()
    name, defaults, _ = OPTIMIZERS[unit]
    hyper = {**defaults, **{key: value for key, value in (config or {}).items() if key in defaults}}
    if not exact:
        return getattr(k.optimizers, name)(**{key: (float(value) if type(value) is int else value)
                                               for key, value in hyper.items()})
    hyper = {key: (value if isinstance(value, bool) else np.float64(value)) for key, value in hyper.items()}
    with _floatx(F64):
        return getattr(k.optimizers, name)(**hyper)


def optimizer_steps(unit: str, w, dws, config=None, exact: bool = True) -> dict:
    """Apply the Keras optimizer of ``unit`` to ``w`` with the gradients ``dws``, one step each.

    Args:
        w: initial weights, any shape.
        dws: gradients, shape (K, *w.shape).
        config: hyperparameters (learning_rate, momentum, nesterov, rho, epsilon, beta_1, beta_2);
            other keys are ignored.

    Returns:
        ``{"result": {"weights": (K, *w.shape) weights after each step, "configs": [the slots after
        each step, {"velocity": ..., ...}; Adam's are "m", "v" and the step count "t"]}}``.
    """
    k = keras()
    _, _, slots = OPTIMIZERS[unit]
    optimizer = make_optimizer(unit, config, exact)
    variable = k.Variable(np.array(w, dtype=np.float64), dtype=F64, name="w")
    optimizer.build([variable])
    by_name = {v.name: v for v in optimizer.variables}
    slot_variables = {key: by_name[f"w_{suffix}"] for key, suffix in slots.items()}
    weights, configs = [], []
    for dw in np.asarray(dws, dtype=np.float64):
        optimizer.apply([k.ops.convert_to_tensor(dw, dtype=F64)], [variable])
        weights.append(_value(variable))
        state = {key: _value(slot) for key, slot in slot_variables.items()}
        if unit == "adam":
            state["t"] = np.int64(optimizer.iterations.numpy())
        configs.append(state)
    return {"result": {"weights": np.stack(weights), "configs": configs}}
