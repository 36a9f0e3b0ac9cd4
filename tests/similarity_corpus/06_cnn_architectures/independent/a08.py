# ruff: noqa: F821 - FILL_MODES is the stub's, defined in the notebook
import numpy as np


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    if not training:
        return x.copy(), np.ones_like(x)
    survivors = rng.random(x.shape) >= rate
    weights = survivors.astype(x.dtype) / (1 - rate)
    return x * weights, weights


def dropout_backward(dout, cache):
    grad = dout * cache
    return grad


def flip_horizontal(images):
    n, h, w, c = images.shape
    order = [w - 1 - k for k in range(w)]
    return images[:, :, order, :]


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    n, h, w, c = images.shape
    rows = np.arange(h) - dy
    cols = np.arange(w) - dx
    if fill_mode == "nearest":
        rows, cols = np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)
    elif fill_mode == "wrap":
        rows, cols = rows % h, cols % w
    elif fill_mode == "reflect":
        rows = _mirror(rows, h)
        cols = _mirror(cols, w)
    shifted = images[:, np.clip(rows, 0, h - 1)][:, :, np.clip(cols, 0, w - 1)].astype(np.float64)
    if fill_mode == "constant":
        inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]
        shifted = np.where(inside[None, :, :, None], shifted, fill_value)
    return shifted


def _mirror(index, n):
    index = np.mod(index, 2 * n)
    return np.where(index >= n, 2 * n - 1 - index, index)


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    span = high - low
    delta = np.asarray(delta, dtype=np.float64)
    shift = delta * span if delta.ndim == 0 else np.einsum("n,nhwc->nhwc", delta * span, np.ones(images.shape))
    return np.clip(images + shift, low, high)
