"""Keras references for assignment 08 (lstm): ``LSTM(return_sequences=True, return_state=True)``.

The layer is float64, with Keras's defaults otherwise: gate blocks in the order i, f, c, o along the
last axis of kernel (D, 4H), recurrent kernel (H, 4H) and bias (4H,); sigmoid gates, tanh candidate
and output; no dropout; not unrolled. Weights are injected with ``stateless_call`` (so
``unit_forget_bias``, which only initialises the bias, plays no part: the cases pass biases shaped
like Keras's initial one, forget block near 1). Gradients come from automatic differentiation of
``sum(h * dh) + sum(h_T * dh_T) + sum(c_T * dc_T)``, never from a hand-written formula.
"""

from __future__ import annotations

from dlcourse.references._keras import keras
from dlcourse.references.autodiff import to_numpy, value_and_grad

F64 = "float64"


def _lstm(x, units: int):
    layer = keras().layers.LSTM(units, return_sequences=True, return_state=True, dtype=F64)
    layer.build(x.shape)
    return layer


def _run(layer, x, h0, c0, wx, wh, b):
    """``(h (N, T, H), h_T (N, H), c_T (N, H))`` of ``layer`` with the given weights and states."""
    state = [v.value for v in layer.non_trainable_variables]
    (h, h_last, c_last), _ = layer.stateless_call([wx, wh, b], state, x, initial_state=[h0, c0])
    return h, h_last, c_last


def lstm_forward(x, h0, c0, wx, wh, b) -> dict:
    """``{"out": [h (N, T, H), h_T (N, H), c_T (N, H)]}``: all hidden states, the final hidden and cell state."""
    layer = _lstm(x, h0.shape[1])
    return {"out": [to_numpy(value) for value in _run(layer, x, h0, c0, wx, wh, b)]}


def lstm_backward(x, h0, c0, wx, wh, b, dout) -> dict:
    """Gradients of ``sum(h * dh) + sum(h_T * dh_T) + sum(c_T * dc_T)`` with ``dout = (dh, dh_T, dc_T)``.

    Returns ``{"dx", "dh0", "dc0", "dwx", "dwh", "db"}``, each shaped like its input.
    """
    layer = _lstm(x, h0.shape[1])
    ops = keras().ops
    dh, dh_last, dc_last = dout

    def objective(*tensors):
        h, h_last, c_last = _run(layer, *tensors)
        return ops.sum(h * dh) + ops.sum(h_last * dh_last) + ops.sum(c_last * dc_last)

    _, grads = value_and_grad(objective, x, h0, c0, wx, wh, b)
    return dict(zip(("dx", "dh0", "dc0", "dwx", "dwh", "db"), grads))


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b) -> dict:
    """One step, as the layer on a sequence of length 1: ``{"out": [h_next (N, H), c_next (N, H)]}``."""
    _, h_next, c_next = lstm_forward(x[:, None, :], h_prev, c_prev, wx, wh, b)["out"]
    return {"out": [h_next, c_next]}


def lstm_step_backward(x, h_prev, c_prev, wx, wh, b, dout) -> dict:
    """Gradients of ``sum(h_next * dh_next) + sum(c_next * dc_next)`` with ``dout = (dh_next, dc_next)``.

    Returns ``{"dx", "dh_prev", "dc_prev", "dwx", "dwh", "db"}``.
    """
    dh_next, dc_next = dout
    grads = lstm_backward(x[:, None, :], h_prev, c_prev, wx, wh, b, (0.0 * dh_next[:, None, :], dh_next, dc_next))
    return {"dx": grads["dx"][:, 0, :], "dh_prev": grads["dh0"], "dc_prev": grads["dc0"], "dwx": grads["dwx"],
            "dwh": grads["dwh"], "db": grads["db"]}
