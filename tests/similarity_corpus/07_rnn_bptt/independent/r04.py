import numpy as np


def rnn_step_forward(x, h_prev, wx, wh, b):
    h_next = np.tanh(np.einsum("nd,dh->nh", x, wx) + np.einsum("nk,kh->nh", h_prev, wh) + b)
    return h_next, (x, h_prev, wx, wh, h_next)


def rnn_step_backward(dh_next, cache):
    x, h_prev, wx, wh, h_next = cache
    local = dh_next * (1 - h_next * h_next)
    dx = np.einsum("nh,dh->nd", local, wx)
    dh_prev = np.einsum("nh,kh->nk", local, wh)
    dwx = np.einsum("nd,nh->dh", x, local)
    dwh = np.einsum("nk,nh->kh", h_prev, local)
    return dx, dh_prev, dwx, dwh, local.sum(axis=0)


def rnn_forward(x, h0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError("Expected x of shape (N, T, D). Received x.shape=%s." % (x.shape,))
    if h0.shape != (x.shape[0], wh.shape[0]):
        raise ValueError("Expected h0 of shape (N, H). Received h0.shape=%s." % (h0.shape,))
    projected = np.einsum("ntd,dh->nth", x, wx) + b
    out = np.zeros(projected.shape)
    state = h0
    for t in range(x.shape[1]):
        state = np.tanh(projected[:, t] + state @ wh)
        out[:, t] = state
    return out, (x, h0, wx, wh, out)


def rnn_backward(dh, cache):
    x, h0, wx, wh, out = cache
    previous = np.concatenate([h0[:, None], out[:, :-1]], axis=1)
    dpre = np.zeros(out.shape)
    grad = np.zeros(h0.shape)
    for t in range(x.shape[1] - 1, -1, -1):
        dpre[:, t] = (dh[:, t] + grad) * (1 - out[:, t] ** 2)
        grad = dpre[:, t] @ wh.T
    dx = np.einsum("nth,dh->ntd", dpre, wx)
    dwx = np.einsum("ntd,nth->dh", x, dpre)
    dwh = np.einsum("ntk,nth->kh", previous, dpre)
    db = dpre.sum(axis=(0, 1))
    return dx, grad, dwx, dwh, db


def gradient_norms_by_distance(x, h0, wx, wh, b):
    out, cache = rnn_forward(x, h0, wx, wh, b)
    seed = np.zeros(out.shape)
    seed[:, -1, :] = 1
    dx, *_ = rnn_backward(seed, cache)
    return np.sqrt((dx ** 2).sum(axis=(0, 2)))[::-1]
