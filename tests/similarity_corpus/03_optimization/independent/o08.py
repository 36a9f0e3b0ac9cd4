# ruff: noqa: F821 - with_defaults is the stub's, defined in the notebook
import numpy as np


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    if np.isscalar(step):
        p = step / decay_steps
        if staircase:
            p = p // 1
        return np.float64(initial_learning_rate * decay_rate ** p)
    return np.array([exponential_decay(s, initial_learning_rate, decay_steps, decay_rate, staircase)
                     for s in np.ravel(step)]).reshape(np.shape(step))


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    if np.isscalar(step):
        p = step / decay_steps
        if staircase:
            p = p // 1
        return np.float64(initial_learning_rate / (1 + decay_rate * p))
    return np.array([inverse_time_decay(s, initial_learning_rate, decay_steps, decay_rate, staircase)
                     for s in np.ravel(step)]).reshape(np.shape(step))


def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    v = np.zeros_like(w) if config.get("velocity") is None else config["velocity"]
    updated = []
    for vi, gi in zip(v.ravel(), np.ravel(dw)):
        updated.append(config["momentum"] * vi - config["learning_rate"] * gi)
    v = np.array(updated).reshape(w.shape)
    config["velocity"] = v
    if config["nesterov"]:
        next_w = w + config["momentum"] * v - config["learning_rate"] * dw
    else:
        next_w = w + v
    return next_w, config


def rmsprop(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.9, epsilon=1e-7)
    sq = np.zeros_like(w) if config.get("velocity") is None else config["velocity"]
    sq = np.add(np.multiply(config["rho"], sq), np.multiply(1 - config["rho"], np.square(dw)))
    next_w = np.subtract(w, np.multiply(config["learning_rate"], dw) / np.sqrt(np.add(sq, config["epsilon"])))
    config["velocity"] = sq
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    mom = np.zeros_like(w) if config.get("m") is None else config["m"]
    sq = np.zeros_like(w) if config.get("v") is None else config["v"]
    iteration = config.get("t", 0) + 1
    mom = np.add(np.multiply(config["beta_1"], mom), np.multiply(1 - config["beta_1"], dw))
    sq = np.add(np.multiply(config["beta_2"], sq), np.multiply(1 - config["beta_2"], np.square(dw)))
    rate = config["learning_rate"] * np.sqrt(1 - np.power(config["beta_2"], iteration))
    rate = rate / (1 - np.power(config["beta_1"], iteration))
    next_w = np.subtract(w, rate * mom / np.add(np.sqrt(sq), config["epsilon"]))
    config["m"], config["v"], config["t"] = mom, sq, iteration
    return next_w, config
