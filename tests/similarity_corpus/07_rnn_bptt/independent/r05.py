import numpy as np


class Step:
    """One time step's values, kept for the backward pass."""

    def __init__(self, x, h_prev, h_next, wx, wh):
        self.x, self.h_prev, self.h_next, self.wx, self.wh = x, h_prev, h_next, wx, wh


def rnn_step_forward(x, h_prev, wx, wh, b):
    h_next = np.tanh(x @ wx + h_prev @ wh + b)
    return h_next, Step(x, h_prev, h_next, wx, wh)


def rnn_step_backward(dh_next, cache):
    g = (1 - cache.h_next ** 2) * dh_next
    return g @ cache.wx.T, g @ cache.wh.T, cache.x.T @ g, cache.h_prev.T @ g, g.sum(axis=0)


def rnn_forward(x, h0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x with 3 dimensions (N, T, D). Received {x.ndim} dimensions.")
    if h0.shape != (x.shape[0], wh.shape[0]):
        raise ValueError(f"Expected h0.shape == {(x.shape[0], wh.shape[0])}. Received {h0.shape}.")
    h, steps = h0, []
    outputs = []
    for xt in np.moveaxis(x, 1, 0):
        h, step = rnn_step_forward(xt, h, wx, wh, b)
        steps.append(step)
        outputs.append(h)
    return np.moveaxis(np.array(outputs), 0, 1), steps


def rnn_backward(dh, cache):
    totals = None
    dxs = []
    dh_carry = np.zeros_like(dh[:, 0])
    for t, step in reversed(list(enumerate(cache))):
        dx_t, dh_carry, *param_grads = rnn_step_backward(dh[:, t] + dh_carry, step)
        dxs.append(dx_t)
        totals = param_grads if totals is None else [a + g for a, g in zip(totals, param_grads)]
    dwx, dwh, db = totals
    return np.stack(dxs[::-1], axis=1), dh_carry, dwx, dwh, db


def clip_by_global_norm(grads, clip_norm):
    if type(clip_norm) not in (int, float) or clip_norm <= 0:
        raise ValueError(f"Expected clip_norm > 0. Received clip_norm={clip_norm!r}.")
    norm = np.linalg.norm(np.concatenate([np.ravel(g) for g in grads if g is not None] or [np.zeros(0)]))
    if norm <= clip_norm:
        return [None if g is None else g.copy() for g in grads], float(norm)
    return [None if g is None else g * (clip_norm / norm) for g in grads], float(norm)
