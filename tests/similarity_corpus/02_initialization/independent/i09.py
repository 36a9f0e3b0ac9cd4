# ruff: noqa: F821, E741 - apply_activation is the stub's, defined in the notebook; a student's `l`
import numpy as np


def compute_fans(shape):
    shape = np.asarray(shape, dtype=np.int64)
    if shape.size == 0:
        return 1, 1
    if shape.size == 1:
        return int(shape[0]), int(shape[0])
    field_size = shape[:-2].prod()
    return int(shape[-2] * field_size), int(shape[-1] * field_size)


def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
    return stddev * rng.standard_normal(shape) + mean


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    def fill(values):
        idx = np.nonzero(np.abs(values) > 2)
        if len(idx[0]) == 0:
            return values
        values[idx] = rng.standard_normal(len(idx[0]))
        return fill(values)

    return mean + stddev * fill(rng.standard_normal(shape))


def xavier_uniform(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    high = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-high, high, shape).astype(np.float64)


def he_normal(shape, rng):
    return truncated_normal(shape, rng, 0.0, np.sqrt(2.0 / compute_fans(shape)[0]) / 0.87962566103423978)


def xavier_normal(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    return truncated_normal(shape, rng, 0.0, np.sqrt(2.0 / (fan_in + fan_out)) / 0.87962566103423978)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    init = init if callable(init) else globals()[init]
    h = rng.standard_normal((batch_size, width))
    layers = []
    for _ in range(depth):
        h = apply_activation(activation, h @ init((width, width), rng))
        layers.append(h)
    return np.array([l.mean() for l in layers]), np.array([l.std() for l in layers])
