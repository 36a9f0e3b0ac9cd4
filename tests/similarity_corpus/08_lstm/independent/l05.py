import numpy as np


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    H = c_prev.shape[-1]
    W = np.concatenate([wx, wh], axis=0)
    xh = np.concatenate([x, h_prev], axis=1)
    z = xh @ W + b
    gate_in = 1 / (1 + np.exp(-z[:, 0:H]))
    gate_forget = 1 / (1 + np.exp(-z[:, H:2 * H]))
    candidate = np.tanh(z[:, 2 * H:3 * H])
    gate_out = 1 / (1 + np.exp(-z[:, 3 * H:4 * H]))
    c_next = gate_forget * c_prev + gate_in * candidate
    h_next = gate_out * np.tanh(c_next)
    return (h_next, c_next), (xh, W, c_prev, gate_in, gate_forget, candidate, gate_out, c_next, x.shape[1])


def lstm_step_backward(dout, cache):
    xh, W, c_prev, gate_in, gate_forget, candidate, gate_out, c_next, d = cache
    dh_next, dc_next = dout
    tc = np.tanh(c_next)
    dc = dc_next + dh_next * gate_out * (1 - tc ** 2)
    dz = np.concatenate([dc * candidate * gate_in * (1 - gate_in), dc * c_prev * gate_forget * (1 - gate_forget),
                         dc * gate_in * (1 - candidate ** 2), dh_next * tc * gate_out * (1 - gate_out)], axis=1)
    dxh = dz @ W.T
    dW = xh.T @ dz
    return dxh[:, :d], dxh[:, d:], dc * gate_forget, dW[:d], dW[d:], dz.sum(axis=0)


def lstm_forward(x, h0, c0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x of shape (N, T, D). Received x.shape={x.shape}.")
    if h0.shape != (x.shape[0], wh.shape[0]) or c0.shape != h0.shape or wx.shape[0] != x.shape[2]:
        raise ValueError(f"Expected h0, c0 of shape (N, H) and wx of shape (D, 4H). Received h0.shape={h0.shape}, "
                         f"c0.shape={c0.shape}, wx.shape={wx.shape}.")
    h_all = np.zeros((x.shape[0], x.shape[1], h0.shape[1]))
    h, c = h0, c0
    records = []
    for t in range(x.shape[1]):
        (h, c), rec = lstm_step_forward(x[:, t, :], h, c, wx, wh, b)
        h_all[:, t, :] = h
        records.append(rec)
    return (h_all, h, c), records
