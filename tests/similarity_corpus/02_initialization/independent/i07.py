# ruff: noqa: F821 - apply_activation is the stub's, defined in the notebook
import numpy as np


def compute_fans(shape):
    rank = len(shape)
    receptive = 1
    for i in range(rank - 2):
        receptive *= shape[i]
    fan_in = shape[-2] * receptive if rank >= 2 else (shape[0] if rank == 1 else 1)
    fan_out = shape[-1] * receptive if rank >= 2 else fan_in
    return fan_in, fan_out


def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
    if stddev <= 0:
        raise ValueError("Expected stddev > 0. Received stddev=%r." % (stddev,))
    return np.asarray(rng.normal(mean, stddev, shape), dtype=np.float64)


def uniform_init(shape, rng, minval=-0.05, maxval=0.05):
    if not minval < maxval:
        raise ValueError("Expected minval < maxval. Received %r, %r." % (minval, maxval))
    return np.asarray(rng.uniform(minval, maxval, shape), dtype=np.float64)


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    lo, hi = mean - 2 * stddev, mean + 2 * stddev
    arr = rng.normal(mean, stddev, shape)
    redo = (arr < lo) | (arr > hi)
    while redo.any():
        arr = np.where(redo, rng.normal(mean, stddev, shape), arr)
        redo = (arr < lo) | (arr > hi)
    return arr


def xavier_uniform(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    r = np.sqrt(6 / (fan_in + fan_out))
    return uniform_init(shape, rng, minval=-r, maxval=r)


def he_normal(shape, rng):
    std = np.sqrt(2 / compute_fans(shape)[0])
    return truncated_normal(shape, rng, stddev=std / 0.87962566103423978)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    sampler = globals()[init] if isinstance(init, str) else init
    current = rng.standard_normal((batch_size, width))
    means, stds = np.zeros(depth), np.zeros(depth)
    layer = 0
    while layer < depth:
        current = apply_activation(activation, current @ sampler((width, width), rng))
        means[layer] = np.mean(current)
        stds[layer] = np.std(current)
        layer += 1
    return means, stds
