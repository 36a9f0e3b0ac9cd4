# ruff: noqa: F821 - with_defaults is the stub's, defined in the notebook
import numpy as np


class State:
    """Reads and writes an optimizer's state arrays in the config dict, zeros the first time."""

    def __init__(self, config, like):
        self.config, self.like = config, like

    def __getitem__(self, key):
        return self.config[key] if key in self.config else np.zeros_like(self.like)

    def __setitem__(self, key, value):
        self.config[key] = value


def sgd(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01)
    next_w = w.copy()
    next_w -= config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    state = State(config, w)
    state["velocity"] = config["momentum"] * state["velocity"] - config["learning_rate"] * dw
    if config["nesterov"]:
        next_w = w - config["learning_rate"] * dw + config["momentum"] * state["velocity"]
    else:
        next_w = w + state["velocity"]
    return next_w, config


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    state = State(config, w)
    state["velocity"] = config["rho"] * state["velocity"] + (1 - config["rho"]) * np.power(dw, 2)
    next_w = w - config["learning_rate"] * dw / np.sqrt(state["velocity"] + config["epsilon"])
    return next_w, config


def adadelta(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.95, epsilon=1e-7)
    state, rho, eps = State(config, w), config["rho"], config["epsilon"]
    state["accumulated_grad"] = rho * state["accumulated_grad"] + (1 - rho) * np.power(dw, 2)
    step = dw * np.sqrt((state["accumulated_delta_var"] + eps) / (state["accumulated_grad"] + eps))
    state["accumulated_delta_var"] = rho * state["accumulated_delta_var"] + (1 - rho) * np.power(step, 2)
    next_w = w - config["learning_rate"] * step
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    state = State(config, w)
    config["t"] = config.get("t", 0) + 1
    state["m"] = config["beta_1"] * state["m"] + (1 - config["beta_1"]) * dw
    state["v"] = config["beta_2"] * state["v"] + (1 - config["beta_2"]) * np.power(dw, 2)
    bias = np.sqrt(1 - np.power(config["beta_2"], config["t"])) / (1 - np.power(config["beta_1"], config["t"]))
    next_w = w - config["learning_rate"] * bias * state["m"] / (np.sqrt(state["v"]) + config["epsilon"])
    return next_w, config


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    p = np.divide(step, decay_steps, dtype=np.float64)
    return initial_learning_rate * np.power(decay_rate, np.floor(p) if staircase else p)
