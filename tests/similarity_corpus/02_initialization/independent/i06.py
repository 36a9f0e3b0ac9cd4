# ruff: noqa: F821 - apply_activation is the stub's, defined in the notebook
from functools import reduce
from operator import mul

import numpy as np


def compute_fans(shape):
    if len(shape) < 2:
        n = shape[0] if shape else 1
        return n, n
    *spatial, c_in, c_out = shape
    k = reduce(mul, spatial, 1)
    return c_in * k, c_out * k


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    sample = rng.normal(size=shape)
    while True:
        outside = np.flatnonzero(np.abs(sample) > 2.0)
        if outside.size == 0:
            break
        sample.flat[outside] = rng.normal(size=outside.size)
    return stddev * sample + mean


def xavier_uniform(shape, rng):
    return _glorot(shape, rng, uniform=True)


def xavier_normal(shape, rng):
    return _glorot(shape, rng, uniform=False)


def _glorot(shape, rng, uniform):
    fi, fo = compute_fans(shape)
    avg = (fi + fo) / 2
    if uniform:
        edge = np.sqrt(3 / avg)
        return rng.uniform(-edge, edge, shape)
    return truncated_normal(shape, rng, 0.0, np.sqrt(1 / avg) / 0.87962566103423978)


def he_normal(shape, rng):
    fi, _ = compute_fans(shape)
    return truncated_normal(shape, rng, 0.0, (2 / fi) ** 0.5 / 0.87962566103423978)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    if type(init) is str:
        init = {"xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal, "he_normal": he_normal,
                "gaussian_init": lambda s, r: r.normal(0.0, 0.05, s),
                "uniform_init": lambda s, r: r.uniform(-0.05, 0.05, s)}[init]
    a = rng.normal(size=(batch_size, width))
    history = []
    for _ in range(depth):
        a = apply_activation(activation, np.matmul(a, init((width, width), rng)))
        history.append([a.mean(), a.std()])
    history = np.array(history)
    return history[:, 0], history[:, 1]
