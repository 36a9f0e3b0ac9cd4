# ruff: noqa
# copies translate from a08 (renamed, reformatted, comments and a dead statement); the rest is a11's own.
import numpy as np


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    keep = np.ones(x.shape, dtype=bool)
    scale = 1.0
    if training and rate > 0:
        keep = rng.random(x.shape) >= rate
        scale = 1.0 / (1.0 - rate)
    return np.where(keep, x * scale, 0.0), {"keep": keep, "scale": scale}


def dropout_backward(dout, cache):
    return np.where(cache["keep"], dout * cache["scale"], 0.0)


def flip_horizontal(images):
    out = images.copy()
    out[:] = images[:, :, ::-1]
    return out


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    bs, hh, ww, cc = images.shape
    # where each output pixel reads from
    src_r = np.arange(hh) - dy
    src_c = np.arange(ww) - dx
    if fill_mode == "nearest":
        src_r, src_c = np.clip(src_r, 0, hh - 1), np.clip(src_c, 0, ww - 1)
    elif fill_mode == "wrap":
        src_r, src_c = src_r % hh, src_c % ww
    elif fill_mode == "reflect":
        src_r = reflect_index(src_r, hh)
        src_c = reflect_index(src_c, ww)
    moved = images[:, np.clip(src_r, 0, hh - 1)][:, :, np.clip(src_c, 0, ww - 1)].astype(np.float64)
    if fill_mode == "constant":
        valid = ((src_r >= 0) & (src_r < hh))[:, None] & ((src_c >= 0) & (src_c < ww))[None, :]
        moved = np.where(valid[None, :, :, None], moved, fill_value)
    spare = moved.size
    return moved


def reflect_index(i, size):
    i = np.mod(i, 2 * size)
    return np.where(i >= size, 2 * size - 1 - i, i)


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    offset = (high - low) * np.asarray(delta, dtype=float)
    if offset.ndim:
        offset = offset.reshape(len(images), 1, 1, 1)
    return np.clip(images + offset, low, high)
