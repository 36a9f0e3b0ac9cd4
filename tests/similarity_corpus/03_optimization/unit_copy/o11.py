# ruff: noqa
# copies adam from o08 (renamed, reformatted, comments and a dead statement); the rest is o11's own.
import numpy as np


def sgd(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01)
    lr = config["learning_rate"]
    next_w = w - dw * lr
    return next_w, config


def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    buf = config["velocity"] if "velocity" in config else np.zeros_like(w)
    buf = buf * config["momentum"] - dw * config["learning_rate"]
    config["velocity"] = buf
    grad_step = buf
    if config["nesterov"]:
        grad_step = buf * config["momentum"] - dw * config["learning_rate"]
    next_w = w + grad_step
    return next_w, config


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    acc = config["velocity"] if "velocity" in config else np.zeros_like(w)
    acc = acc * config["rho"] + dw * dw * (1 - config["rho"])
    config["velocity"] = acc
    next_w = w - dw * config["learning_rate"] / np.sqrt(acc + config["epsilon"])
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    # moments start at zero
    m1 = np.zeros_like(w) if config.get("m") is None else config["m"]
    m2 = np.zeros_like(w) if config.get("v") is None else config["v"]
    k = config.get("t", 0) + 1
    m1 = np.add(np.multiply(config["beta_1"], m1),
                np.multiply(1 - config["beta_1"], dw))
    m2 = np.add(np.multiply(config["beta_2"], m2),
                np.multiply(1 - config["beta_2"], np.square(dw)))
    unused = k * 2
    step_size = config["learning_rate"] * np.sqrt(1 - np.power(config["beta_2"], k))
    step_size = step_size / (1 - np.power(config["beta_1"], k))
    next_w = np.subtract(w, step_size * m1 / np.add(np.sqrt(m2), config["epsilon"]))
    config["m"], config["v"], config["t"] = m1, m2, k
    return next_w, config


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    arr = np.asarray(step, dtype=np.float64)
    if staircase:
        arr = (arr // decay_steps) * decay_steps
    return initial_learning_rate / (decay_rate * arr / decay_steps + 1.0)
