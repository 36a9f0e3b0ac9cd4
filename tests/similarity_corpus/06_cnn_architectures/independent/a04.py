# ruff: noqa: F821 - FILL_MODES is the stub's, defined in the notebook
import numpy as np


def dropout_forward(x, rate, training, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received rate={rate!r}.")
    if not training or rate == 0:
        return x.copy(), None
    multiplier = (rng.random(x.shape) >= rate) / (1 - rate)
    return x * multiplier, multiplier


def dropout_backward(dout, cache):
    return dout.copy() if cache is None else dout * cache


def flip_horizontal(images):
    return images[..., ::-1, :].copy()


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode among {sorted(FILL_MODES)}. Received fill_mode={fill_mode!r}.")
    if not all(isinstance(v, (int, np.integer)) for v in (dy, dx)):
        raise ValueError(f"Expected integer shifts. Received dy={dy!r}, dx={dx!r}.")
    result = images
    for axis, shift in ((1, dy), (2, dx)):
        result = _shift_axis(result, axis, shift, fill_mode, fill_value)
    return result


def _shift_axis(a, axis, shift, fill_mode, fill_value):
    if shift == 0:
        return a.copy()
    size = a.shape[axis]
    widths = [(0, 0)] * a.ndim
    widths[axis] = (shift, 0) if shift > 0 else (0, -shift)
    extra = {"constant_values": fill_value} if fill_mode == "constant" else {}
    padded = np.pad(a, widths, mode=FILL_MODES[fill_mode], **extra)
    start = 0 if shift > 0 else -shift
    return np.take(padded, np.arange(start, start + size), axis=axis)


def adjust_brightness(images, delta, value_range=(0.0, 1.0)):
    low, high = value_range
    if not low < high:
        raise ValueError(f"Expected value_range (low, high) with low < high. Received value_range={value_range!r}.")
    d = np.asarray(delta, dtype=np.float64)
    d = d.reshape(d.shape + (1,) * (images.ndim - d.ndim)) if d.ndim else d
    return (images + d * (high - low)).clip(low, high)


def build_lenet5(input_shape=(32, 32, 1), num_classes=10):
    import keras

    inputs = keras.Input(shape=input_shape)
    h = keras.layers.Conv2D(6, (5, 5), activation="tanh")(inputs)
    h = keras.layers.AveragePooling2D((2, 2))(h)
    h = keras.layers.Conv2D(16, (5, 5), activation="tanh")(h)
    h = keras.layers.AveragePooling2D((2, 2))(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(120, activation="tanh")(h)
    h = keras.layers.Dense(84, activation="tanh")(h)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(h))
