"""Keras references for assignment 06 (cnn_architectures): dropout, image augmentation, LeNet-5, a mini AlexNet.

- Dropout: Keras's ``Dropout`` draws its own random mask, which NumPy cannot reproduce, so the
  reference reports what every correct mask must satisfy: the scale of the kept values (measured on
  ``Dropout``'s output and gradient) and the output at ``training=False``.
- Augmentation: the deterministic core of Keras's random image layers, ``transform_images`` of
  ``RandomFlip``, ``RandomTranslation`` and ``RandomBrightness`` with a fixed transformation.
- Architectures: reference builds of LeNet-5 and the mini AlexNet, described as plain data by
  ``model_spec.describe``, the function the grader's sandboxed worker describes a student's model with.

A reference that runs a build on given weights (``architecture``, ``lenet5_logits``) reuses one model
per build and input shape (``_built``): building costs about as much as the call (measured on LeNet-5
and 400 images: 0.27 s of 0.67 s), and every weight is set again at each use, under a lock, so the
logits are those of a fresh build, bit for bit. At ``training=False`` these models keep no other state
(their augmentation and dropout layers are the identity there).

``lenet5_accuracy``, judged after every epoch of ``train_lenet5`` while the student's worker waits for
it, runs the same float64 LeNet-5 in NumPy from the same weights (``lenet5_numpy_logits``: equal to a
fresh build's logits to about 1e-15, checked in the tests). On the 400 held-out images it took 12-23 ms
a call where the build took 45-75 ms (TensorFlow's float64 Conv2D is slow: its first layer took 37 ms
of 61 in one measurement), 3.2-4.1x faster in nine runs of 40 interleaved calls on a two-core machine
shared with other work.
"""

from __future__ import annotations

import concurrent.futures
import copy
import functools
import threading

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dlcourse.references._keras import keras
from dlcourse.references.autodiff import to_numpy, value_and_grad
from dlcourse.autograder.engine.sandboxed.drivers.keras.model_spec import describe

F64 = "float64"
DIGIT_SIDE = 32


# ----------------------------------------------------------------------------- dropout

def dropout_forward(x, rate, training, rng=None) -> dict:
    """``{"scale": kept values / x, "eval_out": Dropout(rate)(x, training=False), "rate": rate}``."""
    layer = keras().layers.Dropout(rate, seed=7, dtype=F64)
    kept = to_numpy(layer(np.ones(4096), training=True))
    scale = float(kept.max()) if rate > 0 else 1.0
    return {"scale": scale, "eval_out": to_numpy(layer(x, training=False)), "rate": float(rate)}


def dropout_backward(x, rate, training, rng, dout) -> dict:
    """The gradient of ``sum(Dropout(x) * dout)``: ``{"scale": dx / dout where kept, "eval_dx": at training=False}``."""
    layer = keras().layers.Dropout(rate, seed=7, dtype=F64)
    ops = keras().ops
    _, (kept,) = value_and_grad(lambda x_: ops.sum(layer(x_, training=True)), np.zeros(4096))
    _, (eval_dx,) = value_and_grad(lambda x_: ops.sum(layer(x_, training=False) * dout), x)
    scale = float(kept.max()) if rate > 0 else 1.0
    return {"scale": scale, "eval_dx": eval_dx, "rate": float(rate)}


# ----------------------------------------------------------------------------- augmentation

def flip_horizontal(images) -> dict:
    """``RandomFlip("horizontal")`` with every image flipped: ``{"out": images.shape}``."""
    layer = keras().layers.RandomFlip("horizontal", dtype=F64)
    flips = np.ones((images.shape[0], 1, 1, 1), dtype=bool)
    return {"out": to_numpy(layer.transform_images(images, {"flips": flips, "input_shape": images.shape}))}


def translate(images, dy, dx, fill_mode="constant", fill_value=0.0) -> dict:
    """``RandomTranslation`` by ``dy`` pixels down and ``dx`` right, nearest interpolation: ``{"out"}``."""
    layer = keras().layers.RandomTranslation(0.0, 0.0, fill_mode=fill_mode, fill_value=fill_value,
                                             interpolation="nearest", dtype=F64)
    shifts = np.tile(np.array([[dx, dy]], dtype="float32"), (images.shape[0], 1))
    out = layer.transform_images(images, {"translations": shifts, "input_shape": images.shape}, training=True)
    return {"out": to_numpy(out)}


def adjust_brightness(images, delta, value_range=(0.0, 1.0)) -> dict:
    """``RandomBrightness`` with the adjustment fixed at ``delta`` (a fraction of the value range; a number
    or one per image): ``{"out"}``, clipped to ``value_range``."""
    low, high = value_range
    layer = keras().layers.RandomBrightness(0.1, value_range=value_range, dtype=F64)
    rgb_delta = np.broadcast_to(np.asarray(delta, dtype=np.float64).reshape(-1, 1, 1, 1),
                                (images.shape[0], 1, 1, 1)) * (high - low)
    return {"out": to_numpy(layer.transform_images(images, {"rgb_delta": rgb_delta}, training=True))}


# ----------------------------------------------------------------------------- architectures

def build_lenet5(input_shape=(32, 32, 1), num_classes=10, dtype=None, activation="tanh", pooling="average",
                 flatten="hwc"):
    """LeNet-5 as the notebook specifies it (tanh, average pooling, logits out).

    ``activation``, ``pooling`` ("average"/"max") and ``flatten`` ("hwc"/"chw") make the variants the
    grader uses to recognise mistakes.
    """
    k = keras()
    L = k.layers
    pool = L.AveragePooling2D if pooling == "average" else L.MaxPooling2D
    layers = [k.Input(input_shape, dtype=dtype),
              L.Conv2D(6, 5, activation=activation, dtype=dtype), pool(2, dtype=dtype),
              L.Conv2D(16, 5, activation=activation, dtype=dtype), pool(2, dtype=dtype)]
    if flatten == "chw":
        layers.append(L.Permute((3, 1, 2), dtype=dtype))
    layers += [L.Flatten(dtype=dtype), L.Dense(120, activation=activation, dtype=dtype),
               L.Dense(84, activation=activation, dtype=dtype), L.Dense(num_classes, dtype=dtype)]
    return k.Sequential(layers, name="lenet5")


def build_mini_alexnet(input_shape=(32, 32, 1), num_classes=10, dtype=None):
    """The notebook's mini AlexNet: augmentation, five ReLU convolutions, overlapping max pooling, dropout."""
    k = keras()
    L = k.layers
    return k.Sequential([
        k.Input(input_shape, dtype=dtype),
        L.RandomTranslation(0.1, 0.1, fill_mode="constant", dtype=dtype),
        L.RandomBrightness(0.2, value_range=(0.0, 1.0), dtype=dtype),
        L.Conv2D(32, 5, padding="same", activation="relu", dtype=dtype),
        L.MaxPooling2D(3, strides=2, padding="same", dtype=dtype),
        L.Conv2D(64, 3, padding="same", activation="relu", dtype=dtype),
        L.MaxPooling2D(3, strides=2, padding="same", dtype=dtype),
        L.Conv2D(96, 3, padding="same", activation="relu", dtype=dtype),
        L.Conv2D(96, 3, padding="same", activation="relu", dtype=dtype),
        L.Conv2D(64, 3, padding="same", activation="relu", dtype=dtype),
        L.MaxPooling2D(3, strides=2, padding="same", dtype=dtype),
        L.Flatten(dtype=dtype),
        L.Dense(256, activation="relu", dtype=dtype),
        L.Dropout(0.5, dtype=dtype),
        L.Dense(256, activation="relu", dtype=dtype),
        L.Dropout(0.5, dtype=dtype),
        L.Dense(num_classes, dtype=dtype),
    ], name="mini_alexnet")


BUILDERS = {"build_lenet5": build_lenet5, "build_mini_alexnet": build_mini_alexnet}
__all__ = ["describe"]  # re-exported: the tests describe their models as the references do


def architecture(unit: str, input_shape, num_classes, weights=None, x=None) -> dict:
    """The reference build of ``unit`` described as plain data; with ``weights`` and ``x``, also its logits."""
    built = _built(unit, tuple(int(size) for size in input_shape), int(num_classes))
    value = copy.deepcopy(built.description)
    if weights is not None:
        value["output"] = built.logits(weights, x)
    return value


def lenet5_logits(x, params, **variant) -> dict:
    """Logits of the reference LeNet-5 (float64) with weights ``params`` in ``get_weights()`` order: ``{"logits"}``.

    The reference of ``lenet5_forward``.
    """
    built = _built("build_lenet5", tuple(int(size) for size in x.shape[1:]), int(params[-1].shape[0]),
                   tuple(sorted(variant.items())))
    return {"logits": built.logits(list(params), x)}


class _Built:
    """A float64 reference build, reused: ``logits(weights, x)`` sets every weight, then calls it (one caller at
    a time: a Dask worker may grade in threads)."""

    def __init__(self, model):
        self.model, self._lock = model, threading.Lock()

    @functools.cached_property
    def description(self) -> dict:
        return describe(self.model)

    def logits(self, weights, x) -> np.ndarray:
        with self._lock:
            self.model.set_weights(weights)  # all of them, or it raises
            return to_numpy(self.model(x, training=False))


@functools.lru_cache(maxsize=32)  # a few MB each (the mini AlexNet: 0.5 M float64 weights)
def _built(unit: str, input_shape: tuple, num_classes: int, variant: tuple = ()) -> _Built:
    """The float64 reference build of ``unit`` for these sizes (a LeNet-5 ``variant``: ``build_lenet5``'s keywords)."""
    return _Built(BUILDERS[unit](input_shape, num_classes, dtype=F64, **dict(variant)))


def lenet5_accuracy(weights, x, y) -> float:
    """Share of ``x`` whose largest logit is the label ``y``, for the reference LeNet-5 with ``weights``.

    ``train_lenet5`` is graded by this accuracy of the weights it returns on the held-out images of a task
    drawn for the grading (``datasets.make_glyphs``). The logits are ``lenet5_numpy_logits``'s.
    """
    logits = lenet5_numpy_logits(x, weights)
    return float(np.mean(np.argmax(logits, axis=1) == y))


def lenet5_numpy_logits(x, params) -> np.ndarray:
    """``lenet5_logits(x, params)["logits"]`` computed in NumPy, float64, from the same weights: the reference
    LeNet-5 (tanh, average pooling, Flatten in height, width, channels order), without Keras.

    Equal to the Keras build's logits to about 1e-15 (checked in the tests). Half the images go to a thread
    of its own (NumPy lets go of the GIL in its loops and products), the rest stay on the caller's; it keeps
    no state, so several threads may call it at once.
    """
    w = [np.asarray(array, np.float64) for array in params]
    if len(w) != 10:
        raise ValueError(f"Expected LeNet-5's 10 weights in get_weights() order. Received {len(w)} arrays.")
    x = np.asarray(x, np.float64)
    if len(x) < 2 * IMAGES_PER_BLOCK:
        return _lenet5_numpy(x, w)
    half = len(x) // 2
    with concurrent.futures.ThreadPoolExecutor(1) as other:
        first = other.submit(_lenet5_numpy, x[:half], w)
        second = _lenet5_numpy(x[half:], w)
        return np.concatenate([first.result(), second])


IMAGES_PER_BLOCK = 25  # a block's patches (4 MB for LeNet-5's first layer) stay near the cache


def _lenet5_numpy(x, w) -> np.ndarray:
    """``lenet5_numpy_logits`` on one thread, ``IMAGES_PER_BLOCK`` images at a time. Every matrix product is one
    image's (the Dense layers': five rows'): OpenBLAS runs products this small on the calling thread; its
    threaded ones, on a block at once, ran 4-18x slower when the machine's two cores were busy."""
    features = []
    for start in range(0, len(x), IMAGES_PER_BLOCK):
        h = _average_pool(_conv_tanh(x[start:start + IMAGES_PER_BLOCK], w[0], w[1]))
        features.append(_average_pool(_conv_tanh(h, w[2], w[3])).reshape(len(h), -1))
    h = np.concatenate(features)
    h = np.pad(h, ((0, -len(h) % 5), (0, 0))).reshape(-1, 5, h.shape[1])
    for kernel, bias in zip(w[4:8:2], w[5:8:2]):
        h = np.tanh(h @ kernel + bias)
    return (h @ w[8] + w[9]).reshape(-1, w[9].shape[0])[:len(x)]


def _conv_tanh(h, kernel, bias) -> np.ndarray:
    """``tanh(Conv2D(h) + bias)`` ("valid", stride 1) of images ``h`` (N, H, W, C): (N, H', W', F).

    The patch matrix is copied so that the copy reads runs of adjacent values: with one channel, its rows
    are a kernel tap's rows of pixels, (kh kw, H' W'); with several, a window's rows, (H' W', kh kw C).
    """
    kh, kw, channels, filters = kernel.shape
    n, height, width, _ = h.shape
    windows = sliding_window_view(np.ascontiguousarray(h), (kh, kw), axis=(1, 2))  # (N, H', W', C, kh, kw)
    if channels == 1:
        patches = windows.transpose(0, 4, 5, 3, 1, 2).reshape(n, kh * kw, -1)
        z = (kernel.reshape(-1, filters).T @ patches).transpose(0, 2, 1)
    else:
        patches = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n, -1, kh * kw * channels)
        z = patches @ kernel.reshape(-1, filters)
    z += bias
    return np.tanh(z, out=z).reshape(n, height - kh + 1, width - kw + 1, filters)


def _average_pool(h) -> np.ndarray:
    """``AveragePooling2D(2)`` of images ``h`` (N, H, W, C): an odd last row or column is dropped, as in Keras."""
    h = h[:, :h.shape[1] // 2 * 2, :h.shape[2] // 2 * 2]
    h = h[:, 0::2] + h[:, 1::2]
    return (h[:, :, 0::2] + h[:, :, 1::2]) * 0.25
