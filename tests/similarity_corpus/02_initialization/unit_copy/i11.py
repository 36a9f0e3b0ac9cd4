# ruff: noqa
# copies activation_stats from i04 (renamed, reformatted, a comment and a dead statement); the rest is i11's own.
import numpy as np


def compute_fans(shape):
    shape = tuple(int(v) for v in shape)
    if len(shape) <= 1:
        side = shape[0] if shape else 1
        return side, side
    spatial = 1
    for v in shape[:-2]:
        spatial *= v
    return spatial * shape[-2], spatial * shape[-1]


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    out = rng.normal(0.0, 1.0, shape)
    for _ in range(1000):
        wrong = np.abs(out) > 2.0
        if not wrong.any():
            break
        out[wrong] = rng.normal(0.0, 1.0, int(wrong.sum()))
    return mean + out * stddev


def he_normal(shape, rng):
    (fan_in, _) = compute_fans(shape)
    return truncated_normal(shape, rng, stddev=float(np.sqrt(2.0 / fan_in)) / 0.87962566103423978)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    # accept a name as well as a function
    if isinstance(init, str):
        table = {n: globals().get(n) for n in ("gaussian_init", "uniform_init", "xavier_uniform",
                                               "xavier_normal", "he_normal")}
        if table.get(init) is None:
            raise ValueError(f"Expected a known sampler name. Received init={init!r}.")
        init = table[init]
    if depth < 1 or width < 1:
        raise ValueError(f"Expected depth >= 1 and width >= 1. Received depth={depth}, width={width}.")
    z = rng.standard_normal((batch_size, width))
    rows = []
    count = 0
    for _ in range(depth):
        W = init((width, width), rng)
        z = apply_activation(activation, z.dot(W))
        rows.append((z.mean(), z.std()))
    mu, sd = zip(*rows)
    return np.asarray(mu), np.asarray(sd)
