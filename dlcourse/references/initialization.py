"""Keras references for assignment 02 (initialization): fans, initializer distributions, depth statistics.

Keras's random streams cannot be reproduced in NumPy, so a sampler is graded by the distribution
Keras draws from, not by its draws. :func:`initializer_distribution` reads that distribution off a
``keras.initializers`` object (its class, ``scale``, ``mode`` and ``distribution``, with the fans
from Keras's own ``compute_fans``) and writes it down as plain numbers; :func:`keras_sample` draws
from the same initializer so that tests can confirm that Keras's own samples fit that description.
"""

from __future__ import annotations

import math

import numpy as np

from dlcourse.references._keras import keras
from dlcourse.references.autodiff import to_numpy

F64 = "float64"

# Keras's VarianceScaling divides the stddev of its truncated normal by this constant: the standard
# deviation of a unit normal cut at +-2 (keras/src/initializers/random_initializers.py).
TRUNCATION_STD = 0.87962566103423978

# The student's sampler -> the Keras initializer it must match, by Keras's own identifier.
KERAS_NAMES = {
    "gaussian_init": "RandomNormal",
    "uniform_init": "RandomUniform",
    "truncated_normal": "TruncatedNormal",
    "xavier_uniform": "GlorotUniform",
    "xavier_normal": "GlorotNormal",
    "he_normal": "HeNormal",
}


def compute_fans(shape) -> dict:
    """Keras's ``compute_fans``: ``{"fan_in": int, "fan_out": int}`` for a kernel shape."""
    keras()  # sets the quiet environment before TensorFlow loads
    from keras.src.initializers.random_initializers import compute_fans as keras_compute_fans

    fan_in, fan_out = keras_compute_fans(tuple(int(dim) for dim in shape))
    return {"fan_in": np.int64(fan_in), "fan_out": np.int64(fan_out)}


def initializer(name: str, seed: int | None = None, **config):
    """A ``keras.initializers`` object by class name (``"GlorotNormal"``) with ``config`` (mean, stddev, ...)."""
    k = keras()
    if seed is not None:
        config = {**config, "seed": int(seed)}
    return k.initializers.get({"class_name": name, "config": config})


def initializer_distribution(name: str, shape, **config) -> dict:
    """The distribution that ``keras.initializers.<name>(**config)`` draws a kernel of ``shape`` from.

    Returns:
        ``{"family": "normal" | "truncated_normal" | "uniform", "loc": centre, "scale": the normal's
        stddev parameter or the uniform's half-width, "low": lower bound, "high": upper bound,
        "fan_in", "fan_out"}``. For the truncated normal, ``scale`` is the stddev *before*
        truncation (Keras's corrected value) and the cut is at ``loc -+ 2 scale``.
    """
    k = keras()
    init = initializer(name, **config)
    fans = compute_fans(shape)
    fan_in, fan_out = int(fans["fan_in"]), int(fans["fan_out"])
    result = {"fan_in": fan_in, "fan_out": fan_out}
    if isinstance(init, k.initializers.VarianceScaling):
        # Mirrors VarianceScaling.__call__ (keras 3.15) line by line; tests check Keras samples fit it.
        variance = float(init.scale)
        if init.mode == "fan_in":
            variance /= max(1.0, fan_in)
        elif init.mode == "fan_out":
            variance /= max(1.0, fan_out)
        else:
            variance /= max(1.0, (fan_in + fan_out) / 2.0)
        if init.distribution == "truncated_normal":
            scale = math.sqrt(variance) / TRUNCATION_STD
            result.update(family="truncated_normal", loc=0.0, scale=scale, low=-2.0 * scale, high=2.0 * scale)
        elif init.distribution == "untruncated_normal":
            result.update(family="normal", loc=0.0, scale=math.sqrt(variance), low=-math.inf, high=math.inf)
        else:
            limit = math.sqrt(3.0 * variance)
            result.update(family="uniform", loc=0.0, scale=limit, low=-limit, high=limit)
    elif isinstance(init, k.initializers.RandomNormal):
        result.update(family="normal", loc=float(init.mean), scale=float(init.stddev), low=-math.inf, high=math.inf)
    elif isinstance(init, k.initializers.TruncatedNormal):
        mean, stddev = float(init.mean), float(init.stddev)
        result.update(family="truncated_normal", loc=mean, scale=stddev, low=mean - 2 * stddev, high=mean + 2 * stddev)
    elif isinstance(init, k.initializers.RandomUniform):
        low, high = float(init.minval), float(init.maxval)
        result.update(family="uniform", loc=(low + high) / 2, scale=(high - low) / 2, low=low, high=high)
    else:
        raise ValueError(f"Expected a random Keras initializer. Received {name!r}.")
    return result


def sampler_reference(unit: str, shape, rng=None, **config) -> dict:
    """Reference of a student's sampler ``unit(shape, rng, **config)``: the Keras distribution it must match."""
    return initializer_distribution(KERAS_NAMES[unit], shape, **config)


def keras_sample(name: str, shape, seed: int, **config) -> np.ndarray:
    """A kernel of ``shape`` drawn by ``keras.initializers.<name>(seed=seed, **config)``, as float64."""
    return to_numpy(initializer(name, seed=seed, **config)(tuple(shape), dtype=F64))


# ----------------------------------------------------------------------------- the depth experiment

def keras_activation_stats(keras_name: str, depth: int, width: int, activation: str, batch_size: int,
                           seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer mean and std of the activations of a freshly initialised Keras MLP.

    ``depth`` dense layers of ``width`` units with kernels from ``keras.initializers.<keras_name>``, zero
    biases and ``keras.activations.<activation>``, in float64, applied to a standard-normal batch
    (batch_size, width). A ``Dense`` layer with a zero bias computes exactly ``activation(x @ kernel)``;
    building the layers themselves costs several times more and changes nothing.
    """
    k = keras()
    function = k.activations.get(activation)
    x = k.random.normal((batch_size, width), seed=seed, dtype=F64)
    means, stds = [], []
    for layer_index in range(depth):
        kernel = initializer(keras_name, seed=seed * 1000 + layer_index + 1)((width, width), dtype=F64)
        x = function(k.ops.matmul(x, kernel))
        values = to_numpy(x)
        means.append(values.mean())
        stds.append(values.std())
    return np.array(means), np.array(stds)


def activation_stats(init: str, depth: int, width: int, activation: str, rng=None, batch_size: int = 256,
                     repeats: int = 16) -> dict:
    """What ``activation_stats`` should return, and how much it varies from one draw to the next.

    Runs the Keras network ``repeats`` times with different seeds (``rng``, the student's generator,
    is not used: Keras draws its own numbers).

    Returns:
        ``{"means": (depth,) average per-layer mean, "stds": (depth,) geometric mean of the per-layer
        stds, "log_std_spread": (depth,) sd of the log stds across runs, "ratios": (depth,) average of
        mean / std, "ratio_spread": (depth,) its sd across runs, "runs_means", "runs_stds": (repeats, depth)}``.
        The mean is judged relative to the std because the two move together (under ReLU the mean is
        about 0.68 std whatever the scale), so mean / std varies far less than the mean does.
    """
    runs = [keras_activation_stats(KERAS_NAMES[init], depth, width, activation, batch_size, seed)
            for seed in range(1, repeats + 1)]
    means = np.array([run[0] for run in runs])
    stds = np.array([run[1] for run in runs])
    with np.errstate(divide="ignore", invalid="ignore"):
        log_stds, ratios = np.log(stds), means / stds
    return {"means": means.mean(axis=0), "stds": np.exp(log_stds.mean(axis=0)),
            "log_std_spread": log_stds.std(axis=0, ddof=1), "ratios": ratios.mean(axis=0),
            "ratio_spread": ratios.std(axis=0, ddof=1), "runs_means": means, "runs_stds": stds}
