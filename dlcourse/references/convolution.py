"""Keras references for assignment 04 (convolution): ``Conv2D`` forward and gradients, and its padding.

Each function takes the same NumPy inputs as the student's unit and returns a dict of named
outputs. The layer runs in float64 with the kernel and bias injected by ``stateless_call``;
gradients come from automatic differentiation of ``sum(Conv2D(x) * dout)``.
"""

from __future__ import annotations

import numpy as np

from dlcourse.references._keras import keras
from dlcourse.references.autodiff import layer_backward, to_numpy, value_and_grad

F64 = "float64"


def _conv(w, strides, padding: str):
    layer = keras().layers.Conv2D(w.shape[3], w.shape[:2], strides=strides, padding=padding, dtype=F64)
    return layer


def conv2d_forward(x, w, b, strides=1, padding="valid") -> dict:
    """``Conv2D`` with kernel ``w`` (kh, kw, C, F) and bias ``b`` (F,) on ``x`` (N, H, W, C): ``{"out"}``."""
    layer = _conv(w, strides, padding)
    layer.build(x.shape)
    out, _ = layer.stateless_call([w, b], [], x)
    return {"out": to_numpy(out)}


def conv2d_backward(x, w, b, strides, padding, dout) -> dict:
    """Gradients of ``sum(Conv2D(x) * dout)``: ``{"dx": x.shape, "dw": w.shape, "db": b.shape}``."""
    layer = _conv(w, strides, padding)
    layer.build(x.shape)
    dx, dw, db = layer_backward(layer, [w, b], x, dout)
    return {"dx": dx, "dw": dw, "db": db}


def conv2d_padded(x, w, b, strides, pads, dout=None) -> dict:
    """``Conv2D(padding="valid")`` after zero-padding ``x`` by ``pads = ((top, bottom), (left, right))``.

    Any padding, also one Keras's "same" never makes (the grader uses it to recognise a padding
    mistake). Without ``dout``: ``{"out"}``; with it: ``{"dx", "dw", "db"}`` of ``sum(out * dout)``.
    """
    layer = _conv(w, strides, "valid")
    (top, bottom), (left, right) = pads
    layer.build((x.shape[0], x.shape[1] + top + bottom, x.shape[2] + left + right, x.shape[3]))
    ops = keras().ops

    def forward(x_, w_, b_):
        padded = ops.pad(x_, ((0, 0), (top, bottom), (left, right), (0, 0)))
        out, _ = layer.stateless_call([w_, b_], [], padded)
        return out

    if dout is None:
        return {"out": to_numpy(forward(x, w, b))}
    _, (dx, dw, db) = value_and_grad(lambda *args: ops.sum(forward(*args) * dout), x, w, b)
    return {"dx": dx, "dw": dw, "db": db}


def conv_geometry(size, kernel_size, stride, padding) -> dict:
    """Output length and padding of ``Conv2D`` along one axis, measured on Keras itself.

    A row of ``size`` ones is convolved with the kernel ``[1, 2, 4, ..., 2**(k-1)]``: each output
    is the sum of the powers of two of the taps that fell on real (not padded) cells. The first
    output's lowest real tap is the padding before; the taps past the input in the last window
    are the padding after.

    Returns:
        ``{"out_size", "pad_before", "pad_after"}`` as integers.
    """
    taps = 2.0 ** np.arange(kernel_size)
    layer = keras().layers.Conv2D(1, (1, kernel_size), strides=(1, stride), padding=padding, dtype=F64)
    layer.build((1, 1, size, 1))
    out, _ = layer.stateless_call([taps.reshape(1, kernel_size, 1, 1), np.zeros(1)], [], np.ones((1, 1, size, 1)))
    row = to_numpy(out).reshape(-1).astype(np.int64)
    if row.size == 0:
        return {"out_size": np.int64(0), "pad_before": np.int64(0), "pad_after": np.int64(0)}
    first, last = int(row[0]), int(row[-1])
    pad_before = (first & -first).bit_length() - 1
    pad_after = kernel_size - last.bit_length()
    return {"out_size": np.int64(row.size), "pad_before": np.int64(pad_before), "pad_after": np.int64(pad_after)}
