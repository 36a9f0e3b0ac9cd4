# ruff: noqa
# Copied from l09: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def lstm_step_backward(dout, cache):
    inp, h_old, c_old, k_in, k_rec, stacked, c_new = cache
    ig, fg, cand, og = stacked
    g_h, g_c = dout
    th = np.tanh(c_new)
    g_cell = g_c + g_h * og * (1.0 - np.square(th))
    parts = [g_cell * cand * ig * (1.0 - ig),
             g_cell * c_old * fg * (1.0 - fg),
             g_cell * ig * (1.0 - np.square(cand)),
             g_h * th * og * (1.0 - og)]
    g_pre = np.concatenate(parts, axis=1)
    return (np.matmul(g_pre, k_in.T), np.matmul(g_pre, k_rec.T), fg * g_cell,
            np.matmul(inp.T, g_pre), np.matmul(h_old.T, g_pre), g_pre.sum(0))


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    z = x @ wx + h_prev @ wh + b
    u = h_prev.shape[1]
    # one slice per gate
    sl = [slice(j * u, (j + 1) * u) for j in range(4)]
    ig, fg, og = (sigmoid(z[:, sl[j]]) for j in (0, 1, 3))
    cand = np.tanh(z[:, sl[2]])
    c_new = fg * c_prev + ig * cand
    h_new = og * np.tanh(c_new)
    return (h_new, c_new), (x, h_prev, c_prev, wx, wh, np.stack([ig, fg, cand, og]), c_new)


def lstm_forward(x, h0, c0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected a 3-D x. Received {x.ndim}-D.")
    if h0.shape != (x.shape[0], wh.shape[0]) or c0.shape != h0.shape or b.shape != (wx.shape[1],):
        raise ValueError(f"Expected h0, c0 (N, H) and b (4H,). Received {h0.shape}, {c0.shape}, {b.shape}.")
    states = []
    saved = []
    hh, cc = h0, c0
    k = 0
    debug = []
    while k < x.shape[1]:
        (hh, cc), s = lstm_step_forward(x[:, k], hh, cc, wx, wh, b)
        states.append(hh)
        saved.append(s)
        k += 1
    return (np.moveaxis(np.array(states), 0, 1), hh, cc), saved
