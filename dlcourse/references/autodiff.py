"""Gradients by automatic differentiation on the active Keras backend: one small function per backend.

Every reference gradient goes through :func:`value_and_grad`, so the references themselves are
written once, against ``keras.ops`` and Keras layers (weights injected with ``stateless_call``).
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
    arrays = tuple(np.asarray(array, dtype=np.float64) for array in arrays)
    name = backend()
    if name not in _BACKENDS:
        raise ValueError(f"Expected KERAS_BACKEND among {sorted(_BACKENDS)}. Received {name!r}.")
    value, grads = _BACKENDS[name](function, arrays)
    return to_numpy(value), [to_numpy(grad) for grad in grads]


def layer_backward(layer, weights: list, x: np.ndarray, dout: np.ndarray) -> list[np.ndarray]:
    """Gradients of ``sum(layer(x) * dout)`` with respect to ``x`` and each of ``weights``, injected with
    ``stateless_call``; returns ``[dx, dweight, ...]`` (the layer must be built)."""
    ops = keras().ops

    def objective(x_, *weights_):
        out, _ = layer.stateless_call(list(weights_), [], x_)
        return ops.sum(out * dout)

    _, grads = value_and_grad(objective, x, *weights)
    return grads


def _tensorflow(function, arrays):
    import tensorflow as tf

    tensors = [tf.constant(array) for array in arrays]
    with tf.GradientTape() as tape:
        for tensor in tensors:
            tape.watch(tensor)
        value = function(*tensors)
    return value, tape.gradient(value, tensors, unconnected_gradients=tf.UnconnectedGradients.ZERO)


def _jax(function, arrays):
    import jax

    if not jax.config.jax_enable_x64:
        raise ValueError("Expected JAX with float64 enabled. Received JAX_ENABLE_X64 unset: set JAX_ENABLE_X64=1 "
                         "before Keras is imported (dlcourse does this when it imports Keras itself).")
    value, pullback = jax.vjp(function, *[jax.numpy.asarray(array) for array in arrays])
    return value, pullback(jax.numpy.ones_like(value))


def _torch(function, arrays):
    import torch

    # on Keras's own device (a GPU when there is one), so the layers' weights and the inputs meet
    tensors = [keras().ops.convert_to_tensor(array, dtype="float64").requires_grad_(True) for array in arrays]
    value = function(*tensors)
    grads = torch.autograd.grad(value, tensors, allow_unused=True)
    return value.detach(), [torch.zeros_like(t) if g is None else g for t, g in zip(tensors, grads)]


_BACKENDS = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}


def to_numpy(tensor) -> np.ndarray:
    """A backend tensor as a float64 NumPy array."""
    if hasattr(tensor, "detach"):  # torch tensors, possibly on a GPU
        tensor = tensor.detach().cpu()
    return np.asarray(keras().ops.convert_to_numpy(tensor), dtype=np.float64)
