# ruff: noqa
# copies max_pool2d_backward from p02 (renamed, reformatted, a comment and a dead statement); the rest is p11's own.
import numpy as np


def conv_geometry(size, kernel_size, stride, padding):
    if padding == "valid":
        return 1 + (size - kernel_size) // stride, 0, 0
    count = (size - 1) // stride + 1
    spill = max(kernel_size + stride * (count - 1) - size, 0)
    return count, spill // 2, spill - spill // 2


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    (ph, pw), (sh, sw) = pool_arguments(x, pool_size, strides, padding)
    n, h, w, c = x.shape
    oh, top, bottom = conv_geometry(h, ph, sh, padding)
    ow, left, right = conv_geometry(w, pw, sw, padding)
    padded = np.pad(x.astype(float), ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=-np.inf)
    out = np.empty((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            out[:, i, j, :] = padded[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :].max(axis=(1, 2))
    return out, {"x": x, "padded": padded, "pool": (ph, pw), "stride": (sh, sw), "pads": (top, left)}


def max_pool2d_backward(dout, cache):
    big, (kh, kw), (st_r, st_c) = cache["padded"], cache["pool"], cache["stride"]
    t, l = cache["pads"]
    inp = cache["x"]
    nr, nc = dout.shape[1], dout.shape[2]
    g = np.zeros(big.shape)
    # the window maxima, tap by tap
    m = np.full(dout.shape, -np.inf)
    for u in range(kh):
        for v in range(kw):
            m = np.maximum(m, big[:, u:u + st_r * nr:st_r, v:v + st_c * nc:st_c, :][:, :nr, :nc])
    taken = np.zeros(dout.shape, dtype=bool)
    for u in range(kh):
        for v in range(kw):
            win = big[:, u:u + st_r * nr:st_r, v:v + st_c * nc:st_c, :][:, :nr, :nc]
            hit = (win == m) & ~taken
            g[:, u:u + st_r * nr:st_r, v:v + st_c * nc:st_c, :][:, :nr, :nc] += hit * dout
            taken = taken | hit
    unused = taken.sum()
    return g[:, t:t + inp.shape[1], l:l + inp.shape[2], :]
