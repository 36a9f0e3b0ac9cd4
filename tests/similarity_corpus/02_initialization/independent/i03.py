# ruff: noqa: F821 - apply_activation is the stub's, defined in the notebook
import numpy as np

TRUNCATION_FIX = 0.87962566103423978  # std of a standard normal cut at +-2


def compute_fans(shape):
    """Keras's rule: the receptive field multiplies both fans."""
    if len(shape) == 0:
        fans = (1, 1)
    elif len(shape) == 1:
        fans = (shape[0], shape[0])
    elif len(shape) == 2:
        fans = (shape[0], shape[1])
    else:
        rf = int(np.prod(shape[:-2]))
        fans = (shape[-2] * rf, shape[-1] * rf)
    return int(fans[0]), int(fans[1])


def _redraw_outside(z, rng, bound):
    """Replace every entry of z beyond +-bound by a fresh standard normal, until none is left."""
    mask = np.abs(z) > bound
    count = mask.sum()
    while count:
        z[mask] = rng.standard_normal(count)
        mask = np.abs(z) > bound
        count = mask.sum()
    return z


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    z = _redraw_outside(rng.standard_normal(shape), rng, 2.0)
    return z * stddev + mean


def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
    return mean + stddev * rng.standard_normal(shape)


def _scaled_normal(shape, rng, variance):
    return truncated_normal(shape, rng, stddev=np.sqrt(variance) / TRUNCATION_FIX)


def he_normal(shape, rng):
    return _scaled_normal(shape, rng, 2.0 / compute_fans(shape)[0])


def xavier_normal(shape, rng):
    fi, fo = compute_fans(shape)
    return _scaled_normal(shape, rng, 2.0 / (fi + fo))


def xavier_uniform(shape, rng):
    fi, fo = compute_fans(shape)
    a = (6.0 / (fi + fo)) ** 0.5
    return rng.uniform(low=-a, high=a, size=shape)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    named = {"gaussian_init": gaussian_init, "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
             "he_normal": he_normal}
    draw = named.get(init, init)
    acts = rng.standard_normal((batch_size, width))
    mu, sigma = np.empty(depth), np.empty(depth)
    for i in range(depth):
        acts = apply_activation(activation, acts @ draw((width, width), rng))
        mu[i] = acts.mean()
        sigma[i] = acts.std()
    return mu, sigma
