"""Gradients by automatic differentiation on the active Keras backend.

Every reference gradient goes through :func:`value_and_grad`, so the references themselves are
written once, against ``keras.ops`` and layers.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcourse.references._keras import backend, keras


def value_and_grad(function: Callable, *arrays: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Evaluate ``function(*tensors)`` (a scalar) and its gradient with respect to each argument.

    Args:
        function: takes one backend tensor per array and returns a scalar tensor.
        *arrays: float64 NumPy arrays.

    Returns:
        ``(value, [d value / d array, ...])`` as float64 NumPy arrays, each gradient shaped like its array.
    """
    name = backend()
    if name != "tensorflow":
        raise ValueError(f"Expected the tensorflow backend. Received KERAS_BACKEND={name!r}.")
    import tensorflow as tf

    tensors = [tf.constant(np.asarray(array, dtype=np.float64)) for array in arrays]
    with tf.GradientTape() as tape:
        for tensor in tensors:
            tape.watch(tensor)
        value = function(*tensors)
    grads = tape.gradient(value, tensors, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return to_numpy(value), [to_numpy(grad) for grad in grads]


def to_numpy(tensor) -> np.ndarray:
    """A backend tensor as a float64 NumPy array."""
    return np.asarray(keras().ops.convert_to_numpy(tensor), dtype=np.float64)
