"""Keras references for assignment 07 (rnn_bptt): ``SimpleRNN`` forward and gradients, global-norm clipping.

Each function takes the same NumPy inputs as the student's unit and returns a dict of named float64
outputs. The recurrent layer is a float64 ``SimpleRNN(return_sequences=True)`` (tanh, no dropout, not
unrolled) whose kernel, recurrent kernel and bias are injected with ``stateless_call``; the initial
state is passed as ``initial_state``. Gradients come from automatic differentiation of
``sum(outputs * dout)``, never from a hand-written formula.
"""

from __future__ import annotations

import numpy as np

from dlcourse.references._keras import keras
from dlcourse.references.autodiff import to_numpy, value_and_grad

F64 = "float64"


def _simple_rnn(x, units: int):
    layer = keras().layers.SimpleRNN(units, return_sequences=True, dtype=F64)
    layer.build(x.shape)
    return layer


def _run(layer, x, h0, wx, wh, b):
    """The (N, T, H) outputs of ``layer`` with the given weights and initial state."""
    state = [v.value for v in layer.non_trainable_variables]
    out, _ = layer.stateless_call([wx, wh, b], state, x, initial_state=[h0])
    return out


def rnn_forward(x, h0, wx, wh, b) -> dict:
    """``SimpleRNN`` on ``x`` (N, T, D) from ``h0`` (N, H): ``{"h": (N, T, H)}``, every hidden state."""
    layer = _simple_rnn(x, h0.shape[1])
    return {"h": to_numpy(_run(layer, x, h0, wx, wh, b))}


def rnn_backward(x, h0, wx, wh, b, dout) -> dict:
    """Gradients of ``sum(SimpleRNN(x, h0) * dout)``: ``{"dx", "dh0", "dwx", "dwh", "db"}``."""
    layer = _simple_rnn(x, h0.shape[1])
    ops = keras().ops
    _, (dx, dh0, dwx, dwh, db) = value_and_grad(
        lambda *t: ops.sum(_run(layer, *t) * dout), x, h0, wx, wh, b)
    return {"dx": dx, "dh0": dh0, "dwx": dwx, "dwh": dwh, "db": db}


def rnn_step_forward(x, h_prev, wx, wh, b) -> dict:
    """One step: ``SimpleRNN`` on a sequence of length 1: ``{"h_next": (N, H)}``."""
    return {"h_next": rnn_forward(x[:, None, :], h_prev, wx, wh, b)["h"][:, 0, :]}


def rnn_step_backward(x, h_prev, wx, wh, b, dout) -> dict:
    """Gradients of ``sum(h_next * dout)`` for one step: ``{"dx", "dh_prev", "dwx", "dwh", "db"}``."""
    grads = rnn_backward(x[:, None, :], h_prev, wx, wh, b, dout[:, None, :])
    return {"dx": grads["dx"][:, 0, :], "dh_prev": grads["dh0"], "dwx": grads["dwx"], "dwh": grads["dwh"],
            "db": grads["db"]}


def gradient_norms_by_distance(x, h0, wx, wh, b) -> dict:
    """How the gradient of the last state fades or grows with distance.

    With ``L = sum(h_T)`` (the last hidden state of ``SimpleRNN``, summed over batch and units),
    ``norms[k]`` is the Frobenius norm of ``dL/dx[:, T-1-k, :]``: ``k = 0`` is the last step.
    Returns ``{"norms": (T,)}``.
    """
    layer = _simple_rnn(x, h0.shape[1])
    ops = keras().ops
    _, (dx,) = value_and_grad(lambda x_: ops.sum(_run(layer, x_, h0, wx, wh, b)[:, -1, :]), x)
    return {"norms": np.linalg.norm(dx, axis=(0, 2))[::-1].copy()}


def clip_by_global_norm(grads, clip_norm) -> dict:
    """``tf.clip_by_global_norm(grads, clip_norm)`` in float64: ``{"clipped": [...], "global_norm": ()}``.

    TensorFlow's semantics: ``None`` entries stay ``None`` and count for nothing; every tensor is
    scaled by ``clip_norm * min(1 / global_norm, 1 / clip_norm)``, so nothing changes below the
    threshold; a non-finite global norm makes every clipped value NaN.
    """
    keras()  # the quiet environment, before TensorFlow is imported
    import tensorflow as tf

    tensors = [None if g is None else tf.constant(np.asarray(g, dtype=np.float64)) for g in grads]
    clipped, norm = tf.clip_by_global_norm(tensors, tf.constant(float(clip_norm), dtype=tf.float64))
    return {"clipped": [None if c is None else to_numpy(c) for c in clipped], "global_norm": to_numpy(norm)}
