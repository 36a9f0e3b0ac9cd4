"""Keras references for assignment 06 (cnn_architectures): dropout, image augmentation, LeNet-5, a mini AlexNet.

- Dropout: Keras's ``Dropout`` draws its own random mask, which NumPy cannot reproduce, so the
  reference reports what every correct mask must satisfy: the scale of the kept values (measured on
  ``Dropout``'s output and gradient) and the output at ``training=False``.
- Augmentation: the deterministic core of Keras's random image layers, ``transform_images`` of
  ``RandomFlip``, ``RandomTranslation`` and ``RandomBrightness`` with a fixed transformation.
- Architectures: reference builds of LeNet-5 and the mini AlexNet, described as plain data by
  ``model_spec.describe``, the function the grader's sandboxed worker describes a student's model with.

A reference that runs a build on given weights (``architecture``, ``lenet5_logits``, and so
``lenet5_accuracy``, judged after every epoch of ``train_lenet5``) reuses one model per build and
input shape (``_built``): building costs about as much as the call (measured on LeNet-5 and 400
images: 0.27 s of 0.67 s), and every weight is set again at each use, under a lock, so the logits are
those of a fresh build, bit for bit. At ``training=False`` these models keep no other state (their
augmentation and dropout layers are the identity there).
"""

from __future__ import annotations

import copy
import functools
import threading

import numpy as np

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
    drawn for the grading (``datasets.make_glyphs``).
    """
    logits = lenet5_logits(x, weights)["logits"]
    return float(np.mean(np.argmax(logits, axis=1) == y))
