# ruff: noqa: F821 - with_defaults is the stub's, defined in the notebook
import numpy as np


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    s = np.asarray(step).astype(np.float64)
    exponent = s // decay_steps if staircase else s / decay_steps
    return float(initial_learning_rate) * float(decay_rate) ** exponent


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    s = np.asarray(step).astype(np.float64)
    exponent = s // decay_steps if staircase else s / decay_steps
    return float(initial_learning_rate) / (1.0 + float(decay_rate) * exponent)


def sgd_momentum(w, dw, config=None):
    """Keras keeps v = momentum * v - lr * g and steps by v (or by momentum * v - lr * g with Nesterov)."""
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    v_prev = config["velocity"] if "velocity" in config else 0.0 * w
    v_new = config["momentum"] * v_prev - config["learning_rate"] * dw
    delta = config["momentum"] * v_new - config["learning_rate"] * dw if config["nesterov"] else v_new
    config["velocity"] = v_new
    next_w = w + delta
    return next_w, config


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    ms = config["velocity"] if "velocity" in config else 0.0 * w
    ms = config["rho"] * ms + (1 - config["rho"]) * dw * dw
    denom = np.sqrt(ms + config["epsilon"])
    config["velocity"] = ms
    next_w = w - config["learning_rate"] * (dw / denom)
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    first = config["m"] if "m" in config else 0.0 * w
    second = config["v"] if "v" in config else 0.0 * w
    count = config["t"] + 1 if "t" in config else 1
    first = first + (1 - config["beta_1"]) * (dw - first)
    second = second + (1 - config["beta_2"]) * (dw * dw - second)
    corrected = config["learning_rate"] * (1 - config["beta_2"] ** count) ** 0.5 / (1 - config["beta_1"] ** count)
    next_w = w - corrected * first / (second ** 0.5 + config["epsilon"])
    config.update(m=first, v=second, t=count)
    return next_w, config
