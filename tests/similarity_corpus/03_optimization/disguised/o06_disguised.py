# ruff: noqa
# Copied from o06: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    alpha, beta1, beta2, tiny = config["learning_rate"], config["beta_1"], config["beta_2"], config["epsilon"]
    mom, sec = config.get("m"), config.get("v")
    if mom is None:
        mom, sec = np.zeros_like(w, dtype=np.float64), np.zeros_like(w, dtype=np.float64)
    step = int(config.get("t", 0)) + 1
    mom = beta1 * mom + (1 - beta1) * dw
    sec = beta2 * sec + (1 - beta2) * (dw * dw)
    next_w = w - alpha * ((1 - beta2 ** step) ** 0.5 / (1 - beta1 ** step)) * mom / (sec ** 0.5 + tiny)
    config["m"], config["v"], config["t"] = mom, sec, step
    return next_w, config


def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    eta = config["learning_rate"]
    mu = config["momentum"]
    prev = config.get("velocity")
    if prev is None:
        prev = np.zeros_like(w, dtype=np.float64)
    vel = mu * prev - eta * dw
    config["velocity"] = vel
    if config["nesterov"]:
        # look ahead
        return w + mu * vel - eta * dw, config
    next_w = w + vel
    return next_w, config


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    s = np.asarray(step, np.float64)
    e = np.floor(s / decay_steps) if staircase else s / decay_steps
    return np.float64(initial_learning_rate) * np.float64(decay_rate) ** e


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    s = np.asarray(step, np.float64)
    e = np.floor(s / decay_steps) if staircase else s / decay_steps
    denom = 1.0 + decay_rate * e
    return np.float64(initial_learning_rate) / denom


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    eta, r, tiny = config["learning_rate"], config["rho"], config["epsilon"]
    ms = config.get("velocity")
    if ms is None:
        ms = np.zeros_like(w, dtype=np.float64)
    ms = r * ms + (1 - r) * (dw * dw)
    config["velocity"] = ms
    if False:
        print("rmsprop", ms.mean())
    next_w = w - eta * dw / (ms + tiny) ** 0.5
    return next_w, config
