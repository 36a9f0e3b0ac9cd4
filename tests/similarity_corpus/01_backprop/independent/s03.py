import numpy as np


def dense_forward(x, w, b):
    N = x.shape[0]
    M = w.shape[1]
    out = np.zeros((N, M))
    for i in range(N):
        for j in range(M):
            out[i, j] = np.sum(x[i, :] * w[:, j]) + b[j]
    return out, (x, w)


def dense_backward(dout, cache):
    x, w = cache
    N, D = x.shape
    M = w.shape[1]
    dx = np.zeros((N, D))
    dw = np.zeros((D, M))
    db = np.zeros(M)
    for i in range(N):
        dx[i] = w @ dout[i]
        dw += np.outer(x[i], dout[i])
        db += dout[i]
    return dx, dw, db


def relu_forward(x):
    mask = x > 0
    return x * mask, mask


def relu_backward(dout, cache):
    return dout * cache


def softmax_crossentropy(logits, labels):
    N, C = logits.shape
    loss = 0.0
    dlogits = np.zeros_like(logits, dtype=float)
    for i in range(N):
        row = logits[i] - np.max(logits[i])
        p = np.exp(row) / np.sum(np.exp(row))
        loss += -np.log(p[labels[i]])
        p[labels[i]] -= 1
        dlogits[i] = p / N
    return loss / N, dlogits
