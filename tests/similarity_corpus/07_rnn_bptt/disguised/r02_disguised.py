# ruff: noqa
# Copied from r02: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def clip_by_global_norm(grads, clip_norm):
    if isinstance(clip_norm, bool) or not np.isscalar(clip_norm) or not clip_norm > 0:
        raise ValueError(f"Expected a positive clip_norm. Received clip_norm={clip_norm!r}.")
    kept = [t for t in grads if t is not None]
    total = float(np.sqrt(sum(float(np.vdot(t, t)) for t in kept)))
    mult = clip_norm / total if total > clip_norm else 1.0
    return [t if t is None else t * mult for t in grads], total


def rnn_backward(dh, cache):
    # walk the steps backwards, carrying the gradient of the state
    saved = cache
    per_step = [None] * len(saved)
    g_wx = np.zeros_like(saved[0]["wx"])
    g_wh = np.zeros_like(saved[0]["wh"])
    g_b = np.zeros(g_wh.shape[0])
    carry = np.zeros_like(dh[:, 0])
    for k in range(len(saved) - 1, -1, -1):
        gi, carry, a, bb, c = rnn_step_backward(dh[:, k] + carry, saved[k])
        per_step[k] = gi
        g_wx, g_wh, g_b = g_wx + a, g_wh + bb, g_b + c
    return np.stack(per_step, axis=1), carry, g_wx, g_wh, g_b


def rnn_step_forward(x, h_prev, wx, wh, b):
    act = np.dot(x, wx) + np.dot(h_prev, wh) + b
    out = np.tanh(act)
    return out, {"x": x, "h_prev": h_prev, "wx": wx, "wh": wh, "h": out}


def gradient_norms_by_distance(x, h0, wx, wh, b):
    hs, saved = rnn_forward(x, h0, wx, wh, b)
    seed = np.zeros_like(hs)
    seed[:, -1] = 1.0
    gx = rnn_backward(seed, saved)[0]
    steps = x.shape[1]
    return np.array([np.linalg.norm(gx[:, steps - 1 - k]) for k in range(steps)])


def rnn_step_backward(dh_next, cache):
    d = dh_next * (1.0 - np.square(cache["h"]))
    return (np.dot(d, cache["wx"].T),
            np.dot(d, cache["wh"].T),
            np.dot(cache["x"].T, d),
            np.dot(cache["h_prev"].T, d),
            np.sum(d, axis=0))


def rnn_forward(x, h0, wx, wh, b):
    """Unrolled over time."""
    if np.ndim(x) != 3:
        raise ValueError(f"Expected a 3-D x (N, T, D). Received x.shape={np.shape(x)}.")
    if np.shape(h0) != (x.shape[0], wh.shape[0]):
        raise ValueError(f"Expected h0 of shape (N, H). Received h0.shape={np.shape(h0)}.")
    hs, saved = [h0], []
    for k in range(x.shape[1]):
        nxt, c = rnn_step_forward(x[:, k], hs[-1], wx, wh, b)
        hs.append(nxt)
        saved.append(c)
    return np.stack(hs[1:], axis=1), saved
