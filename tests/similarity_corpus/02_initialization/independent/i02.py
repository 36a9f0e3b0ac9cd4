# ruff: noqa: F821 - apply_activation is the stub's, defined in the notebook
import math

import numpy as np

SAMPLERS = ("gaussian_init", "uniform_init", "xavier_uniform", "xavier_normal", "he_normal")


def compute_fans(shape):
    dims = [int(d) for d in shape]
    if not dims:
        return 1, 1
    if len(dims) < 2:
        return dims[0], dims[0]
    receptive = math.prod(dims[:-2])
    return dims[-2] * receptive, dims[-1] * receptive


def uniform_init(shape, rng, minval=-0.05, maxval=0.05):
    if minval >= maxval:
        raise ValueError(f"Expected minval < maxval. Received minval={minval}, maxval={maxval}.")
    return minval + (maxval - minval) * rng.random(shape)


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    if stddev <= 0:
        raise ValueError(f"Expected stddev > 0. Received stddev={stddev}.")
    size = int(np.prod(shape))
    kept = np.empty(0)
    while kept.size < size:
        draw = rng.normal(mean, stddev, size - kept.size)
        kept = np.concatenate([kept, draw[np.abs(draw - mean) <= 2 * stddev]])
    return kept.reshape(shape)


def xavier_uniform(shape, rng):
    n_in, n_out = compute_fans(shape)
    bound = math.sqrt(6 / (n_in + n_out))
    return uniform_init(shape, rng, -bound, bound)


def xavier_normal(shape, rng):
    n_in, n_out = compute_fans(shape)
    return truncated_normal(shape, rng, stddev=math.sqrt(2 / (n_in + n_out)) / 0.87962566103423978)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    sampler = init
    if not callable(init):
        if init not in SAMPLERS:
            raise ValueError(f"Expected one of {SAMPLERS}. Received init={init!r}.")
        sampler = eval(init)
    out = np.zeros((2, depth))
    h = rng.standard_normal(size=(batch_size, width))
    for k in range(depth):
        h = apply_activation(activation, np.dot(h, sampler((width, width), rng)))
        out[0, k] = np.mean(h)
        out[1, k] = np.std(h)
    return out[0], out[1]
