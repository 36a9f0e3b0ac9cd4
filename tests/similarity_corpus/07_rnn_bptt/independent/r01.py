import numpy as np


def rnn_step_forward(x, h_prev, wx, wh, b):
    h_next = np.tanh(x @ wx + h_prev @ wh + b)
    cache = (x, h_prev, wx, wh, h_next)
    return h_next, cache


def rnn_step_backward(dh_next, cache):
    x, h_prev, wx, wh, h_next = cache
    dz = dh_next * (1 - h_next ** 2)
    dx = dz @ wx.T
    dh_prev = dz @ wh.T
    dwx = x.T @ dz
    dwh = h_prev.T @ dz
    db = dz.sum(axis=0)
    return dx, dh_prev, dwx, dwh, db


def rnn_forward(x, h0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x of shape (N, T, D). Received x.shape={x.shape}.")
    N, T, D = x.shape
    H = wh.shape[0]
    if h0.shape != (N, H):
        raise ValueError(f"Expected h0 of shape {(N, H)}. Received h0.shape={h0.shape}.")
    h = np.zeros((N, T, H))
    caches = []
    prev = h0
    for t in range(T):
        prev, step_cache = rnn_step_forward(x[:, t, :], prev, wx, wh, b)
        h[:, t, :] = prev
        caches.append(step_cache)
    return h, caches


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dwx = np.zeros((D, H))
    dwh = np.zeros((H, H))
    db = np.zeros(H)
    carry = np.zeros((N, H))
    for t in reversed(range(T)):
        dxt, carry, dwxt, dwht, dbt = rnn_step_backward(dh[:, t, :] + carry, cache[t])
        dx[:, t, :] = dxt
        dwx += dwxt
        dwh += dwht
        db += dbt
    return dx, carry, dwx, dwh, db


def clip_by_global_norm(grads, clip_norm):
    if not isinstance(clip_norm, (int, float)) or clip_norm <= 0:
        raise ValueError(f"Expected clip_norm > 0. Received clip_norm={clip_norm!r}.")
    total = 0.0
    for g in grads:
        if g is not None:
            total += np.sum(g ** 2)
    global_norm = float(np.sqrt(total))
    scale = clip_norm / max(global_norm, clip_norm)
    clipped = [None if g is None else g * scale for g in grads]
    return clipped, global_norm
