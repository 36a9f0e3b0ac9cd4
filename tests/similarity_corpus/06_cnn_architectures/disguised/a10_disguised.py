# ruff: noqa
# Copied from a10: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def build_lenet5(input_shape=(32, 32, 1), num_classes=10):
    import keras
    from keras import layers

    net = keras.Sequential([layers.Input(input_shape),
                            layers.Conv2D(6, 5, padding="valid", activation="tanh"), layers.AvgPool2D(),
                            layers.Conv2D(16, 5, padding="valid", activation="tanh"), layers.AvgPool2D(),
                            layers.Flatten(), layers.Dense(120, activation="tanh"),
                            layers.Dense(84, activation="tanh"), layers.Dense(num_classes, activation=None)])
    return net


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    ds = np.broadcast_to(delta, (len(images),))
    return np.stack([np.clip(im + k * (high - low), low, high) for im, k in zip(images, ds)])


def shift_one(img, dy, dx, mode, value):
    hh, ww, _ = img.shape
    pads = ((max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0)), (0, 0))
    # constant needs its value, the other modes do not take one
    if mode == "constant":
        bigger = np.pad(img, pads, constant_values=value)
    else:
        bigger = np.pad(img, pads, mode=FILL_MODES[mode])
    return bigger[pads[0][1]:pads[0][1] + hh, pads[1][1]:pads[1][1] + ww]


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    return np.stack([shift_one(im, dy, dx, fill_mode, fill_value) for im in images])


def flip_horizontal(images):
    return np.stack([im[:, ::-1] for im in images])


def dropout_backward(dout, cache):
    if cache[0] == "off":
        return dout.copy()
    _, survived, p = cache
    g = np.zeros_like(dout, dtype=float)
    g[survived] = dout[survived] / (1 - p)
    return g


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    if training is False:
        return x.copy(), ("off",)
    u = rng.random(x.shape)
    y = np.zeros_like(x, dtype=float)
    survived = u >= rate
    unused = u.mean()
    y[survived] = x[survived] / (1 - rate)
    return y, ("on", survived, rate)
