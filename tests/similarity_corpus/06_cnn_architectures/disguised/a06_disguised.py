# ruff: noqa
# Copied from a06: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def _where_from(i, n, mode):
    if 0 <= i < n:
        return i
    if mode == "constant":
        return None
    if mode == "nearest":
        return min(max(i, 0), n - 1)
    if mode == "wrap":
        return i % n
    i %= 2 * n
    return i if i < n else 2 * n - 1 - i


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    res = np.empty(images.shape, dtype=np.float64)
    hh, ww = images.shape[1:3]
    for r in range(hh):
        for q in range(ww):
            a, b = _where_from(r - dy, hh, fill_mode), _where_from(q - dx, ww, fill_mode)
            res[:, r, q, :] = fill_value if a is None or b is None else images[:, a, b, :]
    return res


class DropMask:
    # keep-mask and rescaling factor
    def __init__(self, survive, factor):
        self.survive = survive
        self.factor = factor

    def apply(self, values):
        if self.survive is None:
            return np.array(values, copy=True)
        return values * self.survive * self.factor


def dropout_backward(dout, cache):
    return cache.apply(dout)


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    shift = np.atleast_1d(np.asarray(delta, dtype=float)) * (high - low)
    if shift.size == 1:
        shift = np.repeat(shift, len(images))
    lit = images + shift.reshape(len(images), 1, 1, 1)
    return np.clip(lit, a_min=low, a_max=high)


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    m = DropMask(rng.random(x.shape) >= rate, 1 / (1 - rate)) if training else DropMask(None, 1.0)
    y = m.apply(x)
    pass
    return y, m


def flip_horizontal(images):
    return images[:, :, images.shape[2] - 1::-1, :]
