# ruff: noqa: F821 - apply_activation is the stub's, defined in the notebook
import numpy as np


def compute_fans(shape):
    s = list(shape)
    if len(s) == 0:
        s = [1, 1]
    elif len(s) == 1:
        s = [s[0], s[0]]
    rf = np.prod(s[:-2], dtype=np.int64) if len(s) > 2 else 1
    return int(s[-2] * rf), int(s[-1] * rf)


def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
    return rng.normal(loc=mean, scale=stddev, size=shape)


def uniform_init(shape, rng, minval=-0.05, maxval=0.05):
    return rng.uniform(low=minval, high=maxval, size=shape)


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    # draw twice as many as needed and keep the first that fall inside; repeat if too few were kept
    n = int(np.prod(shape))
    good = np.array([])
    while good.size < n:
        batch = rng.standard_normal(2 * n + 16)
        good = np.append(good, batch[(batch >= -2) & (batch <= 2)])
    return (good[:n] * stddev + mean).reshape(shape)


def xavier_uniform(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    lim = np.sqrt(6.0 / max(2.0, fan_in + fan_out))
    return uniform_init(shape, rng, -lim, lim)


def xavier_normal(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    sd = np.sqrt(2.0 / max(2.0, fan_in + fan_out)) / 0.87962566103423978
    return truncated_normal(shape, rng, 0.0, sd)


def he_normal(shape, rng):
    fan_in, _ = compute_fans(shape)
    sd = np.sqrt(2.0 / max(1.0, fan_in)) / 0.87962566103423978
    return truncated_normal(shape, rng, 0.0, sd)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    sampler = init if callable(init) else {"gaussian_init": gaussian_init, "uniform_init": uniform_init,
                                           "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
                                           "he_normal": he_normal}[init]
    layer_input = rng.standard_normal((batch_size, width))
    stats = np.zeros((depth, 2))
    for idx in range(depth):
        pre = layer_input @ sampler((width, width), rng)
        layer_input = apply_activation(activation, pre)
        stats[idx] = layer_input.mean(), layer_input.std()
    return stats[:, 0], stats[:, 1]
