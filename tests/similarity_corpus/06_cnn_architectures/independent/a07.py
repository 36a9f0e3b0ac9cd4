# ruff: noqa: F821 - FILL_MODES is the stub's, defined in the notebook
import numpy as np


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    if training:
        u = rng.random(x.shape)
        m = (u > rate) | (u == rate)
        s = 1 / (1 - rate)
        out = x * m * s
    else:
        m, s = None, 1
        out = x.copy()
    cache = m, s
    return out, cache


def dropout_backward(dout, cache):
    m, s = cache
    return dout.copy() if m is None else dout * m * s


def flip_horizontal(images):
    idx = np.arange(images.shape[2])[::-1]
    return np.take(images, idx, axis=2)


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    mode = FILL_MODES[fill_mode]
    H, W = images.shape[1], images.shape[2]
    up, down = (dy, 0) if dy >= 0 else (0, -dy)
    lft, rgt = (dx, 0) if dx >= 0 else (0, -dx)
    if mode == "constant":
        p = np.pad(images, [(0, 0), (up, down), (lft, rgt), (0, 0)], mode, constant_values=fill_value)
    else:
        p = np.pad(images, [(0, 0), (up, down), (lft, rgt), (0, 0)], mode)
    return p[:, down:down + H, rgt:rgt + W]


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    amount = np.multiply(delta, high - low)
    if np.ndim(amount) == 1:
        amount = np.expand_dims(amount, (1, 2, 3))
    return np.clip(np.add(images, amount), low, high)


def build_lenet5(input_shape=(32, 32, 1), num_classes=10):
    import keras

    model = keras.Sequential(name="lenet")
    model.add(keras.Input(shape=input_shape))
    for filters in (6, 16):
        model.add(keras.layers.Conv2D(filters, kernel_size=5, activation="tanh"))
        model.add(keras.layers.AveragePooling2D(pool_size=2))
    model.add(keras.layers.Flatten())
    for units in (120, 84):
        model.add(keras.layers.Dense(units, activation="tanh"))
    model.add(keras.layers.Dense(num_classes))
    return model
