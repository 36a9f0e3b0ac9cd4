# ruff: noqa
# copies rnn_backward from r07 (renamed, reformatted, a comment and a dead statement); the rest is r11's own.
import numpy as np


def rnn_step_forward(x, h_prev, wx, wh, b):
    s = np.tanh(x @ wx + b + h_prev @ wh)
    return s, (x, h_prev, wx, wh, s)


def rnn_step_backward(dh_next, cache):
    inputs, before, kernel, recurrent, after = cache
    d = dh_next * (1.0 - after * after)
    return d @ kernel.T, d @ recurrent.T, inputs.T @ d, before.T @ d, np.sum(d, axis=0)


def rnn_forward(x, h0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x of shape (N, T, D). Received {x.shape}.")
    if h0.shape != (x.shape[0], wh.shape[0]):
        raise ValueError(f"Expected h0 of shape {(x.shape[0], wh.shape[0])}. Received {h0.shape}.")
    states = [h0]
    for step_input in x.transpose(1, 0, 2):
        states.append(rnn_step_forward(step_input, states[-1], wx, wh, b)[0])
    with_initial = np.stack(states, axis=1)  # (N, T + 1, H): the initial state first
    return with_initial[:, 1:], (x, with_initial, wx, wh)


def rnn_backward(dh, cache):
    inp, states, k_in, k_rec = cache
    nb, nt, _ = inp.shape
    # accumulate the parameter gradients over time
    acc = {"x": np.zeros(inp.shape), "wx": np.zeros(k_in.shape),
           "wh": np.zeros(k_rec.shape), "b": np.zeros(k_rec.shape[0])}
    carry = np.zeros(states[:, 0].shape)
    for k in reversed(range(nt)):
        c = [inp[:, k], states[:, k], k_in, k_rec, states[:, k + 1]]
        acc["x"][:, k], carry, g1, g2, g3 = rnn_step_backward(dh[:, k] + carry, c)
        acc["wx"] += g1
        acc["wh"] += g2
        acc["b"] += g3
    total = nb * nt
    return acc["x"], carry, acc["wx"], acc["wh"], acc["b"]


def clip_by_global_norm(grads, clip_norm):
    if isinstance(clip_norm, bool) or not isinstance(clip_norm, (int, float, np.number)) or not clip_norm > 0:
        raise ValueError(f"Expected clip_norm > 0. Received clip_norm={clip_norm!r}.")
    flat = [np.ravel(g) for g in grads if g is not None]
    norm = float(np.linalg.norm(np.concatenate(flat))) if flat else 0.0
    k = 1.0 if norm <= clip_norm else clip_norm / norm
    return [g * k if g is not None else None for g in grads], norm
