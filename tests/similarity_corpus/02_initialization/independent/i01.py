# ruff: noqa: F821 - apply_activation is the stub's, defined in the notebook
import numpy as np


def compute_fans(shape):
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    field = 1
    for d in shape[:-2]:
        field = field * d
    return shape[-2] * field, shape[-1] * field


def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
    return rng.normal(mean, stddev, size=shape)


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    values = rng.standard_normal(size=shape)
    bad = np.abs(values) > 2
    while np.any(bad):
        values[bad] = rng.standard_normal(size=bad.sum())
        bad = np.abs(values) > 2
    return mean + stddev * values


def xavier_uniform(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def he_normal(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    std = np.sqrt(2.0 / fan_in) / 0.87962566103423978
    return truncated_normal(shape, rng, 0.0, std)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    if isinstance(init, str):
        init = globals()[init]
    x = rng.standard_normal((batch_size, width))
    means = []
    stds = []
    for layer in range(depth):
        w = init((width, width), rng)
        x = apply_activation(activation, x @ w)
        means.append(x.mean())
        stds.append(x.std())
    return np.array(means), np.array(stds)
