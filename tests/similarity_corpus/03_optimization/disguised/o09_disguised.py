# ruff: noqa
# Copied from o09: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def adadelta(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.95, epsilon=1e-7)
    decay, tiny = config["rho"], config["epsilon"]
    g2 = decay * config.pop("accumulated_grad", 0.0) + (1 - decay) * dw * dw
    d2 = config.pop("accumulated_delta_var", 0.0)
    upd = dw * ((d2 + tiny) / (g2 + tiny)) ** 0.5
    config["accumulated_grad"] = g2 + np.zeros_like(w)
    config["accumulated_delta_var"] = decay * d2 + (1 - decay) * upd * upd + np.zeros_like(w)
    next_w = w - config["learning_rate"] * upd
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    beta1, beta2 = config["beta_1"], config["beta_2"]
    it = config.pop("t", 0) + 1
    # first and second moments
    first = beta1 * config.pop("m", 0.0) + (1 - beta1) * dw
    second = beta2 * config.pop("v", 0.0) + (1 - beta2) * dw * dw
    next_w = w - config["learning_rate"] * (1 - beta2 ** it) ** 0.5 / (1 - beta1 ** it) * first / (
        second ** 0.5 + config["epsilon"])
    config.update({"m": first + np.zeros_like(w), "v": second + np.zeros_like(w), "t": it})
    return next_w, config


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    g2 = dw * dw
    avg = config.pop("velocity", None)
    tmp = 0
    avg = g2 * (1 - config["rho"]) if avg is None else avg * config["rho"] + g2 * (1 - config["rho"])
    next_w = w - config["learning_rate"] * dw * (avg + config["epsilon"]) ** -0.5
    config["velocity"] = avg
    return next_w, config


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    return initial_learning_rate * decay_rate ** _exponent(step, decay_steps, staircase)


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    return initial_learning_rate * np.reciprocal(1.0 + decay_rate * _exponent(step, decay_steps, staircase))


def _exponent(step, decay_steps, staircase):
    e = np.asarray(step) / np.float64(decay_steps)
    return np.floor(e) if staircase else e
