# ruff: noqa
# Copied from l01: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def lstm_backward(dout, cache):
    g_seq, g_last_h, g_last_c = dout
    bs, steps, units = g_seq.shape
    dim = cache[0][0].shape[1]
    g_x = np.zeros((bs, steps, dim))
    g_wx, g_wh, g_b = np.zeros((dim, 4 * units)), np.zeros((units, 4 * units)), np.zeros(4 * units)
    back_h, back_c = g_last_h.copy(), g_last_c.copy()
    for k in reversed(range(steps)):
        g_x[:, k], back_h, back_c, a, bb, c = lstm_step_backward((g_seq[:, k] + back_h, back_c), cache[k])
        g_wx += a
        g_wh += bb
        g_b += c
    return g_x, back_h, back_c, g_wx, g_wh, g_b


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    units = h_prev.shape[1]
    # all four gates in one product
    pre = x @ wx + h_prev @ wh + b
    ig = sigmoid(pre[:, :units])
    fg = sigmoid(pre[:, units:2 * units])
    cand = np.tanh(pre[:, 2 * units:3 * units])
    og = sigmoid(pre[:, 3 * units:])
    c_new = fg * c_prev + ig * cand
    h_new = og * np.tanh(c_new)
    saved = (x, h_prev, c_prev, wx, wh, ig, fg, cand, og, c_new)
    return (h_new, c_new), saved


def lstm_forward(x, h0, c0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x of shape (N, T, D). Received x.shape={x.shape}.")
    bs, steps, dim = x.shape
    units = h0.shape[1]
    if h0.shape != (bs, units) or c0.shape != (bs, units) or wx.shape != (dim, 4 * units) or wh.shape != (units, 4 * units):
        raise ValueError("Expected h0, c0 (N, H), wx (D, 4H), wh (H, 4H). Received shapes that do not fit.")
    hs = np.zeros((bs, steps, units))
    saved = []
    state = (h0, c0)
    for k in range(steps):
        state, s = lstm_step_forward(x[:, k], state[0], state[1], wx, wh, b)
        hs[:, k] = state[0]
        saved.append(s)
    return (hs, state[0], state[1]), saved


def lstm_step_backward(dout, cache):
    g_h, g_c = dout
    x, h_prev, c_prev, wx, wh, ig, fg, cand, og, c_new = cache
    th = np.tanh(c_new)
    g_o = g_h * th
    g_cell = g_c + g_h * og * (1 - th ** 2)
    g_i = g_cell * cand
    g_f = g_cell * c_prev
    g_g = g_cell * ig
    g_c_prev = g_cell * fg
    unused = g_c_prev.sum()
    g_pre = np.hstack([g_i * ig * (1 - ig), g_f * fg * (1 - fg), g_g * (1 - cand ** 2), g_o * og * (1 - og)])
    return g_pre @ wx.T, g_pre @ wh.T, g_c_prev, x.T @ g_pre, h_prev.T @ g_pre, g_pre.sum(axis=0)
