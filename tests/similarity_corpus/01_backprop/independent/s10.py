import numpy as np


def dense_forward(x, w, b):
    flat = x.reshape(x.shape[0], -1)
    return flat @ w + b, (x, flat, w)


def dense_backward(dout, cache):
    x, flat, w = cache
    dflat = dout @ w.T
    return dflat.reshape(x.shape), flat.T @ dout, np.sum(dout, axis=0)


def relu_forward(x):
    out = np.copy(x)
    np.maximum(out, 0, out=out)
    return out, out


def relu_backward(dout, cache):
    dx = np.array(dout, copy=True)
    dx[~(cache > 0)] = 0.0
    return dx


def softmax_crossentropy(logits, labels):
    logits = np.asarray(logits, dtype=np.float64)
    logits = logits - logits.max(1, keepdims=True)
    sums = np.exp(logits).sum(1)
    probabilities = np.exp(logits) / sums[:, None]
    rows = np.arange(len(labels))
    nll = np.log(sums) - logits[rows, labels]
    probabilities[rows, labels] -= 1.0
    probabilities /= len(labels)
    return nll.mean(), probabilities
