import numpy as np


def rnn_step_forward(x, h_prev, wx, wh, b):
    pre = np.dot(x, wx) + np.dot(h_prev, wh) + b
    h_next = np.tanh(pre)
    return h_next, {"x": x, "h_prev": h_prev, "wx": wx, "wh": wh, "h": h_next}


def rnn_step_backward(dh_next, cache):
    da = dh_next * (1.0 - np.square(cache["h"]))
    return (np.dot(da, cache["wx"].T), np.dot(da, cache["wh"].T), np.dot(cache["x"].T, da),
            np.dot(cache["h_prev"].T, da), np.sum(da, axis=0))


def rnn_forward(x, h0, wx, wh, b):
    if np.ndim(x) != 3:
        raise ValueError(f"Expected a 3-D x (N, T, D). Received x.shape={np.shape(x)}.")
    if np.shape(h0) != (x.shape[0], wh.shape[0]):
        raise ValueError(f"Expected h0 of shape (N, H). Received h0.shape={np.shape(h0)}.")
    states, steps = [h0], []
    for t in range(x.shape[1]):
        h, c = rnn_step_forward(x[:, t], states[-1], wx, wh, b)
        states.append(h)
        steps.append(c)
    return np.stack(states[1:], axis=1), steps


def rnn_backward(dh, cache):
    steps = cache
    grads_x = [None] * len(steps)
    dwx = np.zeros_like(steps[0]["wx"])
    dwh = np.zeros_like(steps[0]["wh"])
    db = np.zeros(dwh.shape[0])
    dnext = np.zeros_like(dh[:, 0])
    for t in range(len(steps) - 1, -1, -1):
        gx, dnext, gwx, gwh, gb = rnn_step_backward(dh[:, t] + dnext, steps[t])
        grads_x[t] = gx
        dwx, dwh, db = dwx + gwx, dwh + gwh, db + gb
    return np.stack(grads_x, axis=1), dnext, dwx, dwh, db


def gradient_norms_by_distance(x, h0, wx, wh, b):
    h, cache = rnn_forward(x, h0, wx, wh, b)
    upstream = np.zeros_like(h)
    upstream[:, -1] = 1.0
    dx = rnn_backward(upstream, cache)[0]
    return np.array([np.linalg.norm(dx[:, x.shape[1] - 1 - k]) for k in range(x.shape[1])])


def clip_by_global_norm(grads, clip_norm):
    if isinstance(clip_norm, bool) or not np.isscalar(clip_norm) or not clip_norm > 0:
        raise ValueError(f"Expected a positive clip_norm. Received clip_norm={clip_norm!r}.")
    present = [g for g in grads if g is not None]
    norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in present)))
    factor = clip_norm / norm if norm > clip_norm else 1.0
    return [g if g is None else g * factor for g in grads], norm
