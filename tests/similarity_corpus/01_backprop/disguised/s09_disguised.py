# ruff: noqa
import numpy as np


def relu_forward(x):
    pos = np.greater(x, 0)
    return np.where(pos, x, np.zeros_like(x)), pos


def relu_backward(dout, cache):
    return np.where(cache, dout, np.zeros_like(dout))


def dense_forward(x, w, b):
    saved = x, w
    return x @ w + b.reshape(1, -1), saved


def dense_backward(dout, cache):
    a, k = cache
    out = []
    out.append(dout @ k.transpose())
    out.append(a.transpose() @ dout)
    out.append(dout.sum(axis=0))
    return tuple(out)


def softmax_crossentropy(logits, labels):
    """Cross-entropy of the softmax, written from the lecture notes."""
    bs, _ = logits.shape
    top = logits.max(axis=-1)
    lse = top + np.log(np.exp(logits - top[:, np.newaxis]).sum(axis=-1))
    tmp = 0
    right = logits[np.arange(bs), labels]
    total = np.sum(lse - right) / bs
    sm = np.exp(logits - lse[:, np.newaxis])
    ind = np.zeros_like(sm)
    ind[np.arange(bs), labels] = 1.0
    grad = (sm - ind) / bs
    return total, grad
