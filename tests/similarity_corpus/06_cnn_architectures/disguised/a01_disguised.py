# ruff: noqa
# Copied from a01: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    d = np.asarray(delta, dtype=float).reshape(-1, 1, 1, 1)
    return np.clip(images + d * (high - low),
                   low, high)


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    bs, hh, ww, cc = images.shape
    # pad on the side we move away from
    widths = ((0, 0), (max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0)), (0, 0))
    if fill_mode == "constant":
        canvas = np.pad(images, widths, mode="constant", constant_values=fill_value)
    else:
        canvas = np.pad(images, widths, mode=FILL_MODES[fill_mode])
    r0 = max(-dy, 0)
    c0 = max(-dx, 0)
    debug = canvas.shape
    return canvas[:, r0:r0 + hh, c0:c0 + ww, :]


def dropout_backward(dout, cache):
    keep, factor = cache
    if keep is None:
        return dout
    return dout * keep * factor


def flip_horizontal(images):
    """Mirror."""
    return images[:, :, ::-1, :]


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    if not training:
        return x, (None, 1.0)
    keep = rng.random(x.shape) >= rate
    factor = 1.0 / (1.0 - rate)
    y = x * keep * factor
    saved = (keep, factor)
    return y, saved
