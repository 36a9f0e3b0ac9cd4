# ruff: noqa: F821 - sigmoid is the stub's, defined in the notebook
import numpy as np


class Cell:
    """An LSTM step's activations: enough to go back through it."""

    def __init__(self, x, h_prev, c_prev, wx, wh, b):
        self.x, self.h_prev, self.c_prev, self.wx, self.wh = x, h_prev, c_prev, wx, wh
        z = x @ wx + h_prev @ wh + b
        size = h_prev.shape[1]
        self.i = sigmoid(z[:, :size])
        self.f = sigmoid(z[:, size:2 * size])
        self.g = np.tanh(z[:, 2 * size:3 * size])
        self.o = sigmoid(z[:, 3 * size:])
        self.c = self.f * c_prev + self.i * self.g
        self.h = self.o * np.tanh(self.c)

    def backward(self, dh, dc):
        tc = np.tanh(self.c)
        dc = dc + dh * self.o * (1 - tc * tc)
        dz = np.hstack((dc * self.g * self.i * (1 - self.i), dc * self.c_prev * self.f * (1 - self.f),
                        dc * self.i * (1 - self.g * self.g), dh * tc * self.o * (1 - self.o)))
        return dz @ self.wx.T, dz @ self.wh.T, dc * self.f, self.x.T @ dz, self.h_prev.T @ dz, dz.sum(axis=0)


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    cell = Cell(x, h_prev, c_prev, wx, wh, b)
    return (cell.h, cell.c), cell


def lstm_step_backward(dout, cache):
    return cache.backward(*dout)


def lstm_forward(x, h0, c0, wx, wh, b):
    if x.ndim != 3:
        raise ValueError(f"Expected x of shape (N, T, D). Received x.shape={x.shape}.")
    if h0.shape != (x.shape[0], wh.shape[0]) or c0.shape != h0.shape:
        raise ValueError(f"Expected h0 and c0 of shape (N, H). Received {h0.shape} and {c0.shape}.")
    cells = []
    h, c = h0, c0
    for t in range(x.shape[1]):
        cells.append(Cell(x[:, t], h, c, wx, wh, b))
        h, c = cells[-1].h, cells[-1].c
    return (np.stack([cell.h for cell in cells], axis=1), h, c), cells


def lstm_backward(dout, cache):
    dh, dh_T, dc_T = dout
    dxs = []
    dwx = dwh = db = 0
    gh, gc = dh_T, dc_T
    for t in range(len(cache) - 1, -1, -1):
        gx, gh, gc, a, bb, c = cache[t].backward(gh + dh[:, t], gc)
        dxs.append(gx)
        dwx, dwh, db = dwx + a, dwh + bb, db + c
    return np.stack(dxs[::-1], axis=1), gh, gc, dwx, dwh, db
