# ruff: noqa: F821 - sigmoid is the stub's, defined in the notebook
import numpy as np


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    hs = h_prev.shape[1]
    preact = np.add(np.add(np.matmul(x, wx), np.matmul(h_prev, wh)), b)
    sig = sigmoid(preact)
    i, f, o = sig[:, :hs], sig[:, hs:2 * hs], sig[:, 3 * hs:]
    g = np.tanh(preact[:, 2 * hs:3 * hs])
    c_next = np.add(np.multiply(f, c_prev), np.multiply(i, g))
    h_next = np.multiply(o, np.tanh(c_next))
    cache = {"inputs": (x, h_prev, c_prev), "weights": (wx, wh), "gates": (i, f, g, o), "c_next": c_next}
    return (h_next, c_next), cache


def lstm_step_backward(dout, cache):
    dh_next, dc_next = dout
    x, h_prev, c_prev = cache["inputs"]
    wx, wh = cache["weights"]
    i, f, g, o = cache["gates"]
    th = np.tanh(cache["c_next"])
    d_c = np.add(dc_next, np.multiply(np.multiply(dh_next, o), np.subtract(1, np.square(th))))
    d_i = np.multiply(np.multiply(d_c, g), np.multiply(i, np.subtract(1, i)))
    d_f = np.multiply(np.multiply(d_c, c_prev), np.multiply(f, np.subtract(1, f)))
    d_g = np.multiply(np.multiply(d_c, i), np.subtract(1, np.square(g)))
    d_o = np.multiply(np.multiply(dh_next, th), np.multiply(o, np.subtract(1, o)))
    d_pre = np.hstack([d_i, d_f, d_g, d_o])
    return (np.matmul(d_pre, wx.T), np.matmul(d_pre, wh.T), np.multiply(d_c, f), np.matmul(x.T, d_pre),
            np.matmul(h_prev.T, d_pre), np.sum(d_pre, axis=0))


def lstm_forward(x, h0, c0, wx, wh, b):
    if np.ndim(x) != 3:
        raise ValueError(f"Expected x (N, T, D). Received x.shape={np.shape(x)}.")
    if np.shape(h0) != np.shape(c0) or np.shape(h0) != (np.shape(x)[0], np.shape(wh)[0]):
        raise ValueError(f"Expected h0, c0 (N, H). Received {np.shape(h0)}, {np.shape(c0)}.")
    steps = np.shape(x)[1]
    h_list, c_list, cache_list = [h0], [c0], []
    for t in range(steps):
        (hn, cn), ca = lstm_step_forward(x[:, t, :], h_list[-1], c_list[-1], wx, wh, b)
        h_list.append(hn)
        c_list.append(cn)
        cache_list.append(ca)
    return (np.stack(h_list[1:], axis=1), h_list[-1], c_list[-1]), cache_list


def lstm_backward(dout, cache):
    dh, dh_T, dc_T = dout
    steps = dh.shape[1]
    dh_carry, dc_carry = dh_T, dc_T
    dx_list = []
    dwx = np.zeros_like(cache[0]["weights"][0])
    dwh = np.zeros_like(cache[0]["weights"][1])
    db = np.zeros(dwx.shape[1])
    for t in range(steps)[::-1]:
        gx, dh_carry, dc_carry, gwx, gwh, gb = lstm_step_backward((np.add(dh[:, t, :], dh_carry), dc_carry), cache[t])
        dx_list.append(gx)
        dwx, dwh, db = np.add(dwx, gwx), np.add(dwh, gwh), np.add(db, gb)
    return np.stack(dx_list[::-1], axis=1), dh_carry, dc_carry, dwx, dwh, db
