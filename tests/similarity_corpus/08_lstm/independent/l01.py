# ruff: noqa: F821 - sigmoid is the stub's, defined in the notebook
import numpy as np


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    H = h_prev.shape[1]
    a = x @ wx + h_prev @ wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    cache = (x, h_prev, c_prev, wx, wh, i, f, g, o, c_next)
    return (h_next, c_next), cache


def lstm_step_backward(dout, cache):
    dh_next, dc_next = dout
    x, h_prev, c_prev, wx, wh, i, f, g, o, c_next = cache
    tc = np.tanh(c_next)
    do = dh_next * tc
    dc = dc_next + dh_next * o * (1 - tc ** 2)
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)])
    dx = da @ wx.T
    dh_prev = da @ wh.T
    dwx = x.T @ da
    dwh = h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dwx, dwh, db


def lstm_forward(x, h0, c0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x of shape (N, T, D). Received x.shape={x.shape}.")
    N, T, D = x.shape
    H = h0.shape[1]
    if h0.shape != (N, H) or c0.shape != (N, H) or wx.shape != (D, 4 * H) or wh.shape != (H, 4 * H):
        raise ValueError("Expected h0, c0 (N, H), wx (D, 4H), wh (H, 4H). Received shapes that do not fit.")
    h = np.zeros((N, T, H))
    caches = []
    hc = (h0, c0)
    for t in range(T):
        hc, step = lstm_step_forward(x[:, t], hc[0], hc[1], wx, wh, b)
        h[:, t] = hc[0]
        caches.append(step)
    return (h, hc[0], hc[1]), caches


def lstm_backward(dout, cache):
    dh, dh_T, dc_T = dout
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dwx, dwh, db = np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
    dh_carry, dc_carry = dh_T.copy(), dc_T.copy()
    for t in reversed(range(T)):
        dx[:, t], dh_carry, dc_carry, gx, gh, gb = lstm_step_backward((dh[:, t] + dh_carry, dc_carry), cache[t])
        dwx += gx
        dwh += gh
        db += gb
    return dx, dh_carry, dc_carry, dwx, dwh, db
