# ruff: noqa: F821 - with_defaults is the stub's, defined in the notebook
import numpy as np


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    t = np.asarray(step, np.float64)
    frac = np.floor(t / decay_steps) if staircase else t / decay_steps
    denominator = 1.0 + decay_rate * frac
    return np.float64(initial_learning_rate) / denominator


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    t = np.asarray(step, np.float64)
    frac = np.floor(t / decay_steps) if staircase else t / decay_steps
    return np.float64(initial_learning_rate) * np.float64(decay_rate) ** frac


def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    lr = config["learning_rate"]
    beta = config["momentum"]
    old = config.get("velocity")
    if old is None:
        old = np.zeros_like(w, dtype=np.float64)
    new = beta * old - lr * dw
    config["velocity"] = new
    if config["nesterov"]:
        return w + beta * new - lr * dw, config
    next_w = w + new
    return next_w, config


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    lr, decay, eps = config["learning_rate"], config["rho"], config["epsilon"]
    avg = config.get("velocity")
    if avg is None:
        avg = np.zeros_like(w, dtype=np.float64)
    avg = decay * avg + (1 - decay) * (dw * dw)
    config["velocity"] = avg
    next_w = w - lr * dw / (avg + eps) ** 0.5
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    lr, b1, b2, eps = config["learning_rate"], config["beta_1"], config["beta_2"], config["epsilon"]
    m, v = config.get("m"), config.get("v")
    if m is None:
        m, v = np.zeros_like(w, dtype=np.float64), np.zeros_like(w, dtype=np.float64)
    t = int(config.get("t", 0)) + 1
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * (dw * dw)
    next_w = w - lr * ((1 - b2 ** t) ** 0.5 / (1 - b1 ** t)) * m / (v ** 0.5 + eps)
    config["m"], config["v"], config["t"] = m, v, t
    return next_w, config
