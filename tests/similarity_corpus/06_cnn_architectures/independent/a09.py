# ruff: noqa: F821 - FILL_MODES is the stub's, defined in the notebook
import numpy as np


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    mask = (rng.random(x.shape) >= rate) if training and rate else None
    scale = 1.0 / (1.0 - rate) if mask is not None else 1.0
    out = x if mask is None else np.where(mask, x, 0.0) * scale
    return np.array(out, dtype=np.float64), (mask, scale)


def dropout_backward(dout, cache):
    mask, scale = cache
    if mask is None:
        return np.array(dout, dtype=np.float64)
    return np.where(mask, dout, 0.0) * scale


def flip_horizontal(images):
    return np.flip(images, 2)


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    margin_y, margin_x = abs(int(dy)), abs(int(dx))
    pad_spec = ((0, 0), (margin_y, margin_y), (margin_x, margin_x), (0, 0))
    if fill_mode == "constant":
        big = np.pad(images.astype(float), pad_spec, constant_values=fill_value)
    else:
        big = np.pad(images.astype(float), pad_spec, mode=FILL_MODES[fill_mode])
    start_y, start_x = margin_y - dy, margin_x - dx
    return big[:, start_y:start_y + images.shape[1], start_x:start_x + images.shape[2], :]


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    delta = np.reshape(delta, (-1,) + (1,) * 3) if np.ndim(delta) else delta
    out = images + (high - low) * delta
    out[out < low] = low
    out[out > high] = high
    return out
