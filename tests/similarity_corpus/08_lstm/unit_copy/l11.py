# ruff: noqa
# copies lstm_backward from l07 (renamed, reformatted, a comment and a dead statement); the rest is l11's own.
import numpy as np


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    size = wh.shape[0]
    act = x @ wx + h_prev @ wh + b
    in_gate, forget_gate, out_gate = (sigmoid(act[:, k * size:(k + 1) * size]) for k in (0, 1, 3))
    cell_in = np.tanh(act[:, 2 * size:3 * size])
    new_c = forget_gate * c_prev + in_gate * cell_in
    new_h = out_gate * np.tanh(new_c)
    return (new_h, new_c), (x, h_prev, c_prev, (in_gate, forget_gate, cell_in, out_gate), new_c, wx, wh)


def lstm_step_backward(dout, cache):
    x, h_prev, c_prev, (in_gate, forget_gate, cell_in, out_gate), new_c, wx, wh = cache
    grad_h, grad_c = dout
    tanh_new = np.tanh(new_c)
    grad_c = grad_c + grad_h * out_gate * (1 - tanh_new * tanh_new)
    grad_act = np.column_stack([grad_c * cell_in * in_gate * (1 - in_gate),
                                grad_c * c_prev * forget_gate * (1 - forget_gate),
                                grad_c * in_gate * (1 - cell_in * cell_in),
                                grad_h * tanh_new * out_gate * (1 - out_gate)])
    return (grad_act @ wx.T, grad_act @ wh.T, forget_gate * grad_c, x.T @ grad_act, h_prev.T @ grad_act,
            grad_act.sum(axis=0))


def lstm_forward(x, h0, c0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x of shape (N, T, D). Received {x.shape}.")
    if h0.shape != c0.shape or h0.shape != (len(x), wh.shape[0]):
        raise ValueError(f"Expected h0 and c0 of shape (N, H). Received {h0.shape}, {c0.shape}.")
    outputs = np.zeros(x.shape[:2] + (wh.shape[0],))
    saved = [None] * x.shape[1]
    state = (h0, c0)
    for step in range(x.shape[1]):
        state, saved[step] = lstm_step_forward(x[:, step], *state, wx, wh, b)
        outputs[:, step] = state[0]
    return (outputs, *state), saved


def lstm_backward(dout, cache):
    g_seq, g_hT, g_cT = dout
    bs, steps, units = g_seq.shape
    dim = cache[0][0].shape[1]
    # gradients of the parameters add up over the steps
    g_x = np.zeros((bs, steps, dim))
    g_wx = np.zeros((dim, 4 * units))
    g_wh = np.zeros((units, 4 * units))
    g_b = np.zeros(4 * units)
    back_h, back_c = g_hT, g_cT
    for k in range(steps - 1, -1, -1):
        out = lstm_step_backward((back_h + g_seq[:, k], back_c), cache[k])
        g_x[:, k] = out[0]
        back_h, back_c = out[1], out[2]
        g_wx += out[3]
        g_wh += out[4]
        note = "accumulated"
        g_b += out[5]
    return g_x, back_h, back_c, g_wx, g_wh, g_b
