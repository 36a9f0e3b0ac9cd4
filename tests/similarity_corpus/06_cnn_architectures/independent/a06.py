# ruff: noqa: F821 - FILL_MODES is the stub's, defined in the notebook
import numpy as np


class Mask:
    """Which units survive, and the factor that keeps the expected activation."""

    def __init__(self, keep, scale):
        self.keep = keep
        self.scale = scale

    def apply(self, values):
        if self.keep is None:
            return np.array(values, copy=True)
        return values * self.keep * self.scale


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    mask = Mask(rng.random(x.shape) >= rate, 1 / (1 - rate)) if training else Mask(None, 1.0)
    out = mask.apply(x)
    cache = mask
    return out, cache


def dropout_backward(dout, cache):
    return cache.apply(dout)


def flip_horizontal(images):
    return images[:, :, images.shape[2] - 1::-1, :]


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    out = np.empty(images.shape, dtype=np.float64)
    height, width = images.shape[1:3]
    for i in range(height):
        for j in range(width):
            si, sj = _source(i - dy, height, fill_mode), _source(j - dx, width, fill_mode)
            out[:, i, j, :] = fill_value if si is None or sj is None else images[:, si, sj, :]
    return out


def _source(index, length, fill_mode):
    if 0 <= index < length:
        return index
    if fill_mode == "constant":
        return None
    if fill_mode == "nearest":
        return min(max(index, 0), length - 1)
    if fill_mode == "wrap":
        return index % length
    index %= 2 * length
    return index if index < length else 2 * length - 1 - index


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    offsets = np.atleast_1d(np.asarray(delta, dtype=float)) * (high - low)
    if offsets.size == 1:
        offsets = np.repeat(offsets, len(images))
    brightened = images + offsets.reshape(len(images), 1, 1, 1)
    return np.clip(brightened, a_min=low, a_max=high)
