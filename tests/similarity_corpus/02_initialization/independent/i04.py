# ruff: noqa: F821 - apply_activation is the stub's, defined in the notebook
import numpy as np


def compute_fans(shape):
    if not isinstance(shape, (tuple, list)):
        raise ValueError(f"Expected a tuple shape. Received {shape!r}.")
    for dim in shape:
        if not isinstance(dim, (int, np.integer)) or dim < 0:
            raise ValueError(f"Expected non-negative int dimensions. Received {shape!r}.")
    match len(shape):
        case 0:
            return 1, 1
        case 1:
            return int(shape[0]), int(shape[0])
        case _:
            kernel_area = 1
            for size in shape[:-2]:
                kernel_area *= int(size)
            return int(shape[-2]) * kernel_area, int(shape[-1]) * kernel_area


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    if not stddev > 0:
        raise ValueError(f"Expected stddev > 0. Received stddev={stddev!r}.")
    result = np.empty(shape)
    flat = result.reshape(-1)
    for index in range(flat.size):
        sample = rng.standard_normal()
        while abs(sample) > 2.0:
            sample = rng.standard_normal()
        flat[index] = sample
    return mean + stddev * result


def xavier_uniform(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    scale = 1.0 / max(1.0, (fan_in + fan_out) / 2.0)
    limit = np.sqrt(3.0 * scale)
    return rng.uniform(-limit, limit, size=tuple(shape))


def he_normal(shape, rng):
    fan_in = compute_fans(shape)[0]
    return truncated_normal(shape, rng, mean=0.0, stddev=np.sqrt(2.0 / max(1, fan_in)) / 0.87962566103423978)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    if isinstance(init, str):
        lookup = {name: globals().get(name) for name in ("gaussian_init", "uniform_init", "xavier_uniform",
                                                         "xavier_normal", "he_normal")}
        if lookup.get(init) is None:
            raise ValueError(f"Expected a known sampler name. Received init={init!r}.")
        init = lookup[init]
    if depth < 1 or width < 1:
        raise ValueError(f"Expected depth >= 1 and width >= 1. Received depth={depth}, width={width}.")
    signal = rng.standard_normal((batch_size, width))
    records = []
    for _ in range(depth):
        kernel = init((width, width), rng)
        signal = apply_activation(activation, signal.dot(kernel))
        records.append((signal.mean(), signal.std()))
    means, stds = zip(*records)
    return np.asarray(means), np.asarray(stds)
