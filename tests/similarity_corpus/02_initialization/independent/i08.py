# ruff: noqa: F821 - apply_activation is the stub's, defined in the notebook
from dataclasses import dataclass

import numpy as np


@dataclass
class Fans:
    fan_in: int
    fan_out: int

    @classmethod
    def of(cls, shape):
        if len(shape) == 0:
            return cls(1, 1)
        if len(shape) == 1:
            return cls(shape[0], shape[0])
        area = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        return cls(shape[-2] * area, shape[-1] * area)


def compute_fans(shape):
    fans = Fans.of(tuple(shape))
    return fans.fan_in, fans.fan_out


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    total = int(np.prod(shape))
    pool = []
    while len(pool) < total:
        v = rng.standard_normal()
        if -2.0 <= v <= 2.0:
            pool.append(v)
    return mean + stddev * np.array(pool).reshape(shape)


def xavier_uniform(shape, rng):
    fans = Fans.of(tuple(shape))
    half_width = (6.0 / (fans.fan_in + fans.fan_out)) ** 0.5
    return (rng.random(shape) * 2.0 - 1.0) * half_width


def xavier_normal(shape, rng):
    fans = Fans.of(tuple(shape))
    return truncated_normal(shape, rng, stddev=(2.0 / (fans.fan_in + fans.fan_out)) ** 0.5 / 0.87962566103423978)


def he_normal(shape, rng):
    fans = Fans.of(tuple(shape))
    return truncated_normal(shape, rng, stddev=(2.0 / fans.fan_in) ** 0.5 / 0.87962566103423978)


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    if not callable(init):
        init = {"xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal, "he_normal": he_normal}[init]
    x = rng.standard_normal(size=(batch_size, width))
    result_mean = np.zeros(depth)
    result_std = np.zeros(depth)
    for d in range(depth):
        weights = init((width, width), rng)
        x = apply_activation(activation, x @ weights)
        result_mean[d], result_std[d] = float(np.mean(x)), float(np.std(x))
    return result_mean, result_std
