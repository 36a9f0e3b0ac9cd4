# ruff: noqa
# Copied from r08: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def rnn_backward(dh, cache):
    totals = None
    per_t = {}
    back = np.zeros(dh[:, 0].shape)
    for k in range(dh.shape[1] - 1, -1, -1):
        gx, back, a, bb, c = rnn_step_backward(dh[:, k] + back, cache[k])
        per_t[k] = gx
        if totals is None:
            totals = [a, bb, c]
        else:
            totals[0] = totals[0] + a
            totals[1] = totals[1] + bb
            totals[2] = totals[2] + c
    gx_all = np.stack([per_t[k] for k in range(dh.shape[1])], axis=1)
    return gx_all, back, totals[0], totals[1], totals[2]


def clip_by_global_norm(grads, clip_norm):
    if not (isinstance(clip_norm, (int, float)) and not isinstance(clip_norm, bool) and clip_norm > 0):
        raise ValueError(f"Expected clip_norm to be a positive number. Received clip_norm={clip_norm!r}.")
    acc = 0.0
    for t in filter(lambda v: v is not None, grads):
        acc += np.sum(t * t)
    nrm = np.sqrt(acc)
    res = []
    for t in grads:
        res.append(None if t is None else (t * clip_norm / nrm if nrm > clip_norm else t))
    return res, float(nrm)


def rnn_forward(x, h0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x of shape (N, T, D). Received x.shape={x.shape}.")
    if h0.shape != (x.shape[0], wh.shape[0]):
        raise ValueError(f"Expected h0 of shape (N, H). Received h0.shape={h0.shape}.")
    steps = x.shape[1]
    hs = np.zeros((x.shape[0], steps, wh.shape[0]))
    saved = []
    for k in range(steps):
        hs[:, k], c = rnn_step_forward(x[:, k], h0 if k == 0 else hs[:, k - 1], wx, wh, b)
        saved.append(c)
    return hs, saved


def rnn_step_forward(x, h_prev, wx, wh, b):
    # explicit loops, as in the lecture
    rows, cols = x.shape
    units = wh.shape[0]
    res = np.zeros((rows, units))
    for r in range(rows):
        for u in range(units):
            total = b[u]
            for q in range(cols):
                total += x[r, q] * wx[q, u]
            for q in range(units):
                total += h_prev[r, q] * wh[q, u]
            res[r, u] = np.tanh(total)
    return res, (x, h_prev, wx, wh, res)


def rnn_step_backward(dh_next, cache):
    x, h_prev, wx, wh, nxt = cache
    d = dh_next * (1 - nxt ** 2)
    if False:
        print(d.shape)
    return d @ wx.T, d @ wh.T, x.T @ d, h_prev.T @ d, d.sum(axis=0)
