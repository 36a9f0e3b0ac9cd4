# ruff: noqa: F821 - sigmoid is the stub's, defined in the notebook
import numpy as np


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    n, hidden = h_prev.shape
    pre = np.zeros((n, 4 * hidden))
    pre += x.dot(wx)
    pre += h_prev.dot(wh)
    pre += b
    i_t = sigmoid(pre[:, :hidden])
    f_t = sigmoid(pre[:, hidden:hidden * 2])
    g_t = np.tanh(pre[:, hidden * 2:hidden * 3])
    o_t = sigmoid(pre[:, hidden * 3:])
    c_t = f_t * c_prev + i_t * g_t
    h_t = o_t * np.tanh(c_t)
    return (h_t, c_t), [x, h_prev, c_prev, wx, wh, i_t, f_t, g_t, o_t, c_t]


def lstm_step_backward(dout, cache):
    x, h_prev, c_prev, wx, wh, i_t, f_t, g_t, o_t, c_t = cache
    dh, dc = dout
    dc = dc + dh * o_t * (1 - np.tanh(c_t) ** 2)
    dpre = np.zeros((x.shape[0], 4 * h_prev.shape[1]))
    hidden = h_prev.shape[1]
    dpre[:, :hidden] = dc * g_t * i_t * (1 - i_t)
    dpre[:, hidden:hidden * 2] = dc * c_prev * f_t * (1 - f_t)
    dpre[:, hidden * 2:hidden * 3] = dc * i_t * (1 - g_t ** 2)
    dpre[:, hidden * 3:] = dh * np.tanh(c_t) * o_t * (1 - o_t)
    return (dpre.dot(wx.T), dpre.dot(wh.T), dc * f_t, x.T.dot(dpre), h_prev.T.dot(dpre), dpre.sum(axis=0))


def lstm_forward(x, h0, c0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError("Expected x of shape (N, T, D). Received x.shape={}.".format(x.shape))
    n, steps, dim = x.shape
    hidden = h0.shape[1] if h0.ndim == 2 else -1
    if h0.shape != (n, hidden) or c0.shape != (n, hidden) or wx.shape != (dim, 4 * hidden):
        raise ValueError("Expected h0, c0 of shape (N, H) and wx of shape (D, 4H). Received {}, {}, {}.".format(
            h0.shape, c0.shape, wx.shape))
    hs = np.zeros((n, steps + 1, hidden))
    cs = np.zeros((n, steps + 1, hidden))
    hs[:, 0], cs[:, 0] = h0, c0
    memory = []
    for t in range(steps):
        (hs[:, t + 1], cs[:, t + 1]), step_cache = lstm_step_forward(x[:, t], hs[:, t], cs[:, t], wx, wh, b)
        memory.append(step_cache)
    return (hs[:, 1:], hs[:, -1], cs[:, -1]), memory


def lstm_backward(dout, cache):
    dh, dh_T, dc_T = dout
    n, steps, hidden = dh.shape
    dim = cache[0][0].shape[1]
    dx = np.zeros((n, steps, dim))
    dwx = np.zeros((dim, 4 * hidden))
    dwh = np.zeros((hidden, 4 * hidden))
    db = np.zeros(4 * hidden)
    dh_prev, dc_prev = dh_T, dc_T
    for t in range(steps - 1, -1, -1):
        results = lstm_step_backward((dh_prev + dh[:, t], dc_prev), cache[t])
        dx[:, t] = results[0]
        dh_prev, dc_prev = results[1], results[2]
        dwx += results[3]
        dwh += results[4]
        db += results[5]
    return dx, dh_prev, dc_prev, dwx, dwh, db
