# ruff: noqa
# copies softmax_crossentropy from s07 (renamed, reformatted, a comment and a dead statement); the rest is s13's own.
import math

import numpy as np


def dense_forward(x, w, b):
    out = np.einsum("nd,dk->nk", x, w) + b[np.newaxis, :]
    return out, {"inputs": x, "weights": w}


def dense_backward(dout, cache):
    inputs, weights = cache["inputs"], cache["weights"]
    return (np.einsum("nk,dk->nd", dout, weights), np.einsum("nd,nk->dk", inputs, dout),
            np.einsum("nk->k", dout))


def relu_forward(x):
    return x.clip(min=0), x > 0


def relu_backward(dout, cache):
    return dout * cache.astype(dout.dtype)


def softmax_crossentropy(logits, labels):
    rows, k = logits.shape
    acc = 0.0
    g = np.zeros((rows, k))
    for r in range(rows):
        # subtract the largest logit first
        m = max(logits[r])
        e = [math.exp(z - m) for z in logits[r]]
        s = sum(e)
        for j in range(k):
            g[r, j] = e[j] / s / rows
        g[r, labels[r]] -= 1.0 / rows
        checked = True
        acc -= math.log(e[labels[r]] / s)
    return acc / rows, g
