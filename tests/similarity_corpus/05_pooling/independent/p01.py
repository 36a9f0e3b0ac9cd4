# ruff: noqa: F821 - pool_arguments is the stub's, defined in the notebook
import numpy as np


def conv_geometry(size, kernel_size, stride, padding):
    if padding == "valid":
        return (size - kernel_size) // stride + 1, 0, 0
    out_size = -(-size // stride)
    total = max((out_size - 1) * stride + kernel_size - size, 0)
    return out_size, total // 2, total - total // 2


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    (ph, pw), (sh, sw) = pool_arguments(x, pool_size, strides, padding)
    n, h, w, c = x.shape
    oh, top, bottom = conv_geometry(h, ph, sh, padding)
    ow, left, right = conv_geometry(w, pw, sw, padding)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=-np.inf)
    out = np.empty((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :]
            out[:, i, j, :] = window.max(axis=(1, 2))
    cache = (x, (ph, pw), (sh, sw), padding)
    return out, cache


def max_pool2d_backward(dout, cache):
    x, (ph, pw), (sh, sw), padding = cache
    n, h, w, c = x.shape
    oh, top, bottom = conv_geometry(h, ph, sh, padding)
    ow, left, right = conv_geometry(w, pw, sw, padding)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=-np.inf)
    dxp = np.zeros_like(xp)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for k in range(c):
                    window = xp[b, i * sh:i * sh + ph, j * sw:j * sw + pw, k]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    dxp[b, i * sh + r, j * sw + s, k] += dout[b, i, j, k]
    return dxp[:, top:top + h, left:left + w, :]
