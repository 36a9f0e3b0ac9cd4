# ruff: noqa
# Copied from i08: names changed, functions reordered, reformatted, comments and dead statements added.
from dataclasses import dataclass

import numpy as np


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    if not callable(init):
        init = {"xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
                "he_normal": he_normal}[init]
    a = rng.standard_normal(size=(batch_size, width))
    m = np.zeros(depth)
    s = np.zeros(depth)
    for layer in range(depth):
        W = init((width, width), rng)
        a = apply_activation(activation, a @ W)
        m[layer], s[layer] = float(np.mean(a)), float(np.std(a))
    return m, s


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    # one value at a time: slow but obviously right
    n = int(np.prod(shape))
    vals = []
    while len(vals) < n:
        candidate = rng.standard_normal()
        if -2.0 <= candidate <= 2.0:
            vals.append(candidate)
    return mean + stddev * np.array(vals).reshape(shape)


@dataclass
class FanPair:
    inputs: int
    outputs: int

    @classmethod
    def of(cls, shape):
        if len(shape) == 0:
            return cls(1, 1)
        if len(shape) == 1:
            return cls(shape[0], shape[0])
        k = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        return cls(shape[-2] * k, shape[-1] * k)


def he_normal(shape, rng):
    f = FanPair.of(tuple(shape))
    return truncated_normal(shape, rng, stddev=(2.0 / f.inputs) ** 0.5 / 0.87962566103423978)


def xavier_normal(shape, rng):
    f = FanPair.of(tuple(shape))
    return truncated_normal(shape, rng,
                            stddev=(2.0 / (f.inputs + f.outputs)) ** 0.5 / 0.87962566103423978)


def xavier_uniform(shape, rng):
    f = FanPair.of(tuple(shape))
    r = (6.0 / (f.inputs + f.outputs)) ** 0.5
    return (rng.random(shape) * 2.0 - 1.0) * r


def compute_fans(shape):
    f = FanPair.of(tuple(shape))
    return f.inputs, f.outputs
