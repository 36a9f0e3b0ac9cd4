import numpy as np


def rnn_step_forward(x, h_prev, wx, wh, b):
    z = x.dot(wx) + h_prev.dot(wh) + b
    h_next = np.tanh(z)
    return h_next, (x, h_prev, wx, wh, z)


def rnn_step_backward(dh_next, cache):
    x, h_prev, wx, wh, z = cache
    dz = dh_next / np.cosh(z) ** 2
    return dz.dot(wx.T), dz.dot(wh.T), x.T.dot(dz), h_prev.T.dot(dz), dz.sum(0)


def rnn_forward(x, h0, wx, wh, b):
    if len(x.shape) != 3:
        raise ValueError(f"Expected x to be 3-D. Received shape {x.shape}.")
    n, steps, _ = x.shape
    if h0.shape != (n, wh.shape[1]):
        raise ValueError(f"Expected h0 of shape ({n}, {wh.shape[1]}). Received {h0.shape}.")
    hidden = np.empty((n, steps, wh.shape[1]))
    zs = np.empty_like(hidden)
    h = h0
    for t in range(steps):
        zs[:, t] = x[:, t].dot(wx) + h.dot(wh) + b
        h = np.tanh(zs[:, t])
        hidden[:, t] = h
    return hidden, (x, h0, wx, wh, zs, hidden)


def rnn_backward(dh, cache):
    x, h0, wx, wh, zs, hidden = cache
    n, steps, _ = x.shape
    dx = np.zeros_like(x, dtype=float)
    dwx, dwh = np.zeros_like(wx, dtype=float), np.zeros_like(wh, dtype=float)
    db = np.zeros(wh.shape[1])
    running = np.zeros_like(h0, dtype=float)
    for t in range(steps - 1, -1, -1):
        dz = (dh[:, t] + running) * (1 - hidden[:, t] ** 2)
        before = hidden[:, t - 1] if t > 0 else h0
        dx[:, t] = dz.dot(wx.T)
        dwx += x[:, t].T.dot(dz)
        dwh += before.T.dot(dz)
        db += dz.sum(0)
        running = dz.dot(wh.T)
    return dx, running, dwx, dwh, db


def clip_by_global_norm(grads, clip_norm):
    if not isinstance(clip_norm, (int, float, np.number)) or isinstance(clip_norm, bool) or clip_norm <= 0:
        raise ValueError(f"Expected clip_norm to be a positive number. Received {clip_norm!r}.")
    squares = [np.square(g).sum() for g in grads if g is not None]
    gnorm = float(np.sqrt(np.sum(squares))) if squares else 0.0
    ratio = clip_norm / max(gnorm, clip_norm)
    return [g * ratio if g is not None else None for g in grads], gnorm
