"""The geometry of a sliding window (convolution, pooling) by TensorFlow's rule, in plain Python.

Along one axis of ``size`` cells, a window of ``kernel`` cells moved by ``stride``:

- "valid": no padding, ``out = (size - kernel) // stride + 1``;
- "same": ``out = ceil(size / stride)``, and ``max((out - 1) * stride + kernel - size, 0)`` zeros in
  total, the odd one after the input (TensorFlow's split; PyTorch's differs).

``tests/assignments/test_04_convolution.py`` checks ``tf_geometry`` against Keras's ``Conv2D`` (``conv_geometry``
in ``dlcourse.references.convolution``). No framework import.
"""

from __future__ import annotations

import numpy as np


def pair(value) -> tuple[int, int]:
    """``(rows, cols)`` of a size or stride given as one number or two."""
    return (int(value), int(value)) if np.ndim(value) == 0 else (int(value[0]), int(value[1]))


def tf_geometry(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int, int]:
    """``(out_size, pad_before, pad_after)`` along one axis."""
    if padding == "valid":
        return (size - kernel) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


def pads(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int]:
    """Zeros ``(before, after)`` along one axis."""
    return tf_geometry(size, kernel, stride, padding)[1:]


def window_geometry(x_shape, window, strides, padding) -> tuple[tuple[int, int], tuple[tuple[int, int], ...]]:
    """Output size ``(out_h, out_w)`` and pads ``((top, bottom), (left, right))`` of a 2-D window.

    Args:
        x_shape: the input's shape ``(N, H, W, C)``.
        window: the window's ``(kh, kw)``, or one number for both.
        strides: one number or two.
        padding: "valid" or "same".
    """
    (kh, kw), (sh, sw) = pair(window), pair(strides)
    out_h, top, bottom = tf_geometry(x_shape[1], kh, sh, padding)
    out_w, left, right = tf_geometry(x_shape[2], kw, sw, padding)
    return (out_h, out_w), ((top, bottom), (left, right))


def conv_output_shape(x_shape, w_shape, strides, padding) -> tuple[int, int, int, int]:
    """``(N, H_out, W_out, F)`` of ``Conv2D`` on ``x`` (N, H, W, C) with a kernel (kh, kw, C, F)."""
    (out_h, out_w), _ = window_geometry(x_shape, w_shape[:2], strides, padding)
    return x_shape[0], out_h, out_w, w_shape[3]
