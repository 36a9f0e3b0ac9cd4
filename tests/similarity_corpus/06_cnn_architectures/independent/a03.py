# ruff: noqa: F821 - FILL_MODES is the stub's, defined in the notebook
import numpy as np


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    out = x.copy()
    cache = {"mask": None, "scale": 1.0}
    if training:
        cache["mask"] = rng.uniform(size=x.shape) >= rate
        cache["scale"] = 1 / (1 - rate)
        out = np.where(cache["mask"], x * cache["scale"], 0)
    return out, cache


def dropout_backward(dout, cache):
    if cache["mask"] is None:
        return dout.copy()
    return np.where(cache["mask"], dout * cache["scale"], 0)


def flip_horizontal(images):
    flipped = np.empty_like(images)
    width = images.shape[2]
    for col in range(width):
        flipped[:, :, col, :] = images[:, :, width - 1 - col, :]
    return flipped


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    h, w = images.shape[1], images.shape[2]
    kwargs = dict(constant_values=fill_value) if fill_mode == "constant" else {}
    padded = np.pad(images, ((0, 0), (abs(dy), abs(dy)), (abs(dx), abs(dx)), (0, 0)), FILL_MODES[fill_mode], **kwargs)
    return padded[:, abs(dy) - dy:abs(dy) - dy + h, abs(dx) - dx:abs(dx) - dx + w, :]


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    result = np.empty(images.shape)
    deltas = np.broadcast_to(np.asarray(delta, dtype=float), (images.shape[0],))
    for i in range(images.shape[0]):
        result[i] = np.clip(images[i] + deltas[i] * (high - low), low, high)
    return result
