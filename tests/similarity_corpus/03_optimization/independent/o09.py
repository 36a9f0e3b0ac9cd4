# ruff: noqa: F821 - with_defaults is the stub's, defined in the notebook
import numpy as np


def _schedule_exponent(step, decay_steps, staircase):
    exponent = np.asarray(step) / np.float64(decay_steps)
    return np.floor(exponent) if staircase else exponent


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    return initial_learning_rate * np.reciprocal(1.0 + decay_rate * _schedule_exponent(step, decay_steps, staircase))


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    return initial_learning_rate * decay_rate ** _schedule_exponent(step, decay_steps, staircase)


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    grad_sq = dw * dw
    running = config.pop("velocity", None)
    running = grad_sq * (1 - config["rho"]) if running is None else running * config["rho"] + grad_sq * (1 - config["rho"])
    next_w = w - config["learning_rate"] * dw * (running + config["epsilon"]) ** -0.5
    config["velocity"] = running
    return next_w, config


def adadelta(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.95, epsilon=1e-7)
    r, e = config["rho"], config["epsilon"]
    grad_avg = r * config.pop("accumulated_grad", 0.0) + (1 - r) * dw * dw
    delta_avg = config.pop("accumulated_delta_var", 0.0)
    change = dw * ((delta_avg + e) / (grad_avg + e)) ** 0.5
    config["accumulated_grad"] = grad_avg + np.zeros_like(w)
    config["accumulated_delta_var"] = r * delta_avg + (1 - r) * change * change + np.zeros_like(w)
    next_w = w - config["learning_rate"] * change
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    b1, b2 = config["beta_1"], config["beta_2"]
    n = config.pop("t", 0) + 1
    mean = b1 * config.pop("m", 0.0) + (1 - b1) * dw
    var = b2 * config.pop("v", 0.0) + (1 - b2) * dw * dw
    next_w = w - config["learning_rate"] * (1 - b2 ** n) ** 0.5 / (1 - b1 ** n) * mean / (var ** 0.5 + config["epsilon"])
    config.update({"m": mean + np.zeros_like(w), "v": var + np.zeros_like(w), "t": n})
    return next_w, config
