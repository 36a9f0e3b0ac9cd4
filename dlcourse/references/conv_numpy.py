"""A vectorized NumPy ``Conv2D``: the grader's yardstick for the speed of a student's fast convolution.

The timed cases of assignment 04 compare a student's ``conv2d_*_fast`` with this code, run and
timed in the grader on the same fresh inputs (``timed_forward``, ``timed_backward``): a fast unit
must be within a factor of it, however slow the student's naive unit is. Its values equal Keras's
``Conv2D`` (TensorFlow's "same" padding: the extra row or column after), which
``tests/assignments/test_04_convolution.py`` checks against the Keras reference. NumPy only: no framework import.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dlcourse.references.geometry import pair, window_geometry

TIMING_REPEATS = 3


BLOCK_VALUES = 1 << 18  # window values per block of images (about 1 MB in float32: it stays in the cache)


def _blocks(n: int, values_per_image: int) -> list[slice]:
    """Slices of the batch with about ``BLOCK_VALUES`` window values each (at least one image)."""
    step = max(1, BLOCK_VALUES // max(values_per_image, 1))
    return [slice(start, start + step) for start in range(0, n, step)]


def _windows(x, w, strides, padding):
    """Padded input and its windows (N, H_out, W_out, kh, kw, C), with the pads used."""
    (sh, sw), (kh, kw) = pair(strides), w.shape[:2]
    _, (pad_h, pad_w) = window_geometry(x.shape, (kh, kw), strides, padding)
    padded = np.pad(x, ((0, 0), pad_h, pad_w, (0, 0)))
    windows = sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::sh, ::sw].transpose(0, 1, 2, 4, 5, 3)
    return padded, windows, pad_h, pad_w


def conv2d_forward(x, w, b, strides=1, padding="valid") -> dict:
    """``out`` (N, H_out, W_out, F) of ``x`` (N, H, W, C), ``w`` (kh, kw, C, F), ``b`` (F,).

    The solution's method on one thread: the windows of a block of images as one patch matrix, times the
    kernel as a (kh kw C, F) matrix; blocks small enough to stay in the CPU's cache. (The solution also
    shares its blocks among the cores; the timed input is a single image, one block either way.)"""
    _, windows, _, _ = _windows(x, w, strides, padding)
    n, h_out, w_out = windows.shape[:3]
    w_matrix = w.reshape(-1, w.shape[3])
    out = np.empty((n, h_out, w_out, w.shape[3]), dtype=np.result_type(x, w, b))
    for block in _blocks(n, h_out * w_out * w_matrix.shape[0]):
        out[block] = (windows[block].reshape(-1, w_matrix.shape[0]) @ w_matrix).reshape(-1, h_out, w_out, w.shape[3])
    out += b
    return {"out": out}


def conv2d_backward(x, w, b, strides, padding, dout) -> dict:
    """Gradients of ``sum(conv2d_forward(x, w, b) * dout)``: ``{"dx", "dw", "db"}``."""
    (sh, sw), (kh, kw) = pair(strides), w.shape[:2]
    padded, windows, pad_h, pad_w = _windows(x, w, strides, padding)
    h_out, w_out = dout.shape[1:3]
    dw = np.tensordot(windows, dout, axes=([0, 1, 2], [0, 1, 2]))  # (kh, kw, C, F)
    dpadded = np.zeros(padded.shape, dtype=np.result_type(x, w, dout))
    for i in range(kh):  # one matrix product per kernel tap, every output position at once
        for j in range(kw):
            dpadded[:, i:i + sh * h_out:sh, j:j + sw * w_out:sw, :] += dout @ w[i, j].T
    dx = dpadded[:, pad_h[0]:padded.shape[1] - pad_h[1], pad_w[0]:padded.shape[2] - pad_w[1], :]
    return {"dx": dx, "dw": dw, "db": dout.sum(axis=(0, 1, 2))}


def _timed(function, **inputs) -> dict:
    """``function(**inputs)`` and ``"reference_seconds"``: its best wall time of ``TIMING_REPEATS`` runs."""
    best = np.inf
    for _ in range(TIMING_REPEATS):
        started = time.perf_counter()
        result = function(**inputs)
        best = min(best, time.perf_counter() - started)
    return {**result, "reference_seconds": float(best)}


def timed_forward(x, w, b, strides=1, padding="valid") -> dict:
    """``conv2d_forward`` and its time: the yardstick of ``conv2d_forward_fast``."""
    return _timed(conv2d_forward, x=x, w=w, b=b, strides=strides, padding=padding)


def timed_backward(x, w, b, strides, padding, dout) -> dict:
    """``conv2d_backward`` and its time: the yardstick of ``conv2d_backward_fast``."""
    return _timed(conv2d_backward, x=x, w=w, b=b, strides=strides, padding=padding, dout=dout)
