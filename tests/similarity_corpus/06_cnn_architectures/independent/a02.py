# ruff: noqa: F821 - FILL_MODES is the stub's, defined in the notebook
import numpy as np


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    keep_prob = 1.0 - rate
    if training and rate > 0:
        keep = (rng.random(size=np.shape(x)) >= rate).astype(np.float64) / keep_prob
    else:
        keep = np.ones(np.shape(x))
    return np.multiply(x, keep), keep


def dropout_backward(dout, cache):
    return np.multiply(dout, cache)


def flip_horizontal(images):
    return np.flip(images, axis=2).copy()


def _index_map(length, shift, fill_mode):
    """For each output position along an axis, the input index it reads (-1: the fill value)."""
    source = np.arange(length) - shift
    if fill_mode == "constant":
        return np.where((source >= 0) & (source < length), source, -1)
    if fill_mode == "nearest":
        return np.clip(source, 0, length - 1)
    if fill_mode == "wrap":
        return source % length
    period = 2 * length
    folded = source % period
    return np.where(folded < length, folded, period - 1 - folded)


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    rows = _index_map(images.shape[1], dy, fill_mode)
    cols = _index_map(images.shape[2], dx, fill_mode)
    out = images[:, np.maximum(rows, 0)][:, :, np.maximum(cols, 0)].astype(float)
    out[:, rows < 0] = fill_value
    out[:, :, cols < 0] = fill_value
    return out


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    shift = np.array(delta, dtype=np.float64) * (high - low)
    if shift.ndim == 1:
        shift = shift[:, None, None, None]
    return np.minimum(np.maximum(images + shift, low), high)
