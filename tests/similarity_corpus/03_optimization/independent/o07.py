# ruff: noqa: F821 - with_defaults is the stub's, defined in the notebook
import numpy as np


def moving_average(previous, value, rate):
    """rate * previous + (1 - rate) * value, previous None meaning zeros."""
    if previous is None:
        previous = np.zeros_like(value)
    return rate * previous + (1 - rate) * value


def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    v = config.get("velocity", 0 * w)
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    next_w = w + (config["momentum"] * v - config["learning_rate"] * dw if config["nesterov"] else v)
    return next_w, config


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    config["velocity"] = moving_average(config.get("velocity"), dw ** 2, config["rho"])
    next_w = w - config["learning_rate"] * dw / np.sqrt(config["velocity"] + config["epsilon"])
    return next_w, config


def adadelta(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.95, epsilon=1e-7)
    config["accumulated_grad"] = moving_average(config.get("accumulated_grad"), dw ** 2, config["rho"])
    previous = config.get("accumulated_delta_var", np.zeros_like(w))
    delta = np.sqrt(previous + config["epsilon"]) * dw / np.sqrt(config["accumulated_grad"] + config["epsilon"])
    config["accumulated_delta_var"] = moving_average(previous, delta ** 2, config["rho"])
    next_w = w - config["learning_rate"] * delta
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    config["t"] = config.get("t", 0) + 1
    config["m"] = moving_average(config.get("m"), dw, config["beta_1"])
    config["v"] = moving_average(config.get("v"), dw ** 2, config["beta_2"])
    t = config["t"]
    alpha = config["learning_rate"] * np.sqrt(1 - config["beta_2"] ** t) / (1 - config["beta_1"] ** t)
    next_w = w - alpha * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
    return next_w, config


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    progress = np.true_divide(step, decay_steps)
    if staircase:
        progress = np.floor(progress)
    return np.asarray(initial_learning_rate / (1 + decay_rate * progress), dtype=np.float64)
