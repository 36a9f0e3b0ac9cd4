"""Grading cases of assignment 05 (pooling), against ``MaxPooling2D`` and ``AveragePooling2D``.

The references are Keras's (``dlcourse.references.pooling``). The known mistakes are computed here
by ``pool_loops``, a plain loop over windows whose options reproduce each mistake (the tests check
that with its default options it equals Keras). Points add up to the notebook's table.
"""

from __future__ import annotations

import numpy as np

from dlcourse.autograder.engine.case import Assignment, Case, ForwardBackward, Mistake
from dlcourse.references import pooling as ref
from dlcourse.references.geometry import pair, window_geometry


# ----------------------------------------------------------------------------- a loop over windows (trusted)

def pool_pads(x_shape, pool_size, strides, padding, swap=False):
    """The output size and ((top, bottom), (left, right)), by TensorFlow's rule (swapped: extra before)."""
    out, ((top, bottom), (left, right)) = window_geometry(x_shape, pool_size,
                                                          pool_size if strides is None else strides, padding)
    if swap:
        top, bottom, left, right = bottom, top, right, left
    return out, ((top, bottom), (left, right))


def pool_loops(kind, x, pool_size, strides, padding, dout=None, *, swap=False, pad_zero=False, count_pad=False,
               tie="first", overwrite=False, divide=True):
    """Pooling by a loop over windows, forward (``{"out"}``) or, with ``dout``, backward (``{"dx"}``).

    Options reproduce mistakes: ``swap`` the odd padding before; ``pad_zero`` padded cells count as 0
    in a max; ``count_pad`` the mean divides by the full window; ``tie`` "first", "last" or "all"
    maxima get the gradient; ``overwrite`` a window's gradient replaces instead of adding;
    ``divide=False`` the mean's gradient is not divided by the count.
    """
    (ph, pw), (sh, sw) = pair(pool_size), pair(pool_size if strides is None else strides)
    (out_h, out_w), ((top, _), (left, _)) = pool_pads(x.shape, pool_size, strides, padding, swap)
    n, h, w, c = x.shape
    out = np.zeros((n, out_h, out_w, c))
    dx = np.zeros_like(x, dtype=np.float64)
    for i in range(out_h):
        for j in range(out_w):
            r0, c0 = i * sh - top, j * sw - left
            rows = slice(max(r0, 0), min(r0 + ph, h))
            cols = slice(max(c0, 0), min(c0 + pw, w))
            window = x[:, rows, cols, :]  # the real cells only
            real = window.shape[1] * window.shape[2]
            padded = ph * pw - real
            if kind == "avg":
                count = ph * pw if count_pad else real
                out[:, i, j] = window.sum(axis=(1, 2)) / count
                if dout is not None:
                    share = dout[:, i, j][:, None, None, :] / (count if divide else 1)
                    if overwrite:
                        dx[:, rows, cols] = np.broadcast_to(share, window.shape)
                    else:
                        dx[:, rows, cols] += share
                continue
            best = window.max(axis=(1, 2))
            if pad_zero and padded:
                best = np.maximum(best, 0.0)
            out[:, i, j] = best
            if dout is None:
                continue
            hits = window == best[:, None, None, :]
            flat = hits.reshape(n, -1, c)
            if tie in ("first", "last"):
                index = flat.argmax(axis=1) if tie == "first" else flat.shape[1] - 1 - flat[:, ::-1].argmax(axis=1)
                chosen = np.zeros_like(flat)
                np.put_along_axis(chosen, index[:, None, :], True, axis=1)
                hits = (chosen & flat).reshape(hits.shape)
            grad = hits * dout[:, i, j][:, None, None, :]
            if overwrite:
                dx[:, rows, cols] = np.where(hits, grad, dx[:, rows, cols])
            else:
                dx[:, rows, cols] += grad
    return {"out": out} if dout is None else {"dx": dx}


# ----------------------------------------------------------------------------- inputs

def _pool_inputs(x_shape, pool_size, strides, padding, values="normal", backward=False):
    def make(rng):
        if values == "ties":
            x = rng.integers(0, 3, size=x_shape).astype(np.float64)
        elif values == "negative":
            x = -1.0 - np.abs(rng.normal(size=x_shape))
        elif values == "relu":  # sparse ReLU activations: most cells 0, so many windows are all 0
            x = np.maximum(rng.normal(size=x_shape) - 1.0, 0.0)
        else:
            x = rng.normal(size=x_shape)
        inputs = {"x": x, "pool_size": pool_size, "strides": strides, "padding": padding}
        if backward:
            (out_h, out_w), _ = pool_pads(x_shape, pool_size, strides, padding)
            inputs["dout"] = rng.normal(size=(x_shape[0], out_h, out_w, x_shape[3]))
        return inputs
    return make


def _random_pool(backward):
    def make(rng):
        padding = str(rng.choice(["valid", "same"]))
        pool = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        strides = None if rng.random() < 0.3 else (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        shape = (int(rng.integers(2, 4)), int(rng.integers(max(pool), 10)), int(rng.integers(max(pool), 10)),
                 int(rng.integers(1, 4)))
        values = str(rng.choice(["normal", "ties", "negative"]))
        return _pool_inputs(shape, pool, strides, padding, values, backward)(rng)
    return make


GEOMETRIES = (
    ("2x2 pool, default strides, batch of 1, one channel", (1, 6, 6, 1), 2, None, "valid", "normal"),
    ("3x3 pool, stride 2 (overlapping), same, odd size", (2, 7, 7, 3), 3, 2, "same", "normal"),
    ("2x2 pool, stride 2, same, odd sizes (extra padding after)", (2, 5, 7, 2), 2, 2, "same", "normal"),
    ("(3, 2) pool, strides (1, 2), valid", (1, 6, 8, 2), (3, 2), (1, 2), "valid", "normal"),
    ("ties: small integers, 3x3 pool, stride 1", (2, 6, 6, 2), 3, 1, "valid", "ties"),
    ("negative values, 3x3 pool, stride 2, same", (1, 6, 6, 2), 3, 2, "same", "negative"),
)


# ----------------------------------------------------------------------------- mistakes

def _loops(kind, backward=False, **options):
    def outputs(i, e):
        args = [i[key] for key in ("x", "pool_size", "strides", "padding")]
        return pool_loops(kind, *args, dout=i.get("dout") if backward else None, **options)
    return outputs


def _default_strides_one(kind):
    def outputs(i, e):
        if i["strides"] is not None or pair(i["pool_size"]) == (1, 1):
            return None
        return pool_loops(kind, i["x"], i["pool_size"], 1, i["padding"])  # NumPy: naming it imports no framework
    return outputs


WRONG_SIDE = "the odd extra row or column of 'same' padding went before the input; TensorFlow puts it after"
DEFAULT_STRIDES = "strides=None means strides = pool_size in Keras (non-overlapping windows); you used 1"

MISTAKES = {
    "max_pool2d_forward": (
        Mistake("the padded cells counted as zeros: an all-negative window next to the padding must keep its "
                "negative maximum (pad with -inf, or leave padded cells out)", _loops("max", pad_zero=True)),
        Mistake(WRONG_SIDE, _loops("max", swap=True)),
        Mistake(DEFAULT_STRIDES, _default_strides_one("max")),
    ),
    "max_pool2d_backward": (
        Mistake("every tied maximum got the gradient; Keras sends it to the first maximum of the window only "
                "(in row-major order within the window)", _loops("max", True, tie="all")),
        Mistake("the gradient went to the last tied maximum; Keras sends it to the first (row-major order)",
                _loops("max", True, tie="last")),
        Mistake("overlapping windows overwrote each other's gradient; where windows overlap, the gradients add up",
                _loops("max", True, overwrite=True)),
        Mistake(WRONG_SIDE, _loops("max", True, swap=True)),
    ),
    "avg_pool2d_forward": (
        Mistake("with 'same' the padded cells were counted in the mean; Keras averages only over the real cells",
                _loops("avg", count_pad=True)),
        Mistake(WRONG_SIDE, _loops("avg", swap=True)),
        Mistake(DEFAULT_STRIDES, _default_strides_one("avg")),
    ),
    "avg_pool2d_backward": (
        Mistake("the gradient was not divided by the number of cells in the window",
                _loops("avg", True, divide=False)),
        Mistake("with 'same' the gradient was divided by the full window; divide by the number of real cells, "
                "as the forward pass does", _loops("avg", True, count_pad=True)),
        Mistake("overlapping windows overwrote each other's gradient; where windows overlap, the gradients add up",
                _loops("avg", True, overwrite=True)),
        Mistake(WRONG_SIDE, _loops("avg", True, swap=True)),
    ),
}

HINTS = {
    "max_pool2d_forward": "the maximum of each window; padded cells never win",
    "max_pool2d_backward": "each window sends dout to the position of its first maximum; overlapping windows add up",
    "avg_pool2d_forward": "the mean of each window's real cells (padded cells are left out of the count)",
    "avg_pool2d_backward": "each window spreads dout / count evenly over its real cells; overlapping windows add up",
}


def _cases(forward, backward, references):
    """The cases of the units ``forward`` and ``backward`` against their ``references`` (a pair)."""
    cases = []
    for backward_pass, unit, reference in ((False, forward, references[0]), (True, backward, references[1])):
        outputs = ("dx",) if backward_pass else ("out", "cache")
        common = dict(driver=ForwardBackward(forward)) if backward_pass else {}
        points = 1.0 if backward_pass else 0.5
        for name, shape, pool, strides, padding, values in GEOMETRIES:
            cases.append(Case(unit, name, _pool_inputs(shape, pool, strides, padding, values, backward_pass), reference,
                              outputs, points=points, mistakes=MISTAKES[unit], hint=HINTS[unit], **common))
        extra = EXTRA.get(unit, ())
        for name, shape, pool, strides, padding, values in extra:
            cases.append(Case(unit, name, _pool_inputs(shape, pool, strides, padding, values, backward_pass), reference,
                              outputs, points=0.5, mistakes=MISTAKES[unit], hint=HINTS[unit], **common))
        cases.append(Case(unit, "random shapes", _random_pool(backward_pass), reference, outputs,
                          points=2 * points - 0.5 * len(extra), hidden=True, **common))
    return cases


# cases of one unit only (their points come out of its random shapes): a window whose maximum is 0 with a padded
# cell before its first real maximum sends dout to the real cell, as TensorFlow does (padding is never a maximum)
EXTRA = {
    "max_pool2d_backward": (
        ("ReLU activations (windows of zeros), 3x3 pool, stride 2, same (padding before)", (2, 7, 7, 2), 3, 2, "same",
         "relu"),
    ),
}


ASSIGNMENT = Assignment(
    name="05_pooling",
    title="Pooling",
    cases=tuple(_cases("max_pool2d_forward", "max_pool2d_backward", (ref.max_pool2d_forward, ref.max_pool2d_backward))
                + _cases("avg_pool2d_forward", "avg_pool2d_backward", (ref.avg_pool2d_forward, ref.avg_pool2d_backward))),
)
