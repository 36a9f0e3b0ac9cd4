import numpy as np


def rnn_step_forward(x, h_prev, wx, wh, b):
    return _cell(x, h_prev, wx, wh, b)


def _cell(x, h, wx, wh, b):
    new = np.tanh(x @ wx + h @ wh + b)
    return new, (x, h, new, wx, wh)


def rnn_step_backward(dh_next, cache):
    x, h, new, wx, wh = cache
    raw = dh_next - dh_next * new * new
    return raw @ wx.T, raw @ wh.T, x.T @ raw, h.T @ raw, raw.sum(0)


def rnn_forward(x, h0, wx, wh, b):
    if getattr(x, "ndim", 0) != 3:
        raise ValueError(f"Expected x of rank 3. Received shape {np.shape(x)}.")
    if np.shape(h0) != (x.shape[0], np.shape(wh)[0]):
        raise ValueError(f"Expected h0 of shape ({x.shape[0]}, {np.shape(wh)[0]}). Received {np.shape(h0)}.")
    seq, memo, h = [], [], h0
    for t in range(x.shape[1]):
        h, saved = _cell(x[:, t], h, wx, wh, b)
        seq.append(h)
        memo.append(saved)
    return np.transpose(np.array(seq), (1, 0, 2)), memo


def rnn_backward(dh, cache):
    dx = np.zeros((dh.shape[0], dh.shape[1], cache[0][3].shape[0]))
    dwx = np.zeros_like(cache[0][3])
    dwh = np.zeros_like(cache[0][4])
    db = np.zeros(dh.shape[2])
    flow = np.zeros((dh.shape[0], dh.shape[2]))
    for t in range(dh.shape[1])[::-1]:
        step = rnn_step_backward(flow + dh[:, t], cache[t])
        dx[:, t], flow = step[0], step[1]
        dwx, dwh, db = dwx + step[2], dwh + step[3], db + step[4]
    return dx, flow, dwx, dwh, db


def clip_by_global_norm(grads, clip_norm):
    if isinstance(clip_norm, bool) or not isinstance(clip_norm, (int, float)) or clip_norm <= 0:
        raise ValueError(f"Expected a positive number as clip_norm. Received clip_norm={clip_norm!r}.")
    norm = float(np.sqrt(np.sum([np.sum(g ** 2) for g in grads if g is not None])))
    return [None if g is None else g * clip_norm / max(norm, clip_norm) for g in grads], norm
