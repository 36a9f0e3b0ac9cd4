# ruff: noqa: F821 - with_defaults is the stub's, defined in the notebook
import math

import numpy as np


def _progress(step, decay_steps, staircase):
    step = np.array(step, dtype=np.float64)
    if np.any(step < 0):
        raise ValueError(f"Expected step >= 0. Received step={step}.")
    if decay_steps <= 0:
        raise ValueError(f"Expected decay_steps > 0. Received decay_steps={decay_steps}.")
    ratio = step / decay_steps
    return np.floor(ratio) if staircase else ratio


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    return initial_learning_rate / (1.0 + decay_rate * _progress(step, decay_steps, staircase))


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    return initial_learning_rate * np.power(decay_rate, _progress(step, decay_steps, staircase))


def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    if "velocity" not in config:
        config["velocity"] = np.zeros(w.shape)
    mu, eta = config["momentum"], config["learning_rate"]
    config["velocity"] = mu * config["velocity"] - eta * dw
    step = mu * config["velocity"] - eta * dw if config["nesterov"] else config["velocity"]
    next_w = w + step
    return next_w, config


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    if "velocity" not in config:
        config["velocity"] = np.zeros(w.shape)
    config["velocity"] *= config["rho"]
    config["velocity"] += (1.0 - config["rho"]) * np.square(dw)
    next_w = w - config["learning_rate"] * dw / np.sqrt(config["velocity"] + config["epsilon"])
    return next_w, config


def adadelta(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.95, epsilon=1e-7)
    for key in ("accumulated_grad", "accumulated_delta_var"):
        if key not in config:
            config[key] = np.zeros(w.shape)
    rho, eps = config["rho"], config["epsilon"]
    config["accumulated_grad"] = rho * config["accumulated_grad"] + (1.0 - rho) * np.square(dw)
    update = np.sqrt(config["accumulated_delta_var"] + eps) / np.sqrt(config["accumulated_grad"] + eps) * dw
    config["accumulated_delta_var"] = rho * config["accumulated_delta_var"] + (1.0 - rho) * np.square(update)
    next_w = w - config["learning_rate"] * update
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    for key in ("m", "v"):
        if key not in config:
            config[key] = np.zeros(w.shape)
    config["t"] = config.get("t", 0) + 1
    b1, b2, step = config["beta_1"], config["beta_2"], config["t"]
    config["m"] = b1 * config["m"] + (1.0 - b1) * dw
    config["v"] = b2 * config["v"] + (1.0 - b2) * np.square(dw)
    scale = config["learning_rate"] * math.sqrt(1.0 - b2 ** step) / (1.0 - b1 ** step)
    next_w = w - scale * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
    return next_w, config
