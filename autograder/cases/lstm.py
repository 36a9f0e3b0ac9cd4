"""Grading cases of assignment 08 (lstm), against the Keras references in ``dlcourse.references.lstm``.

Biases look like Keras's initial one (``unit_forget_bias``: forget block near 1) plus noise, so
every gate block differs and a wrong gate order cannot pass. ``out`` and ``dout`` mirror
``LSTM(return_sequences=True, return_state=True)``: ``(h, h_T, c_T)`` for a sequence and
``(h_next, c_next)`` for one step. The NumPy LSTM here only computes known wrong answers (a gate
order, a missing forget-gate path) so that a message can name them; expected values come from Keras.
"""

from __future__ import annotations

import itertools

import numpy as np

from dlcourse.autograder.cases.rnn_bptt import rejects
from dlcourse.autograder.cases.random_sizes import random_sizes
from dlcourse.autograder.engine.case import Assignment, Case, ForwardBackward, Mistake
from dlcourse.references import lstm as ref

KERAS_ORDER = ("i", "f", "c", "o")


def _normal(rng, *shape, scale=1.0):
    return rng.normal(0.0, scale, size=shape)


def _weights(rng, d, h):
    bias = _normal(rng, 4 * h, scale=0.5)
    bias[h:2 * h] += 1.0  # Keras's unit_forget_bias starts the forget gate's bias at 1
    return {"wx": _normal(rng, d, 4 * h, scale=1 / np.sqrt(d)), "wh": _normal(rng, h, 4 * h, scale=1 / np.sqrt(h)),
            "b": bias}


# ----------------------------------------------------------------------------- known wrong answers

def _sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def _lstm(x, h0, c0, wx, wh, b, dout=None, *, forget_offset=0.0, cell_carry="f", final_states=True):
    """A NumPy LSTM with Keras's gate order; keywords switch on a mistake.

    Returns ``(h, h_T, c_T)`` when ``dout`` is None, else the gradients ``(dx, dh0, dc0, dwx, dwh, db)``.
    ``cell_carry``: "f" (right), "none" (the cell gradient does not flow back), "plain" (it flows back
    without the forget gate's factor). ``final_states=False`` ignores ``dh_T`` and ``dc_T``.
    """
    n, steps, _ = x.shape
    units = h0.shape[1]
    h, c, hs, cs, gates = h0, c0, [h0], [c0], []
    for t in range(steps):
        z = x[:, t] @ wx + h @ wh + b
        i, f = _sigmoid(z[:, :units]), _sigmoid(z[:, units:2 * units] + forget_offset)
        g, o = np.tanh(z[:, 2 * units:3 * units]), _sigmoid(z[:, 3 * units:])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h), cs.append(c), gates.append((i, f, g, o))
    if dout is None:
        return np.stack(hs[1:], axis=1), h, c
    dh_seq, dh_last, dc_last = dout
    dh = dh_last if final_states else np.zeros_like(h0)
    dc = dc_last if final_states else np.zeros_like(c0)
    dx, dwx, dwh, db = np.zeros_like(x), np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b)
    for t in range(steps - 1, -1, -1):
        i, f, g, o = gates[t]
        dh = dh + dh_seq[:, t]
        tc = np.tanh(cs[t + 1])
        dc = dc + dh * o * (1 - tc ** 2)
        dz = np.concatenate([dc * g * i * (1 - i), dc * cs[t] * f * (1 - f), dc * i * (1 - g ** 2),
                             dh * tc * o * (1 - o)], axis=1)
        dx[:, t] = dz @ wx.T
        dwx, dwh, db = dwx + x[:, t].T @ dz, dwh + hs[t].T @ dz, db + dz.sum(axis=0)
        dh = dz @ wh.T
        dc = {"f": dc * f, "none": np.zeros_like(dc), "plain": dc}[cell_carry]
    return dx, dh, dc, dwx, dwh, db


def _blocks(array, order):
    """Reorder the gate blocks on the last axis: block k of the result is the block of gate ``order[k]``."""
    parts = np.split(array, 4, axis=-1)
    return np.concatenate([parts[KERAS_ORDER.index(gate)] for gate in order], axis=-1)


def _read_as(order, i):
    """The weights that make a correct LSTM do what a student reading blocks as ``order`` does."""
    inverse = tuple(KERAS_ORDER[order.index(gate)] for gate in KERAS_ORDER)
    return {key: _blocks(i[key], inverse) for key in ("wx", "wh", "b")}


GRADS = ("dx", "dh0", "dc0", "dwx", "dwh", "db")


def _sequence(i):
    return i["x"], i["h0"], i["c0"]


def _order_mistake(order):
    def outputs(i, e):
        weights = _read_as(order, i)
        if "dout" not in i:
            return {"out": list(_lstm(*_sequence(i), **weights))}
        grads = dict(zip(GRADS, _lstm(*_sequence(i), **weights, dout=i["dout"])))
        return {**grads, **{key: _blocks(grads[key], order) for key in ("dwx", "dwh", "db")}}
    name = ", ".join(order)
    note = " (cs231n's layout)" if order == ("i", "f", "o", "c") else ""
    return Mistake(f"the gate blocks were read in the order {name}{note}; Keras's order is i, f, c, o "
                   "(input, forget, candidate cell, output) along the last axis of wx, wh and b", outputs)


ORDER_MISTAKES = tuple(_order_mistake(order) for order in itertools.permutations(KERAS_ORDER) if order != KERAS_ORDER)


def _weights_of(i):
    return {key: i[key] for key in ("wx", "wh", "b")}


FORGET_OFFSET = Mistake("1 was added to the forget gate's pre-activation (TF 1's forget_bias); Keras's "
                        "unit_forget_bias only initialises the bias to 1, it is part of b",
                        lambda i, e: {"out": list(_lstm(*_sequence(i), **_weights_of(i), forget_offset=1.0))}
                        if "dout" not in i else
                        dict(zip(GRADS, _lstm(*_sequence(i), **_weights_of(i), dout=i["dout"], forget_offset=1.0))))


def _grads_mistake(name, **switches):
    return Mistake(name, lambda i, e: dict(zip(GRADS, _lstm(*_sequence(i), **_weights_of(i), dout=i["dout"],
                                                            **switches))))


NO_FORGET_PATH = _grads_mistake("the cell gradient does not flow back in time: dc_prev = dc * f is missing, so "
                                "each step's dc only comes from its own h", cell_carry="none")
PLAIN_CARRY = _grads_mistake("the cell gradient flows back without the forget gate: dc_prev is dc * f, "
                             "not dc (c_t = f * c_{t-1} + i * g)", cell_carry="plain")
NO_FINAL = _grads_mistake("dh_T and dc_T (the gradients of the final states, dout[1] and dout[2]) were ignored; "
                          "they start the backward recursion", final_states=False)


def _step_view(mistake):
    """A sequence-level mistake seen through one step: (h_prev, c_prev) -> (h_next, c_next)."""
    def outputs(i, e):
        seq = {"x": i["x"][:, None], "h0": i["h_prev"], "c0": i["c_prev"], "wx": i["wx"], "wh": i["wh"], "b": i["b"]}
        if "dout" in i:
            dh_next, dc_next = i["dout"]
            seq["dout"] = (np.zeros_like(dh_next)[:, None], dh_next, dc_next)
        wrong = mistake.outputs(seq, e)
        if "out" in wrong:
            return {"out": wrong["out"][1:]}
        renamed = {"dh0": "dh_prev", "dc0": "dc_prev"}
        return {renamed.get(k, k): (v[:, 0] if k == "dx" else v) for k, v in wrong.items()}
    return Mistake(mistake.name, outputs)


STEP_FORGET_PLAIN = Mistake("dc_prev is dc * f, not dc: the forget gate scales the path from c_prev to c_next",
                            lambda i, e: {"dc_prev": e["dc_prev"] / _step_forget(i)})


def _step_forget(i):
    units = i["h_prev"].shape[1]
    return _sigmoid((i["x"] @ i["wx"] + i["h_prev"] @ i["wh"] + i["b"])[:, units:2 * units])


# ----------------------------------------------------------------------------- one step

def _step_inputs(n, d, h, backward=False):
    def make(rng):
        inputs = {"x": _normal(rng, n, d), "h_prev": np.tanh(_normal(rng, n, h)), "c_prev": _normal(rng, n, h),
                  **_weights(rng, d, h)}
        if backward:
            inputs["dout"] = (_normal(rng, n, h), _normal(rng, n, h))
        return inputs
    return make


STEP_HINT = ("z = x @ wx + h_prev @ wh + b, split into 4 blocks of H columns in the order i, f, c, o; "
             "out is (h_next, c_next)")
STEP_BACK_HINT = ("dout is (dh_next, dc_next); first dc = dc_next + dh_next * o * (1 - tanh(c_next)**2), then "
                  "the four gate gradients, each times its activation's derivative; return "
                  "(dx, dh_prev, dc_prev, dwx, dwh, db)")
STEP_MISTAKES = tuple(_step_view(m) for m in ORDER_MISTAKES + (FORGET_OFFSET,))
STEP_BACK_MISTAKES = STEP_MISTAKES + (STEP_FORGET_PLAIN,)
STEP_GRADS = ("dx", "dh_prev", "dc_prev", "dwx", "dwh", "db")

STEP = [
    Case("lstm_step_forward", "batch of 4, 3 -> 5 units", _step_inputs(4, 3, 5), ref.lstm_step_forward,
         ("out", "cache"), mistakes=STEP_MISTAKES, hint=STEP_HINT),
    Case("lstm_step_forward", "one example, 6 -> 2 units", _step_inputs(1, 6, 2), ref.lstm_step_forward,
         ("out", "cache"), mistakes=STEP_MISTAKES, hint=STEP_HINT),
    Case("lstm_step_forward", "random shape", random_sizes(_step_inputs, False, high=8), ref.lstm_step_forward,
         ("out", "cache"), hidden=True),
    Case("lstm_step_backward", "batch of 4, 3 -> 5 units", _step_inputs(4, 3, 5, True), ref.lstm_step_backward,
         STEP_GRADS, driver=ForwardBackward("lstm_step_forward"), mistakes=STEP_BACK_MISTAKES,
         hint=STEP_BACK_HINT),
    Case("lstm_step_backward", "one example, 6 -> 2 units", _step_inputs(1, 6, 2, True), ref.lstm_step_backward,
         STEP_GRADS, driver=ForwardBackward("lstm_step_forward"), mistakes=STEP_BACK_MISTAKES,
         hint=STEP_BACK_HINT, points=2.0),
    Case("lstm_step_backward", "random shape", random_sizes(_step_inputs, True, high=8), ref.lstm_step_backward,
         STEP_GRADS, driver=ForwardBackward("lstm_step_forward"), hidden=True, points=2.0),
]


# ----------------------------------------------------------------------------- whole sequences

def _sequence_inputs(n, t, d, h, backward=False):
    def make(rng):
        inputs = {"x": _normal(rng, n, t, d), "h0": np.tanh(_normal(rng, n, h)), "c0": _normal(rng, n, h),
                  **_weights(rng, d, h)}
        if backward:
            inputs["dout"] = (_normal(rng, n, t, h), _normal(rng, n, h), _normal(rng, n, h))
        return inputs
    return make


def _random_sequence(backward, lengths=(1, 51)):
    def make(rng):
        n, d, h = (int(v) for v in rng.integers(1, 7, size=3))
        n = max(n, 2)
        return _sequence_inputs(n, int(rng.integers(*lengths)), d, h, backward)(rng)
    return make


FORWARD_HINT = ("loop over time from (h0, c0); out is (h, h_T, c_T): every hidden state (N, T, H), then the "
                "final hidden and cell states (N, H), as Keras's LSTM(return_sequences=True, return_state=True)")
BACKWARD_HINT = ("dout is (dh, dh_T, dc_T); start from dh = dh_T, dc = dc_T, and at step t add dh[:, t]; "
                 "carry dh_prev and dc_prev = dc * f back to step t-1; weight gradients add up over time")
FORWARD_MISTAKES = ORDER_MISTAKES + (FORGET_OFFSET,)
BACKWARD_MISTAKES = (NO_FORGET_PATH, PLAIN_CARRY, NO_FINAL) + ORDER_MISTAKES + (FORGET_OFFSET,)


def _forward_case(name, inputs, **options):
    return Case("lstm_forward", name, inputs, ref.lstm_forward, ("out", "cache"), mistakes=FORWARD_MISTAKES,
                hint=FORWARD_HINT, **options)


def _backward_case(name, inputs, **options):
    return Case("lstm_backward", name, inputs, ref.lstm_backward, GRADS, driver=ForwardBackward("lstm_forward"),
                mistakes=BACKWARD_MISTAKES, hint=BACKWARD_HINT, **options)


SEQUENCE = [
    _forward_case("T=1, batch of 3, 4 -> 5 units", _sequence_inputs(3, 1, 4, 5)),
    _forward_case("T=5, batch of 2, 3 -> 4 units", _sequence_inputs(2, 5, 3, 4)),
    _forward_case("T=50, batch of 4, 5 -> 6 units", _sequence_inputs(4, 50, 5, 6)),
    _forward_case("random length 1-50", _random_sequence(False), hidden=True, points=1.5),
    rejects("lstm_forward", "x", _sequence_inputs(3, 4, 4, 5), states=("h0", "c0")),
    rejects("lstm_forward", "h0", _sequence_inputs(3, 4, 4, 5), states=("h0", "c0")),
    _backward_case("T=1, batch of 3, 4 -> 5 units", _sequence_inputs(3, 1, 4, 5, True)),
    _backward_case("T=5, batch of 2, 3 -> 4 units", _sequence_inputs(2, 5, 3, 4, True), points=2.0),
    _backward_case("T=50, batch of 4, 5 -> 6 units", _sequence_inputs(4, 50, 5, 6, True), points=2.0),
    _backward_case("random length 1-50", _random_sequence(True), hidden=True, points=2.0),
    _backward_case("random length 30-50", _random_sequence(True, (30, 51)), hidden=True),
]


ASSIGNMENT = Assignment(
    name="08_lstm",
    title="Long short-term memory",
    cases=tuple(STEP + SEQUENCE),
)
