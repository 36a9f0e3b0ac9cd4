# ruff: noqa: F821 - with_defaults is the stub's, defined in the notebook
import numpy as np


def inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    if decay_steps <= 0:
        raise ValueError("Expected decay_steps > 0. Received decay_steps=%s." % decay_steps)
    steps = np.asarray(step, dtype=np.float64)
    if staircase:
        steps = np.floor_divide(steps, decay_steps) * decay_steps
    return initial_learning_rate / (1 + decay_rate * steps / decay_steps)


def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    if decay_steps <= 0:
        raise ValueError("Expected decay_steps > 0. Received decay_steps=%s." % decay_steps)
    steps = np.asarray(step, dtype=np.float64)
    if staircase:
        steps = np.floor_divide(steps, decay_steps) * decay_steps
    return initial_learning_rate * np.exp(np.log(decay_rate) * steps / decay_steps)


def sgd_momentum(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
    vel = config.setdefault("velocity", np.zeros_like(w))
    vel = config["momentum"] * vel - config["learning_rate"] * dw
    config["velocity"] = vel
    if not config["nesterov"]:
        return w + vel, config
    next_w = w + config["momentum"] * vel - config["learning_rate"] * dw
    return next_w, config


def adadelta(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, rho=0.95, epsilon=1e-7)
    eg2 = config.setdefault("accumulated_grad", np.zeros_like(w))
    ed2 = config.setdefault("accumulated_delta_var", np.zeros_like(w))
    eg2 = config["rho"] * eg2 + (1 - config["rho"]) * dw ** 2
    rms_delta = np.sqrt(ed2 + config["epsilon"])
    rms_grad = np.sqrt(eg2 + config["epsilon"])
    delta = -(rms_delta / rms_grad) * dw
    ed2 = config["rho"] * ed2 + (1 - config["rho"]) * delta ** 2
    config["accumulated_grad"], config["accumulated_delta_var"] = eg2, ed2
    next_w = w + config["learning_rate"] * delta
    return next_w, config


def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    m = config.setdefault("m", np.zeros_like(w))
    v = config.setdefault("v", np.zeros_like(w))
    t = config.setdefault("t", 0) + 1
    m = config["beta_1"] * m + (1 - config["beta_1"]) * dw
    v = config["beta_2"] * v + (1 - config["beta_2"]) * dw ** 2
    m_hat = m / (1 - config["beta_1"] ** t)
    v_hat = v / (1 - config["beta_2"] ** t)
    eps_hat = config["epsilon"] * np.sqrt(1 - config["beta_2"] ** t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + eps_hat / np.sqrt(1 - config["beta_2"] ** t))
    config["m"], config["v"], config["t"] = m, v, t
    return next_w, config
