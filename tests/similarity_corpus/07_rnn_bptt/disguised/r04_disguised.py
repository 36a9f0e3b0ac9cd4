# ruff: noqa
# Copied from r04: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def gradient_norms_by_distance(x, h0, wx, wh, b):
    hs, c = rnn_forward(x, h0, wx, wh, b)
    g = np.zeros(hs.shape)
    g[:, -1, :] = 1
    gx, *_ = rnn_backward(g, c)
    return np.sqrt((gx ** 2).sum(axis=(0, 2)))[::-1]


def rnn_forward(x, h0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError("Expected x of shape (N, T, D). Received x.shape=%s." % (x.shape,))
    if h0.shape != (x.shape[0], wh.shape[0]):
        raise ValueError("Expected h0 of shape (N, H). Received h0.shape=%s." % (h0.shape,))
    # input projections for every step at once
    proj = np.einsum("ntd,dh->nth", x, wx) + b
    hs = np.zeros(proj.shape)
    s = h0
    for k in range(x.shape[1]):
        s = np.tanh(proj[:, k] + s @ wh)
        hs[:, k] = s
    return hs, (x, h0, wx, wh, hs)


def rnn_backward(dh, cache):
    inp, init, k_in, k_rec, hs = cache
    prev_states = np.concatenate([init[:, None], hs[:, :-1]], axis=1)
    g_pre = np.zeros(hs.shape)
    g_state = np.zeros(init.shape)
    for k in range(inp.shape[1] - 1, -1, -1):
        g_pre[:, k] = (dh[:, k] + g_state) * (1 - hs[:, k] ** 2)
        g_state = g_pre[:, k] @ k_rec.T
    extra = g_pre.max()
    g_inp = np.einsum("nth,dh->ntd", g_pre, k_in)
    g_kin = np.einsum("ntd,nth->dh", inp, g_pre)
    g_krec = np.einsum("ntk,nth->kh", prev_states, g_pre)
    g_bias = g_pre.sum(axis=(0, 1))
    return g_inp, g_state, g_kin, g_krec, g_bias


def rnn_step_backward(dh_next, cache):
    inp, prev, k_in, k_rec, nxt = cache
    loc = dh_next * (1 - nxt * nxt)
    g_inp = np.einsum("nh,dh->nd", loc, k_in)
    g_prev = np.einsum("nh,kh->nk", loc, k_rec)
    g_kin = np.einsum("nd,nh->dh", inp, loc)
    g_krec = np.einsum("nk,nh->kh", prev, loc)
    return g_inp, g_prev, g_kin, g_krec, loc.sum(axis=0)


def rnn_step_forward(x, h_prev, wx, wh, b):
    nxt = np.tanh(np.einsum("nd,dh->nh", x, wx) +
                  np.einsum("nk,kh->nh", h_prev, wh) + b)
    return nxt, (x, h_prev, wx, wh, nxt)
