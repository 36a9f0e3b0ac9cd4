# ruff: noqa
# Copied from i05: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def he_normal(shape, rng):
    fi, _ = compute_fans(shape)
    s = np.sqrt(2.0 / max(1.0, fi)) / 0.87962566103423978
    return truncated_normal(shape, rng, 0.0, s)


def xavier_normal(shape, rng):
    fi, fo = compute_fans(shape)
    s = np.sqrt(2.0 / max(2.0, fi + fo)) / 0.87962566103423978
    return truncated_normal(shape, rng, 0.0, s)


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    """Rejection sampling, in batches."""
    count = int(np.prod(shape))
    accepted = np.array([])
    while accepted.size < count:
        draws = rng.standard_normal(2 * count + 16)
        accepted = np.append(accepted, draws[(draws >= -2) & (draws <= 2)])
    return (accepted[:count] * stddev + mean).reshape(shape)


def compute_fans(shape):
    dims = list(shape)
    if len(dims) == 0:
        dims = [1, 1]
    elif len(dims) == 1:
        dims = [dims[0], dims[0]]
    receptive_field = np.prod(dims[:-2], dtype=np.int64) if len(dims) > 2 else 1
    return int(dims[-2] * receptive_field), int(dims[-1] * receptive_field)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    fn = init if callable(init) else {"gaussian_init": gaussian_init, "uniform_init": uniform_init,
                                      "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
                                      "he_normal": he_normal}[init]
    inp = rng.standard_normal((batch_size, width))
    table = np.zeros((depth, 2))
    for j in range(depth):
        z = inp @ fn((width, width), rng)
        inp = apply_activation(activation, z)
        table[j] = inp.mean(), inp.std()
        pass
    return table[:, 0], table[:, 1]


def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
    return rng.normal(loc=mean, scale=stddev, size=shape)


def uniform_init(shape, rng, minval=-0.05, maxval=0.05):
    return rng.uniform(low=minval, high=maxval, size=shape)


def xavier_uniform(shape, rng):
    fi, fo = compute_fans(shape)
    edge = np.sqrt(6.0 / max(2.0, fi + fo))
    unused = edge * 2
    return uniform_init(shape, rng, -edge, edge)
