import numpy as np


def dense_forward(x, w, b):
    output = np.matmul(x, w)
    output += b
    return output, [x, w, b]


def dense_backward(dout, cache):
    inp, weights = cache[0], cache[1]
    d_inp = np.matmul(dout, np.transpose(weights))
    d_weights = np.matmul(np.transpose(inp), dout)
    d_bias = np.add.reduce(dout, axis=0)
    return d_inp, d_weights, d_bias


def relu_forward(x):
    activated = (x > 0) * x
    return activated, activated


def relu_backward(dout, cache):
    return (cache > 0) * dout


def softmax_crossentropy(logits, labels):
    count = logits.shape[0]
    stable = logits - np.max(logits, axis=1).reshape(-1, 1)
    log_norm = np.log(np.sum(np.exp(stable), axis=1)).reshape(-1, 1)
    log_probs = stable - log_norm
    loss = -np.mean(log_probs[np.arange(count), labels])
    d = np.exp(log_probs)
    d[np.arange(count), labels] = d[np.arange(count), labels] - 1
    return loss, d / count
