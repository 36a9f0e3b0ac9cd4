# ruff: noqa: F821 - with_defaults is the stub's, defined in the notebook
import numpy as np


def sgd(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01)
    next_w = np.add(w, -config["learning_rate"] * dw)
    return next_w, config


def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    prev_velocity = config.get("velocity", np.zeros(np.shape(w)))
    velocity = -config["learning_rate"] * dw + config["momentum"] * prev_velocity
    config["velocity"] = velocity
    lookahead = config["momentum"] * velocity - config["learning_rate"] * dw
    next_w = w + np.where(config["nesterov"], lookahead, velocity)
    return next_w, config


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    mean_square = config.get("velocity", np.zeros(np.shape(w)))
    mean_square = mean_square + (1 - config["rho"]) * (dw ** 2 - mean_square)
    config["velocity"] = mean_square
    next_w = w - config["learning_rate"] / np.sqrt(mean_square + config["epsilon"]) * dw
    return next_w, config


def adadelta(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.95, epsilon=1e-7)
    grad_ms = config.get("accumulated_grad", np.zeros(np.shape(w)))
    step_ms = config.get("accumulated_delta_var", np.zeros(np.shape(w)))
    grad_ms = grad_ms + (1 - config["rho"]) * (dw ** 2 - grad_ms)
    ratio = np.sqrt(step_ms + config["epsilon"]) / np.sqrt(grad_ms + config["epsilon"])
    step = -ratio * dw
    step_ms = step_ms + (1 - config["rho"]) * (step ** 2 - step_ms)
    config["accumulated_grad"] = grad_ms
    config["accumulated_delta_var"] = step_ms
    next_w = w + config["learning_rate"] * step
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    first_moment = config.get("m", np.zeros(np.shape(w)))
    second_moment = config.get("v", np.zeros(np.shape(w)))
    steps_taken = config.get("t", 0) + 1
    first_moment = first_moment + (1 - config["beta_1"]) * (dw - first_moment)
    second_moment = second_moment + (1 - config["beta_2"]) * (dw ** 2 - second_moment)
    corrected_rate = config["learning_rate"] * np.sqrt(1 - config["beta_2"] ** steps_taken)
    corrected_rate /= 1 - config["beta_1"] ** steps_taken
    next_w = w - corrected_rate * first_moment / (np.sqrt(second_moment) + config["epsilon"])
    config["m"], config["v"], config["t"] = first_moment, second_moment, steps_taken
    return next_w, config


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    ratio = np.asarray(step, dtype=np.float64) / decay_steps
    ratio = np.floor(ratio) if staircase else ratio
    return initial_learning_rate / (1 + decay_rate * ratio)


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    ratio = np.asarray(step, dtype=np.float64) / decay_steps
    ratio = np.floor(ratio) if staircase else ratio
    return initial_learning_rate * decay_rate ** ratio
