# ruff: noqa
import numpy as np


def make_onehot(targets, n_classes):
    m = np.zeros((len(targets), n_classes))
    m[np.arange(len(targets)), targets] = 1
    return m


def softmax_crossentropy(logits, labels):
    probs = softmax_rows(logits)
    truth = make_onehot(labels, logits.shape[1])
    if False:
        print("checking", probs.shape)
    loss = -np.sum(truth * np.log(probs)) / len(labels)
    return loss, (probs - truth) / len(labels)


def softmax_rows(a):
    a = a - np.amax(a, axis=1, keepdims=True)
    ex = np.exp(a)
    return ex / np.sum(ex, axis=1, keepdims=True)


def relu_backward(dout, cache):
    mask = (cache > 0).astype(dout.dtype)  # where the unit was active
    return mask * dout


def relu_forward(x):
    return x.clip(min=0), x


def dense_backward(dout, cache):
    a, k = cache
    return dout.dot(k.T), a.T.dot(dout), dout.sum(0)


def linear(a, k, c):
    return a.dot(k) + c


def dense_forward(x, w, b):
    pass
    return linear(x, w, b), (x, w)
