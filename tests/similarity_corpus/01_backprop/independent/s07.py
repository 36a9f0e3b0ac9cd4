import math

import numpy as np


def dense_forward(x, w, b):
    rows, inner = x.shape
    cols = w.shape[1]
    result = np.empty((rows, cols))
    for r in range(rows):
        for c in range(cols):
            acc = b[c]
            for k in range(inner):
                acc += x[r, k] * w[k, c]
            result[r, c] = acc
    return result, (x, w)


def dense_backward(dout, cache):
    x, w = cache
    rows, inner = x.shape
    cols = w.shape[1]
    dx = np.zeros_like(x, dtype=float)
    dw = np.zeros_like(w, dtype=float)
    db = np.zeros(cols)
    for r in range(rows):
        for c in range(cols):
            g = dout[r, c]
            db[c] += g
            for k in range(inner):
                dx[r, k] += g * w[k, c]
                dw[k, c] += g * x[r, k]
    return dx, dw, db


def relu_forward(x):
    flat = [v if v > 0 else 0.0 for v in x.ravel()]
    return np.array(flat).reshape(x.shape), x


def relu_backward(dout, cache):
    grad = np.zeros(dout.shape)
    for idx in np.ndindex(dout.shape):
        if cache[idx] > 0:
            grad[idx] = dout[idx]
    return grad


def softmax_crossentropy(logits, labels):
    n, classes = logits.shape
    total = 0.0
    grad = np.zeros((n, classes))
    for i in range(n):
        top = max(logits[i])
        exps = [math.exp(v - top) for v in logits[i]]
        norm = sum(exps)
        for c in range(classes):
            grad[i, c] = exps[c] / norm / n
        grad[i, labels[i]] -= 1.0 / n
        total -= math.log(exps[labels[i]] / norm)
    return total / n, grad
