# ruff: noqa: F821 - apply_activation is the stub's, defined in the notebook
import numpy as np


def compute_fans(shape):
    return (1, 1) if not shape else (shape[0], shape[0]) if len(shape) == 1 else (
        shape[-2] * int(np.prod(shape[:-2])), shape[-1] * int(np.prod(shape[:-2])))


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    z = rng.standard_normal(shape)
    while (np.abs(z) > 2).any():
        z = np.where(np.abs(z) > 2, rng.standard_normal(shape), z)
    return mean + stddev * z


def xavier_uniform(shape, rng):
    s = sum(compute_fans(shape))
    return rng.uniform(-np.sqrt(6 / s), np.sqrt(6 / s), shape)


def xavier_normal(shape, rng):
    return truncated_normal(shape, rng, 0, np.sqrt(2 / sum(compute_fans(shape))) / 0.87962566103423978)


def he_normal(shape, rng):
    return truncated_normal(shape, rng, 0, np.sqrt(2 / compute_fans(shape)[0]) / 0.87962566103423978)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    f = init if callable(init) else {"xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
                                     "he_normal": he_normal}[init]
    x, ms, ss = rng.standard_normal((batch_size, width)), [], []
    for _ in range(depth):
        x = apply_activation(activation, x @ f((width, width), rng))
        ms, ss = ms + [x.mean()], ss + [x.std()]
    return np.array(ms), np.array(ss)
