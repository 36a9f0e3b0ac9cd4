import numpy as np


def rnn_step_forward(x, h_prev, wx, wh, b):
    activation = x @ wx
    activation += h_prev @ wh
    activation += b
    h_next = np.tanh(activation)
    return h_next, [x, h_prev, wx, wh, h_next]


def rnn_step_backward(dh_next, cache):
    x, h_prev, wx, wh, h_next = cache
    dtanh = (1 - h_next) * (1 + h_next) * dh_next
    dwx = x.T @ dtanh
    dwh = h_prev.T @ dtanh
    db = np.sum(dtanh, 0)
    return dtanh @ wx.T, dtanh @ wh.T, dwx, dwh, db


def rnn_forward(x, h0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected a 3-D x. Received x.ndim={x.ndim}.")
    batch, time, _ = x.shape
    hidden = wh.shape[0]
    if h0.shape != (batch, hidden):
        raise ValueError(f"Expected h0.shape=({batch}, {hidden}). Received {h0.shape}.")
    h = np.zeros((batch, time + 1, hidden))
    h[:, 0] = h0
    for step in range(time):
        h[:, step + 1] = np.tanh(x[:, step] @ wx + h[:, step] @ wh + b)
    return h[:, 1:], (x, h, wx, wh)


def rnn_backward(dh, cache):
    x, h, wx, wh = cache
    batch, time, _ = x.shape
    grads = {"x": np.zeros(x.shape), "wx": np.zeros(wx.shape), "wh": np.zeros(wh.shape), "b": np.zeros(wh.shape[0])}
    back = np.zeros(h[:, 0].shape)
    for step in reversed(range(time)):
        step_cache = [x[:, step], h[:, step], wx, wh, h[:, step + 1]]
        grads["x"][:, step], back, dwx, dwh, db = rnn_step_backward(dh[:, step] + back, step_cache)
        grads["wx"] += dwx
        grads["wh"] += dwh
        grads["b"] += db
    return grads["x"], back, grads["wx"], grads["wh"], grads["b"]


def gradient_norms_by_distance(x, h0, wx, wh, b):
    h, cache = rnn_forward(x, h0, wx, wh, b)
    dh = np.zeros(h.shape)
    dh[:, -1] = np.ones(h.shape[2])
    dx = rnn_backward(dh, cache)[0]
    norms = []
    for k in range(x.shape[1]):
        norms.append(np.sqrt(np.sum(dx[:, -1 - k] ** 2)))
    return np.array(norms)


def clip_by_global_norm(grads, clip_norm):
    if isinstance(clip_norm, bool) or not isinstance(clip_norm, (int, float, np.floating, np.integer)):
        raise ValueError(f"Expected clip_norm to be a number. Received {type(clip_norm).__name__}.")
    if clip_norm <= 0:
        raise ValueError(f"Expected clip_norm > 0. Received clip_norm={clip_norm}.")
    global_norm = float(np.sqrt(sum([np.sum(np.square(g)) for g in grads if g is not None])))
    multiplier = min(1.0, clip_norm / global_norm) if global_norm > 0 else 1.0
    return [g if g is None else multiplier * g for g in grads], global_norm
