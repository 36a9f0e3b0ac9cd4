# ruff: noqa: F821 - sigmoid is the stub's, defined in the notebook
import numpy as np


def _gates(x, h_prev, wx, wh, b):
    z = np.einsum("nd,dk->nk", x, wx) + np.einsum("nh,hk->nk", h_prev, wh) + b
    u = z.shape[1] // 4
    return sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), sigmoid(z[:, 3 * u:])


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    i, f, g, o = _gates(x, h_prev, wx, wh, b)
    c_next = c_prev * f + g * i
    h_next = np.tanh(c_next) * o
    return (h_next, c_next), (x, h_prev, c_prev, wx, wh, b)


def lstm_step_backward(dout, cache):
    x, h_prev, c_prev, wx, wh, b = cache
    i, f, g, o = _gates(x, h_prev, wx, wh, b)
    dh, dc = dout
    c_next = c_prev * f + g * i
    t = np.tanh(c_next)
    dc_total = dc + dh * o * (1 - t * t)
    d_i = dc_total * g * i * (1 - i)
    d_f = dc_total * c_prev * f * (1 - f)
    d_g = dc_total * i * (1 - g * g)
    d_o = dh * t * o * (1 - o)
    dz = np.concatenate((d_i, d_f, d_g, d_o), axis=1)
    dx = np.einsum("nk,dk->nd", dz, wx)
    dh_prev = np.einsum("nk,hk->nh", dz, wh)
    dwx = np.einsum("nd,nk->dk", x, dz)
    dwh = np.einsum("nh,nk->hk", h_prev, dz)
    return dx, dh_prev, dc_total * f, dwx, dwh, dz.sum(axis=0)


def lstm_forward(x, h0, c0, wx, wh, b):
    if np.ndim(x) != 3:
        raise ValueError("Expected x of rank 3. Received rank %d." % np.ndim(x))
    units = np.shape(wh)[0]
    if np.shape(h0) != (x.shape[0], units) or np.shape(c0) != (x.shape[0], units):
        raise ValueError("Expected h0 and c0 of shape (N, H). Received %s and %s." % (np.shape(h0), np.shape(c0)))
    if np.shape(wx) != (x.shape[2], 4 * units) or np.shape(b) != (4 * units,):
        raise ValueError("Expected wx (D, 4H) and b (4H,). Received %s and %s." % (np.shape(wx), np.shape(b)))
    hs = []
    steps = []
    state = (h0, c0)
    for xt in x.swapaxes(0, 1):
        state, cache = lstm_step_forward(xt, state[0], state[1], wx, wh, b)
        hs.append(state[0])
        steps.append(cache)
    return (np.stack(hs, 1), state[0], state[1]), steps


def lstm_backward(dout, cache):
    dh, dh_T, dc_T = dout
    carry = (np.array(dh_T, dtype=float), np.array(dc_T, dtype=float))
    grads_x = []
    total = [0.0, 0.0, 0.0]
    for t in reversed(range(len(cache))):
        gx, gh, gc, gwx, gwh, gb = lstm_step_backward((carry[0] + dh[:, t], carry[1]), cache[t])
        carry = (gh, gc)
        grads_x.append(gx)
        total = [total[0] + gwx, total[1] + gwh, total[2] + gb]
    return np.stack(grads_x[::-1], 1), carry[0], carry[1], total[0], total[1], total[2]
