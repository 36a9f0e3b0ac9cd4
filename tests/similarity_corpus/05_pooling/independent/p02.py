# ruff: noqa: F821 - pool_arguments is the stub's, defined in the notebook
import math

import numpy as np


def conv_geometry(size, kernel_size, stride, padding):
    if padding == "same":
        out = math.ceil(size / stride)
        needed = max(0, (out - 1) * stride + kernel_size - size)
        before = needed // 2
        return out, before, needed - before
    return math.floor((size - kernel_size) / stride) + 1, 0, 0


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    (ph, pw), (sh, sw) = pool_arguments(x, pool_size, strides, padding)
    rows, pad_top, pad_bottom = conv_geometry(x.shape[1], ph, sh, padding)
    cols, pad_left, pad_right = conv_geometry(x.shape[2], pw, sw, padding)
    padded = np.full((x.shape[0], x.shape[1] + pad_top + pad_bottom, x.shape[2] + pad_left + pad_right, x.shape[3]),
                     -np.inf)
    padded[:, pad_top:pad_top + x.shape[1], pad_left:pad_left + x.shape[2], :] = x
    result = np.full((x.shape[0], rows, cols, x.shape[3]), -np.inf)
    for a in range(ph):
        for b in range(pw):
            result = np.maximum(result, padded[:, a:a + sh * rows:sh, b:b + sw * cols:sw, :][:, :rows, :cols])
    return result, {"x": x, "padded": padded, "pool": (ph, pw), "stride": (sh, sw), "pads": (pad_top, pad_left)}


def max_pool2d_backward(dout, cache):
    padded, (ph, pw), (sh, sw) = cache["padded"], cache["pool"], cache["stride"]
    top, left = cache["pads"]
    x = cache["x"]
    rows, cols = dout.shape[1], dout.shape[2]
    grad = np.zeros(padded.shape)
    best = np.full(dout.shape, -np.inf)
    for a in range(ph):
        for b in range(pw):
            best = np.maximum(best, padded[:, a:a + sh * rows:sh, b:b + sw * cols:sw, :][:, :rows, :cols])
    done = np.zeros(dout.shape, dtype=bool)
    for a in range(ph):
        for b in range(pw):
            view = padded[:, a:a + sh * rows:sh, b:b + sw * cols:sw, :][:, :rows, :cols]
            first = (view == best) & ~done
            grad[:, a:a + sh * rows:sh, b:b + sw * cols:sw, :][:, :rows, :cols] += first * dout
            done = done | first
    return grad[:, top:top + x.shape[1], left:left + x.shape[2], :]
