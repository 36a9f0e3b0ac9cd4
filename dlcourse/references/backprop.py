"""Keras references for assignment 01 (backprop): layers, activations, losses, an MLP.

Each function takes the same NumPy inputs as the student's unit and returns a dict of named
float64 outputs. Gradients come from automatic differentiation of the Keras computation (never
from a hand-written formula), weights are injected with ``stateless_call``.
"""

from __future__ import annotations

import numpy as np

from dlcourse.references._keras import keras
from dlcourse.references.autodiff import layer_backward, to_numpy, value_and_grad

F64 = "float64"


def _dense(units: int, activation=None):
    layer = keras().layers.Dense(units, activation=activation, dtype=F64)
    return layer


def dense_forward(x, w, b) -> dict:
    """``Dense`` with kernel ``w`` (D, M) and bias ``b`` (M,) on ``x`` (N, D): ``{"out": (N, M)}``."""
    layer = _dense(w.shape[1])
    layer.build(x.shape)
    out, _ = layer.stateless_call([w, b], [], x)
    return {"out": to_numpy(out)}


def dense_backward(x, w, b, dout) -> dict:
    """Gradients of ``sum(Dense(x) * dout)``: ``{"dx": (N, D), "dw": (D, M), "db": (M,)}``."""
    layer = _dense(w.shape[1])
    layer.build(x.shape)
    dx, dw, db = layer_backward(layer, [w, b], x, dout)
    return {"dx": dx, "dw": dw, "db": db}


def activation_forward(name: str, x) -> dict:
    """``keras.activations.<name>(x)``: ``{"out": x.shape}``.

    The reference of ``sigmoid_forward``, ``relu_forward`` and ``tanh_forward``.
    """
    return {"out": to_numpy(getattr(keras().activations, name)(x))}


def activation_backward(name: str, x, dout) -> dict:
    """Gradient of ``sum(activation(x) * dout)`` with respect to ``x``: ``{"dx": x.shape}``.

    The reference of ``sigmoid_backward``, ``relu_backward`` and ``tanh_backward``.
    """
    function = getattr(keras().activations, name)
    _, (dx,) = value_and_grad(lambda x_: keras().ops.sum(function(x_) * dout), x)
    return {"dx": dx}


def binary_crossentropy(logits, y) -> dict:
    """``BinaryCrossentropy(from_logits=True)``, mean over (N,): ``{"loss": (), "dlogits": (N,)}``."""
    loss = keras().losses.BinaryCrossentropy(from_logits=True, dtype=F64)
    value, (dlogits,) = value_and_grad(lambda z: loss(np.asarray(y, np.float64), z), logits)
    return {"loss": value, "dlogits": dlogits}


def softmax_crossentropy(logits, labels) -> dict:
    """``SparseCategoricalCrossentropy(from_logits=True)``, mean: ``{"loss": (), "dlogits": (N, C)}``."""
    loss = keras().losses.SparseCategoricalCrossentropy(from_logits=True, dtype=F64)
    value, (dlogits,) = value_and_grad(lambda z: loss(np.asarray(labels), z), logits)
    return {"loss": value, "dlogits": dlogits}


def cubic_sine_gradient(x, c, d, h=None) -> dict:
    """Exact gradient of the worker's test function ``sum(c sin x) + sum(d x^3)/3 + (sum x)^2/2``.

    The reference of ``numerical_gradient``, which the worker calls on that function.
    """
    ops = keras().ops
    _, (grad,) = value_and_grad(lambda x_: ops.sum(c * ops.sin(x_)) + ops.sum(d * x_**3) / 3 + ops.sum(x_) ** 2 / 2, x)
    return {"grad": grad}


def _mlp(params: dict, input_dim: int):
    """A ``Sequential`` of sigmoid ``Dense`` layers and a linear output, and its weights in order."""
    k = keras()
    depth = len(params) // 2
    layers = [k.Input((input_dim,), dtype=F64)]
    for index in range(1, depth + 1):
        activation = "sigmoid" if index < depth else None
        layers.append(k.layers.Dense(params[f"W{index}"].shape[1], activation=activation, dtype=F64))
    model = k.Sequential(layers)
    weights = []
    for index in range(1, depth + 1):
        weights += [params[f"W{index}"], params[f"b{index}"]]
    return model, weights


def mlp_loss_and_grads(params, x, y) -> dict:
    """Softmax cross-entropy of an L-layer sigmoid MLP and its gradients.

    Args:
        params: ``{"W1": (D, H1), "b1": (H1,), ..., "WL": (H_{L-1}, C), "bL": (C,)}``.
        x: inputs (N, D).
        y: integer labels (N,).

    Returns:
        ``{"loss": (), "grads": {same keys and shapes as params}}``.
    """
    model, weights = _mlp(params, x.shape[1])
    loss = keras().losses.SparseCategoricalCrossentropy(from_logits=True, dtype=F64)

    def objective(*weights_):
        logits, _ = model.stateless_call(list(weights_), [], x)
        return loss(np.asarray(y), logits)

    value, grads = value_and_grad(objective, *weights)
    names = [f"{kind}{index}" for index in range(1, len(params) // 2 + 1) for kind in ("W", "b")]
    return {"loss": value, "grads": dict(zip(names, grads))}


def mlp_logits(params, x) -> np.ndarray:
    """The logits (N, C) of the MLP with ``params`` for inputs ``x`` (N, D), in NumPy.

    This is the plain forward pass of the Keras model that ``_mlp`` builds (sigmoid hidden layers, a
    linear output), so held-out accuracy needs no framework import in the grader or in a student's
    check; ``tests/assignments/test_01_backprop.py`` checks it against that model.
    """
    depth = len(params) // 2
    h = np.asarray(x, dtype=np.float64)
    for index in range(1, depth + 1):
        h = h @ params[f"W{index}"] + params[f"b{index}"]
        if index < depth:
            h = 0.5 * (1.0 + np.tanh(0.5 * h))  # sigmoid, without overflow for large |h|
    return h


def mlp_accuracy(params, x, y) -> float:
    """Share of ``x`` (N, D) whose largest logit is the label ``y`` (N,), for the MLP with ``params``.

    ``train_mlp`` is graded by this accuracy of the parameters it returns on the held-out images of a task
    drawn for the grading (``datasets.make_glyphs``).
    """
    return float(np.mean(np.argmax(mlp_logits(params, x), axis=1) == y))
