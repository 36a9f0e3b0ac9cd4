# ruff: noqa: F821 - sigmoid is the stub's, defined in the notebook
import numpy as np


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    gates = x @ wx + h_prev @ wh + b
    h = h_prev.shape[1]
    slices = [slice(k * h, (k + 1) * h) for k in range(4)]
    i, f, o = (sigmoid(gates[:, slices[k]]) for k in (0, 1, 3))
    g = np.tanh(gates[:, slices[2]])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return (h_next, c_next), (x, h_prev, c_prev, wx, wh, np.stack([i, f, g, o]), c_next)


def lstm_forward(x, h0, c0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected a 3-D x. Received {x.ndim}-D.")
    if h0.shape != (x.shape[0], wh.shape[0]) or c0.shape != h0.shape or b.shape != (wx.shape[1],):
        raise ValueError(f"Expected h0, c0 (N, H) and b (4H,). Received {h0.shape}, {c0.shape}, {b.shape}.")
    hidden_states = []
    caches = []
    h, c = h0, c0
    t = 0
    while t < x.shape[1]:
        (h, c), cache = lstm_step_forward(x[:, t], h, c, wx, wh, b)
        hidden_states.append(h)
        caches.append(cache)
        t += 1
    return (np.moveaxis(np.array(hidden_states), 0, 1), h, c), caches


def lstm_step_backward(dout, cache):
    x, h_prev, c_prev, wx, wh, acts, c_next = cache
    i, f, g, o = acts
    dh_next, dc_next = dout
    squashed = np.tanh(c_next)
    dc = dc_next + dh_next * o * (1.0 - np.square(squashed))
    grads = [dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f), dc * i * (1.0 - np.square(g)),
             dh_next * squashed * o * (1.0 - o)]
    da = np.concatenate(grads, axis=1)
    return np.matmul(da, wx.T), np.matmul(da, wh.T), f * dc, np.matmul(x.T, da), np.matmul(h_prev.T, da), da.sum(0)
