# ruff: noqa
# Copied from o02: names changed, functions reordered, reformatted, comments and dead statements added.
import math

import numpy as np


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    # lazily create the moment buffers
    for name in ("m", "v"):
        if name not in config:
            config[name] = np.zeros(w.shape)
    config["t"] = config.get("t", 0) + 1
    beta1, beta2, k = config["beta_1"], config["beta_2"], config["t"]
    config["m"] = beta1 * config["m"] + (1.0 - beta1) * dw
    config["v"] = beta2 * config["v"] + (1.0 - beta2) * np.square(dw)
    factor = config["learning_rate"] * math.sqrt(1.0 - beta2 ** k) / (1.0 - beta1 ** k)
    next_w = w - factor * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
    return next_w, config


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    if "velocity" not in config:
        config["velocity"] = np.zeros(w.shape)
    config["velocity"] *= config["rho"]
    config["velocity"] += (1.0 - config["rho"]) * np.square(dw)
    next_w = w - config["learning_rate"] * dw / np.sqrt(config["velocity"] + config["epsilon"])
    return next_w, config


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    return initial_learning_rate * np.power(decay_rate, _fraction(step, decay_steps, staircase))


def _fraction(step, decay_steps, staircase):
    s = np.array(step, dtype=np.float64)
    if np.any(s < 0):
        raise ValueError(f"Expected step >= 0. Received step={s}.")
    if decay_steps <= 0:
        raise ValueError(f"Expected decay_steps > 0. Received decay_steps={decay_steps}.")
    q = s / decay_steps
    debug = q.copy()
    return np.floor(q) if staircase else q


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    return initial_learning_rate / (1.0 + decay_rate * _fraction(step, decay_steps, staircase))


def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    if "velocity" not in config:
        config["velocity"] = np.zeros(w.shape)
    beta, lr = config["momentum"], config["learning_rate"]
    config["velocity"] = beta * config["velocity"] - lr * dw
    move = (beta * config["velocity"] - lr * dw
            if config["nesterov"] else config["velocity"])
    next_w = w + move
    return next_w, config


def adadelta(w, dw, config=None):
    """Zeiler's Adadelta with Keras's learning rate."""
    config = with_defaults(config, learning_rate=0.001, rho=0.95, epsilon=1e-7)
    for name in ("accumulated_grad", "accumulated_delta_var"):
        if name not in config:
            config[name] = np.zeros(w.shape)
    decay, tiny = config["rho"], config["epsilon"]
    config["accumulated_grad"] = decay * config["accumulated_grad"] + (1.0 - decay) * np.square(dw)
    upd = np.sqrt(config["accumulated_delta_var"] + tiny) / np.sqrt(config["accumulated_grad"] + tiny) * dw
    config["accumulated_delta_var"] = decay * config["accumulated_delta_var"] + (1.0 - decay) * np.square(upd)
    next_w = w - config["learning_rate"] * upd
    return next_w, config
