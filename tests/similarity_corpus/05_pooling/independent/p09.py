# ruff: noqa: F821 - pool_arguments is the stub's, defined in the notebook
import numpy as np


def conv_geometry(size, kernel_size, stride, padding):
    out_len = {"valid": (size - kernel_size) // stride + 1, "same": -(-size // stride)}[padding]
    if padding == "valid":
        return out_len, 0, 0
    total_pad = (out_len - 1) * stride + kernel_size - size
    total_pad = total_pad * (total_pad > 0)
    half = total_pad // 2
    return out_len, half, total_pad - half


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    (ph, pw), (sh, sw) = pool_arguments(x, pool_size, strides, padding)
    geometry = [conv_geometry(x.shape[axis], k, s, padding) for axis, k, s in ((1, ph, sh), (2, pw, sw))]
    (oh, pt, pb), (ow, pl, pr) = geometry
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=-np.inf)
    taps = [xp[:, u:u + sh * oh:sh, v:v + sw * ow:sw, :][:, :oh, :ow, :] for u in range(ph) for v in range(pw)]
    stacked = np.stack(taps, axis=0)
    winner = np.argmax(stacked, axis=0)
    return np.max(stacked, axis=0), (x.shape, winner, (ph, pw, sh, sw), (pt, pl), xp.shape)


def max_pool2d_backward(dout, cache):
    shape, winner, (ph, pw, sh, sw), (pt, pl), padded_shape = cache
    oh, ow = dout.shape[1], dout.shape[2]
    dxp = np.zeros(padded_shape)
    for tap in range(ph * pw):
        u, v = divmod(tap, pw)
        dxp[:, u:u + sh * oh:sh, v:v + sw * ow:sw, :][:, :oh, :ow, :] += np.where(winner == tap, dout, 0.0)
    return dxp[:, pt:pt + shape[1], pl:pl + shape[2], :]
