# ruff: noqa: F821 - sigmoid is the stub's, defined in the notebook
import numpy as np


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    n_units = wh.shape[0]
    pre = x @ wx + h_prev @ wh + b
    act = np.empty_like(pre)
    act[:, :2 * n_units] = sigmoid(pre[:, :2 * n_units])
    act[:, 2 * n_units:3 * n_units] = np.tanh(pre[:, 2 * n_units:3 * n_units])
    act[:, 3 * n_units:] = sigmoid(pre[:, 3 * n_units:])
    ig, fg, cand, og = (act[:, k * n_units:(k + 1) * n_units] for k in range(4))
    c_next = fg * c_prev + ig * cand
    h_next = og * np.tanh(c_next)
    return (h_next, c_next), (x, h_prev, c_prev, wx, wh, act, c_next)


def lstm_step_backward(dout, cache):
    dh_next, dc_next = dout
    x, h_prev, c_prev, wx, wh, act, c_next = cache
    n_units = wh.shape[0]
    ig, fg, cand, og = (act[:, k * n_units:(k + 1) * n_units] for k in range(4))
    tanh_c = np.tanh(c_next)
    dcell = dc_next + dh_next * og * (1 - tanh_c ** 2)
    dact = np.empty_like(act)
    dact[:, :n_units] = dcell * cand
    dact[:, n_units:2 * n_units] = dcell * c_prev
    dact[:, 2 * n_units:3 * n_units] = dcell * ig
    dact[:, 3 * n_units:] = dh_next * tanh_c
    derivative = np.concatenate([act[:, :2 * n_units] * (1 - act[:, :2 * n_units]),
                                 1 - act[:, 2 * n_units:3 * n_units] ** 2,
                                 act[:, 3 * n_units:] * (1 - act[:, 3 * n_units:])], axis=1)
    dpre = dact * derivative
    return dpre @ wx.T, dpre @ wh.T, dcell * fg, x.T @ dpre, h_prev.T @ dpre, dpre.sum(0)


def lstm_forward(x, h0, c0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x to be 3-D (N, T, D). Received x.ndim={x.ndim}.")
    if h0.shape != c0.shape or h0.shape != (x.shape[0], wh.shape[0]) or wx.shape[0] != x.shape[2]:
        raise ValueError(f"Expected h0, c0 of shape {(x.shape[0], wh.shape[0])} and wx with {x.shape[2]} rows. "
                         f"Received {h0.shape}, {c0.shape}, {wx.shape}.")
    h_seq = np.empty((x.shape[0], x.shape[1], wh.shape[0]))
    store, h, c = [], h0, c0
    for t in range(x.shape[1]):
        (h, c), entry = lstm_step_forward(x[:, t], h, c, wx, wh, b)
        h_seq[:, t] = h
        store.append(entry)
    return (h_seq, h, c), store
