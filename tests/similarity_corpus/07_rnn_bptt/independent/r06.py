import numpy as np


def rnn_step_forward(x, h_prev, wx, wh, b):
    stacked_in = np.hstack([x, h_prev])
    stacked_w = np.vstack([wx, wh])
    h_next = np.tanh(stacked_in @ stacked_w + b)
    return h_next, (stacked_in, stacked_w, h_next, x.shape[1])


def rnn_step_backward(dh_next, cache):
    stacked_in, stacked_w, h_next, d = cache
    delta = dh_next * (1.0 - h_next ** 2)
    d_in = delta @ stacked_w.T
    d_w = stacked_in.T @ delta
    return d_in[:, :d], d_in[:, d:], d_w[:d], d_w[d:], delta.sum(axis=0)


def rnn_forward(x, h0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x of shape (N, T, D). Received x.shape={x.shape}.")
    if h0.shape != (x.shape[0], wh.shape[1]):
        raise ValueError(f"Expected h0 of shape (N, H). Received h0.shape={h0.shape}.")
    history = []
    h = h0
    for t in range(x.shape[1]):
        h, c = rnn_step_forward(x[:, t, :], h, wx, wh, b)
        history.append((h, c))
    return np.stack([item[0] for item in history], axis=1), [item[1] for item in history]


def rnn_backward(dh, cache):
    n, steps, hidden = dh.shape
    d = cache[0][3]
    dx = np.zeros((n, steps, d))
    dwx, dwh, db = np.zeros((d, hidden)), np.zeros((hidden, hidden)), np.zeros(hidden)
    dprev = np.zeros((n, hidden))
    t = steps - 1
    while t >= 0:
        dx[:, t, :], dprev, gx, gh, gb = rnn_step_backward(dh[:, t, :] + dprev, cache[t])
        dwx += gx
        dwh += gh
        db += gb
        t -= 1
    return dx, dprev, dwx, dwh, db


def clip_by_global_norm(grads, clip_norm):
    try:
        ok = float(clip_norm) > 0 and not isinstance(clip_norm, (bool, str))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"Expected clip_norm to be a positive number. Received clip_norm={clip_norm!r}.")
    total_sq = 0.0
    for grad in grads:
        total_sq += 0.0 if grad is None else float((grad * grad).sum())
    global_norm = total_sq ** 0.5
    if global_norm > clip_norm:
        clipped = [None if grad is None else grad * clip_norm / global_norm for grad in grads]
    else:
        clipped = [None if grad is None else grad.copy() for grad in grads]
    return clipped, global_norm
