# ruff: noqa: F821 - FILL_MODES is the stub's, defined in the notebook
import numpy as np


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    if training is False:
        return x.copy(), ("off",)
    bits = rng.random(x.shape)
    out = np.zeros_like(x, dtype=float)
    kept = bits >= rate
    out[kept] = x[kept] / (1 - rate)
    return out, ("on", kept, rate)


def dropout_backward(dout, cache):
    if cache[0] == "off":
        return dout.copy()
    _, kept, rate = cache
    dx = np.zeros_like(dout, dtype=float)
    dx[kept] = dout[kept] / (1 - rate)
    return dx


def flip_horizontal(images):
    return np.stack([image[:, ::-1] for image in images])


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    return np.stack([_move(image, dy, dx, fill_mode, fill_value) for image in images])


def _move(image, dy, dx, fill_mode, fill_value):
    h, w, _ = image.shape
    widths = ((max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0)), (0, 0))
    if fill_mode == "constant":
        grown = np.pad(image, widths, constant_values=fill_value)
    else:
        grown = np.pad(image, widths, mode=FILL_MODES[fill_mode])
    return grown[widths[0][1]:widths[0][1] + h, widths[1][1]:widths[1][1] + w]


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    per = np.broadcast_to(delta, (len(images),))
    return np.stack([np.clip(img + d * (high - low), low, high) for img, d in zip(images, per)])


def build_lenet5(input_shape=(32, 32, 1), num_classes=10):
    import keras
    from keras import layers

    return keras.Sequential([
        layers.Input(input_shape),
        layers.Conv2D(6, 5, padding="valid", activation="tanh"),
        layers.AvgPool2D(),
        layers.Conv2D(16, 5, padding="valid", activation="tanh"),
        layers.AvgPool2D(),
        layers.Flatten(),
        layers.Dense(120, activation="tanh"),
        layers.Dense(84, activation="tanh"),
        layers.Dense(num_classes, activation=None),
    ])
