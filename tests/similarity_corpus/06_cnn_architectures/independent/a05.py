# ruff: noqa: F821 - FILL_MODES is the stub's, defined in the notebook
import numpy as np


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    factor = 1.0 / (1.0 - rate)
    if training:
        dropped = rng.random(x.shape) < rate
    else:
        dropped = np.zeros(x.shape, dtype=bool)
        factor = 1.0
    y = x * factor
    y[dropped] = 0.0
    return y, (dropped, factor)


def dropout_backward(dout, cache):
    dropped, factor = cache
    dx = dout * factor
    dx[dropped] = 0.0
    return dx


def flip_horizontal(images):
    return np.ascontiguousarray(np.fliplr(images.transpose(1, 2, 0, 3)).transpose(2, 0, 1, 3))


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    n, height, width, channels = images.shape
    if fill_mode == "wrap":
        return np.roll(images, (dy, dx), axis=(1, 2))
    if fill_mode == "constant":
        canvas = np.full((n, height + 2 * abs(dy), width + 2 * abs(dx), channels), fill_value, dtype=float)
        canvas[:, abs(dy):abs(dy) + height, abs(dx):abs(dx) + width] = images
    else:
        canvas = np.pad(images, ((0, 0), (abs(dy),) * 2, (abs(dx),) * 2, (0, 0)), mode=FILL_MODES[fill_mode])
    y0, x0 = abs(dy) - dy, abs(dx) - dx
    return canvas[:, y0:y0 + height, x0:x0 + width]


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    if np.ndim(delta) == 0:
        return np.clip(images + delta * (high - low), low, high)
    per_image = np.asarray(delta, dtype=float)[:, np.newaxis, np.newaxis, np.newaxis]
    return np.clip(images + per_image * (high - low), low, high)
