# ruff: noqa: F821 - with_defaults is the stub's, defined in the notebook
import numpy as np


def sgd(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01)
    next_w = w - config["learning_rate"] * dw
    return next_w, config


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    p = np.asarray(step, dtype=float) / decay_steps
    if staircase:
        p = np.floor(p)
    return initial_learning_rate / (1 + decay_rate * p)


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    p = np.asarray(step, dtype=float) / decay_steps
    if staircase:
        p = np.floor(p)
    return initial_learning_rate * decay_rate ** p


def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    velocity = config.get("velocity", np.zeros_like(w))
    velocity = config["momentum"] * velocity - config["learning_rate"] * dw
    if config["nesterov"]:
        next_w = w + config["momentum"] * velocity - config["learning_rate"] * dw
    else:
        next_w = w + velocity
    config["velocity"] = velocity
    return next_w, config


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    cache = config.get("velocity", np.zeros_like(w))
    cache = config["rho"] * cache + (1 - config["rho"]) * dw ** 2
    next_w = w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"])
    config["velocity"] = cache
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    t = config.get("t", 0) + 1
    m = config["beta_1"] * config.get("m", np.zeros_like(w)) + (1 - config["beta_1"]) * dw
    v = config["beta_2"] * config.get("v", np.zeros_like(w)) + (1 - config["beta_2"]) * dw ** 2
    lr_t = config["learning_rate"] * np.sqrt(1 - config["beta_2"] ** t) / (1 - config["beta_1"] ** t)
    next_w = w - lr_t * m / (np.sqrt(v) + config["epsilon"])
    config["m"] = m
    config["v"] = v
    config["t"] = t
    return next_w, config
