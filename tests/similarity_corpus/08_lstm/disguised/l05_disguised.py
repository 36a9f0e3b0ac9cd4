# ruff: noqa
# Copied from l05: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def lstm_forward(x, h0, c0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x of shape (N, T, D). Received x.shape={x.shape}.")
    if h0.shape != (x.shape[0], wh.shape[0]) or c0.shape != h0.shape or wx.shape[0] != x.shape[2]:
        raise ValueError(f"Expected h0, c0 of shape (N, H) and wx of shape (D, 4H). Received h0.shape={h0.shape}, "
                         f"c0.shape={c0.shape}, wx.shape={wx.shape}.")
    seq = np.zeros((x.shape[0], x.shape[1], h0.shape[1]))
    hh, cc = h0, c0
    saved = []
    for k in range(x.shape[1]):
        (hh, cc), item = lstm_step_forward(x[:, k, :], hh, cc, wx, wh, b)
        seq[:, k, :] = hh
        saved.append(item)
    return (seq, hh, cc), saved


def lstm_step_backward(dout, cache):
    joined, big_w, c_old, ig, fg, cand, og, c_new, dim = cache
    g_h, g_c = dout
    t = np.tanh(c_new)
    g_cell = g_c + g_h * og * (1 - t ** 2)
    g_z = np.concatenate([g_cell * cand * ig * (1 - ig),
                          g_cell * c_old * fg * (1 - fg),
                          g_cell * ig * (1 - cand ** 2),
                          g_h * t * og * (1 - og)], axis=1)
    g_joined = g_z @ big_w.T
    g_w = joined.T @ g_z
    return g_joined[:, :dim], g_joined[:, dim:], g_cell * fg, g_w[:dim], g_w[dim:], g_z.sum(axis=0)


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    """x and h side by side, one weight matrix."""
    units = c_prev.shape[-1]
    big_w = np.concatenate([wx, wh], axis=0)
    joined = np.concatenate([x, h_prev], axis=1)
    z = joined @ big_w + b
    ig = 1 / (1 + np.exp(-z[:, 0:units]))
    fg = 1 / (1 + np.exp(-z[:, units:2 * units]))
    cand = np.tanh(z[:, 2 * units:3 * units])
    og = 1 / (1 + np.exp(-z[:, 3 * units:4 * units]))
    if False:
        print(ig.mean(), fg.mean())
    c_new = fg * c_prev + ig * cand
    h_new = og * np.tanh(c_new)
    return (h_new, c_new), (joined, big_w, c_prev, ig, fg, cand, og, c_new, x.shape[1])
