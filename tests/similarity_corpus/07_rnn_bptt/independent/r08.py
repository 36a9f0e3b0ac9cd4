import numpy as np


def rnn_step_forward(x, h_prev, wx, wh, b):
    n, d = x.shape
    hsize = wh.shape[0]
    h_next = np.zeros((n, hsize))
    for i in range(n):
        for j in range(hsize):
            s = b[j]
            for k in range(d):
                s += x[i, k] * wx[k, j]
            for k in range(hsize):
                s += h_prev[i, k] * wh[k, j]
            h_next[i, j] = np.tanh(s)
    return h_next, (x, h_prev, wx, wh, h_next)


def rnn_step_backward(dh_next, cache):
    x, h_prev, wx, wh, h_next = cache
    g = dh_next * (1 - h_next ** 2)
    return g @ wx.T, g @ wh.T, x.T @ g, h_prev.T @ g, g.sum(axis=0)


def rnn_forward(x, h0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x of shape (N, T, D). Received x.shape={x.shape}.")
    if h0.shape != (x.shape[0], wh.shape[0]):
        raise ValueError(f"Expected h0 of shape (N, H). Received h0.shape={h0.shape}.")
    T = x.shape[1]
    h = np.zeros((x.shape[0], T, wh.shape[0]))
    steps = []
    for t in range(T):
        h[:, t], c = rnn_step_forward(x[:, t], h0 if t == 0 else h[:, t - 1], wx, wh, b)
        steps.append(c)
    return h, steps


def rnn_backward(dh, cache):
    grads = None
    dx_steps = {}
    dnext = np.zeros(dh[:, 0].shape)
    for t in range(dh.shape[1] - 1, -1, -1):
        dxt, dnext, dwx, dwh, db = rnn_step_backward(dh[:, t] + dnext, cache[t])
        dx_steps[t] = dxt
        if grads is None:
            grads = [dwx, dwh, db]
        else:
            grads[0] = grads[0] + dwx
            grads[1] = grads[1] + dwh
            grads[2] = grads[2] + db
    dx = np.stack([dx_steps[t] for t in range(dh.shape[1])], axis=1)
    return dx, dnext, grads[0], grads[1], grads[2]


def clip_by_global_norm(grads, clip_norm):
    if not (isinstance(clip_norm, (int, float)) and not isinstance(clip_norm, bool) and clip_norm > 0):
        raise ValueError(f"Expected clip_norm to be a positive number. Received clip_norm={clip_norm!r}.")
    squares = 0.0
    for g in filter(lambda item: item is not None, grads):
        squares += np.sum(g * g)
    norm = np.sqrt(squares)
    out = []
    for g in grads:
        out.append(None if g is None else (g * clip_norm / norm if norm > clip_norm else g))
    return out, float(norm)
