"""Keras references for assignment 05 (pooling): ``MaxPooling2D`` and ``AveragePooling2D``, forward and gradients.

Each function takes the same NumPy inputs as the student's unit and returns a dict of named
outputs. The layers run in float64; gradients come from automatic differentiation of
``sum(pool(x) * dout)`` (TensorFlow sends a max-pooling gradient to the first maximum of a window,
and with "same" padding averages only over the real cells).
"""

from __future__ import annotations

from dlcourse.references._keras import keras
from dlcourse.references.autodiff import to_numpy, value_and_grad

F64 = "float64"


def _layer(kind: str, pool_size, strides, padding: str):
    layers = keras().layers
    cls = {"max": layers.MaxPooling2D, "avg": layers.AveragePooling2D}[kind]
    return cls(pool_size=pool_size, strides=strides, padding=padding, dtype=F64)


def pool_forward(kind: str, x, pool_size=2, strides=None, padding="valid") -> dict:
    """``{"out": (N, H_out, W_out, C)}`` of ``MaxPooling2D`` (kind "max") or ``AveragePooling2D`` ("avg")."""
    return {"out": to_numpy(_layer(kind, pool_size, strides, padding)(x))}


def pool_backward(kind: str, x, pool_size, strides, padding, dout) -> dict:
    """Gradient of ``sum(pool(x) * dout)`` with respect to ``x``: ``{"dx": x.shape}``."""
    layer = _layer(kind, pool_size, strides, padding)
    ops = keras().ops
    _, (dx,) = value_and_grad(lambda x_: ops.sum(layer(x_) * dout), x)
    return {"dx": dx}


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid") -> dict:
    return pool_forward("max", x, pool_size, strides, padding)


def max_pool2d_backward(x, pool_size, strides, padding, dout) -> dict:
    return pool_backward("max", x, pool_size, strides, padding, dout)


def avg_pool2d_forward(x, pool_size=2, strides=None, padding="valid") -> dict:
    return pool_forward("avg", x, pool_size, strides, padding)


def avg_pool2d_backward(x, pool_size, strides, padding, dout) -> dict:
    return pool_backward("avg", x, pool_size, strides, padding, dout)
