# ruff: noqa: F821 - FILL_MODES is the stub's, defined in the notebook
import numpy as np


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    if not training:
        return x, (None, 1.0)
    mask = rng.random(x.shape) >= rate
    scale = 1.0 / (1.0 - rate)
    out = x * mask * scale
    cache = (mask, scale)
    return out, cache


def dropout_backward(dout, cache):
    mask, scale = cache
    if mask is None:
        return dout
    return dout * mask * scale


def flip_horizontal(images):
    return images[:, :, ::-1, :]


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    n, h, w, c = images.shape
    pad = ((0, 0), (max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0)), (0, 0))
    if fill_mode == "constant":
        big = np.pad(images, pad, mode="constant", constant_values=fill_value)
    else:
        big = np.pad(images, pad, mode=FILL_MODES[fill_mode])
    top = max(-dy, 0)
    left = max(-dx, 0)
    return big[:, top:top + h, left:left + w, :]


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    delta = np.asarray(delta, dtype=float).reshape(-1, 1, 1, 1)
    return np.clip(images + delta * (high - low), low, high)
