"""Grading cases of assignment 04 (convolution), against ``Conv2D`` in ``dlcourse.references.convolution``.

The naive units (loops) are graded on sizes that loops finish quickly; the fast units on the same
geometries, plus timed cases: on fresh inputs each run, the fast unit may take at most ``SLOWDOWN``
times as long as the grader's own vectorized NumPy convolution, timed in the grader on the same
inputs (both wall times are measured by the grader; the student's naive unit is no yardstick).
Points add up to the table in the notebook's introduction.
"""

from __future__ import annotations

import numpy as np

from dlcourse.autograder.engine.case import Assignment, Case, ForwardBackward, Mistake
from dlcourse.autograder.engine.compare import compare_value
from dlcourse.references import conv_numpy
from dlcourse.references import convolution as ref
from dlcourse.references.geometry import conv_output_shape, pair, pads, tf_geometry

# A fast unit's time on the timed input, less ROUND_TRIP, may be at most SLOWDOWN times the grader's
# vectorized NumPy convolution timed on the same input right after it (the median over the runs). Measured on 2 loaded cores: the reference
# takes 0.8 ms (forward) and 1.4 ms (backward); the solution's fast units 5-30 ms including the round
# trip to the sandbox; its naive loops 335 ms and 880 ms.
SLOWDOWN = 50.0
ROUND_TRIP = 0.01


# ----------------------------------------------------------------------------- padding rules of the mistakes

def _pads(inputs, rule) -> tuple[tuple[int, int], tuple[int, int]]:
    """Padding ((top, bottom), (left, right)) of a conv case under ``rule(size, kernel, stride)``."""
    (sh, sw) = pair(inputs["strides"])
    x, w = inputs["x"], inputs["w"]
    return rule(x.shape[1], w.shape[0], sh), rule(x.shape[2], w.shape[1], sw)


def _same(size, kernel, stride):
    return pads(size, kernel, stride, "same")


def _swapped(size, kernel, stride):
    before, after = _same(size, kernel, stride)
    return after, before


def _stride_one(size, kernel, stride):
    return (kernel - 1) // 2, kernel - 1 - (kernel - 1) // 2


def _asymmetric(inputs) -> bool:
    same = _pads(inputs, _same)
    return inputs["padding"] == "same" and _pads(inputs, _swapped) != same


# ----------------------------------------------------------------------------- inputs

def _conv_inputs(x_shape, w_shape, strides, padding, backward=False):
    def make(rng):
        inputs = {"x": rng.normal(size=x_shape), "w": rng.normal(size=w_shape), "b": rng.normal(size=w_shape[3]),
                  "strides": strides, "padding": padding}
        if backward:
            inputs["dout"] = rng.normal(size=conv_output_shape(x_shape, w_shape, strides, padding))
        return inputs
    return make


def _random_conv(backward):
    def make(rng):
        padding = str(rng.choice(["valid", "same"]))
        n, c, f = (int(v) for v in rng.integers(1, 4, size=3))
        n = max(n, 2)  # a batch: summing over it and averaging differ only when N > 1
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
        h, w = (int(v) for v in rng.integers(max(kh, kw), 12, size=2))
        strides = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        return _conv_inputs((n, h, w, c), (kh, kw, c, f), strides, padding, backward)(rng)
    return make


# ----------------------------------------------------------------------------- mistakes

def _axes_swapped(w):
    """The kernel a unit uses when it reads ``w`` as (kw, kh, C, F): ``w.transpose(1, 0, 2, 3)`` laid out again
    as (kh, kw, C, F), which for a square kernel is the kernel transposed in space."""
    return w.transpose(1, 0, 2, 3).reshape(w.shape)


def _last_window(size, out, kernel, stride):
    """Along one axis of ``size`` (padded) cells: for each cell, the last of ``out`` windows that covers it (the
    last to write it in a loop over output positions), the cell's offset in that window, and whether any covers it."""
    cells = np.arange(size)
    last = np.minimum(cells // stride, out - 1)  # no later window starts at or before the cell
    offset = cells - last * stride
    covered = offset < kernel  # if the last window starting at or before it ends before it, so do the earlier ones
    return np.where(covered, last, 0), np.where(covered, offset, 0), covered


def _overwritten(i, dx=True, dw=True):
    """The naive backward loop (over output positions i, then j; all images and filters at once) with `=` where
    it needs `+=`: for dx each input position keeps only the last window covering it, dw only the last window.
    Vectorized (NumPy, no loop over positions): the last window covering a cell is the last along each axis."""
    x, w, dout = i["x"], i["w"], i["dout"]
    (sh, sw), (kh, kw) = pair(i["strides"]), w.shape[:2]
    (top, bottom), (left, right) = _pads(i, lambda n, k, s: pads(n, k, s, i["padding"]))
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    h_out, w_out = dout.shape[1:3]
    wrong = {}
    if dx:
        rows, u, rows_covered = _last_window(xp.shape[1], h_out, kh, sh)
        cols, v, cols_covered = _last_window(xp.shape[2], w_out, kw, sw)
        dxp = np.einsum("npqf,pqcf->npqc", dout[:, rows][:, :, cols], w[u][:, v])
        dxp = dxp * (rows_covered[:, None] & cols_covered[None, :])[None, :, :, None]
        wrong["dx"] = dxp[:, top:top + x.shape[1], left:left + x.shape[2], :]
    if dw:
        r, c = h_out - 1, w_out - 1
        wrong["dw"] = np.einsum("nuvc,nf->uvcf", xp[:, r * sh:r * sh + kh, c * sw:c * sw + kw, :], dout[:, r, c, :])
    return wrong


def _conv_padded(x, w, b, strides, pads_, dout=None):
    """Conv2D after zero-padding ``x`` by ``pads_ = ((top, bottom), (left, right))``, in NumPy (``conv_numpy``):
    any padding, also one Keras's "same" never makes. Without ``dout``: ``{"out"}``; with it: ``{"dx", "dw",
    "db"}`` of ``sum(out * dout)``. The mistakes are computed so, never through Keras: naming a mistake in a
    student's check() imports no framework."""
    (top, bottom), (left, right) = pads_
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    if dout is None:
        return conv_numpy.conv2d_forward(xp, w, b, strides, "valid")
    grads = conv_numpy.conv2d_backward(xp, w, b, strides, "valid", dout)
    return {**grads, "dx": grads["dx"][:, top:top + x.shape[1], left:left + x.shape[2]]}


def _forward_mistakes():
    def flipped(i, e):
        return conv_numpy.conv2d_forward(i["x"], i["w"][::-1, ::-1], i["b"], i["strides"], i["padding"])

    def wrong_side(i, e):
        if not _asymmetric(i):
            return None
        return _conv_padded(i["x"], i["w"], i["b"], i["strides"], _pads(i, _swapped))

    def same_ignores_stride(i, e):
        if i["padding"] != "same" or _pads(i, _stride_one) == _pads(i, _same):
            return None
        return _conv_padded(i["x"], i["w"], i["b"], i["strides"], _pads(i, _stride_one))

    def stride_on_input(i, e):
        (sh, sw) = pair(i["strides"])
        h, w = i["x"].shape[1:3]
        kh, kw = i["w"].shape[:2]
        ho, wo = h // sh - kh + 1, w // sw - kw + 1
        if i["padding"] != "valid" or ho < 1 or wo < 1 or (ho, wo) == e["out"].shape[1:3]:
            return None
        return {"out": e["out"][:, :ho, :wo]}

    return (
        Mistake("the kernel is flipped: that is the textbook's true convolution; Keras's Conv2D (and this "
                "assignment) computes the cross-correlation sum x[i*s + u, j*s + v] w[u, v], no flip", flipped),
        Mistake("the odd extra row or column of 'same' padding went before the input; TensorFlow puts it "
                "after (pad_before = total // 2, pad_after = total - pad_before)", wrong_side),
        Mistake("'same' padding ignores the stride: TensorFlow pads max((out - 1) * s + k - n, 0) in total, "
                "with out = ceil(n / s), not k - 1", same_ignores_stride),
        Mistake("the stride was applied to the input size: the output size is (n - k) // s + 1, "
                "not n // s - k + 1", stride_on_input),
        Mistake("the output is channels-first (N, F, H, W); Keras and this course are channels-last (N, H, W, F)",
                lambda i, e: {"out": e["out"].transpose(0, 3, 1, 2)}),
        Mistake("the bias `b` is not added", lambda i, e: {"out": e["out"] - i["b"]}),
        Mistake("the kernel's axes kh and kw are swapped: it was read as (kw, kh, C, F); Keras kernels are "
                "(kh, kw, C, F), w[u, v] pairs with row offset u and column offset v",
                lambda i, e: conv_numpy.conv2d_forward(i["x"], _axes_swapped(i["w"]), i["b"], i["strides"],
                                                       i["padding"])),
    )


def _backward_mistakes():
    def flipped(i, e):
        grads = conv_numpy.conv2d_backward(i["x"], i["w"][::-1, ::-1], i["b"], i["strides"], i["padding"], i["dout"])
        return {"dx": grads["dx"], "dw": grads["dw"][::-1, ::-1]}

    def wrong_side(i, e):
        if not _asymmetric(i):
            return None
        grads = _conv_padded(i["x"], i["w"], i["b"], i["strides"], _pads(i, _swapped), i["dout"])
        return {"dx": grads["dx"], "dw": grads["dw"]}

    def flipped_in_dx(i, e):
        grads = conv_numpy.conv2d_backward(i["x"], i["w"][::-1, ::-1], i["b"], i["strides"], i["padding"], i["dout"])
        return {"dx": grads["dx"]}

    def axes_swapped(i, e):
        w = i["w"]
        grads = conv_numpy.conv2d_backward(i["x"], _axes_swapped(w), i["b"], i["strides"], i["padding"], i["dout"])
        kh, kw, c, f = w.shape
        return {"dx": grads["dx"], "dw": grads["dw"].reshape(kw, kh, c, f).transpose(1, 0, 2, 3)}

    into_dx = ("dx: `=` instead of `+=` in the loop over output positions: windows overlap (the kernel is larger "
               "than the stride), and each position of dx adds up the contributions of every window over it; `=` "
               "keeps only the last")
    into_dw = ("dw: `=` instead of `+=` in the loop over output positions: dw is the sum over every position of "
               "window^T dout[n, i, j, :]; `=` keeps only the last window's")
    return (
        Mistake("the kernel is flipped (true convolution); Keras's Conv2D is a cross-correlation", flipped),
        Mistake("dx was computed with the kernel flipped (dw is right): the forward pass is a cross-correlation, "
                "so each window of dx receives dout[n, i, j, :] times w itself, w[u, v] at offset (u, v)",
                flipped_in_dx),
        Mistake("the kernel's axes kh and kw are swapped: it was read as (kw, kh, C, F); Keras kernels are "
                "(kh, kw, C, F)", axes_swapped),
        Mistake(into_dx, lambda i, e: _overwritten(i, dw=False)),
        Mistake(into_dw, lambda i, e: _overwritten(i, dx=False)),
        Mistake("dx and dw both use `=` instead of `+=` in the loop over output positions: each position of dx "
                "adds up every window over it (windows overlap when the kernel is larger than the stride), and dw "
                "is the sum over every position; `=` keeps only the last", lambda i, e: _overwritten(i)),
        Mistake("the odd extra row or column of 'same' padding went before the input; TensorFlow puts it after",
                wrong_side),
        Mistake("db sums only over the batch; sum dout over the batch and every output position",
                lambda i, e: {"db": i["dout"].sum(axis=0)}),
        Mistake("db is a mean; it is the sum of dout over the batch and every output position",
                lambda i, e: {"db": i["dout"].mean(axis=(0, 1, 2))}),
        Mistake("dw is in PyTorch's (F, C, kh, kw) layout; Keras kernels are (kh, kw, C, F)",
                lambda i, e: {"dw": e["dw"].transpose(3, 2, 0, 1)}),
    )


FORWARD_MISTAKES = _forward_mistakes()
BACKWARD_MISTAKES = _backward_mistakes()


# ----------------------------------------------------------------------------- geometry cases

def _geometry_inputs(size, kernel, stride, padding):
    return lambda rng: {"size": size, "kernel_size": kernel, "stride": stride, "padding": padding}


def _random_geometry(rng):
    padding = str(rng.choice(["valid", "same"]))
    kernel = int(rng.integers(1, 8))
    return _geometry_inputs(int(rng.integers(kernel, 40)), kernel, int(rng.integers(1, 5)), padding)(rng)


def _geometry_mistake(name, rule):
    def outputs(i, e):
        out, before, after = rule(i["size"], i["kernel_size"], i["stride"], i["padding"])
        return {"out_size": np.int64(out), "pad_before": np.int64(before), "pad_after": np.int64(after)}
    return Mistake(name, outputs)


GEOMETRY_MISTAKES = (
    _geometry_mistake("the odd extra padding went before; TensorFlow puts it after (pad_before = total // 2)",
                      lambda n, k, s, p: (lambda o, b, a: (o, a, b))(*tf_geometry(n, k, s, p))),
    _geometry_mistake("'same' padding ignores the stride: pad max((out - 1) * s + k - n, 0) in total, not k - 1",
                      lambda n, k, s, p: (tf_geometry(n, k, s, p)[0], *_stride_one(n, k, s)) if p == "same"
                      else (-1, -1, -1)),
    _geometry_mistake("the stride was applied to the input size: valid gives (n - k) // s + 1, not n // s - k + 1",
                      lambda n, k, s, p: (n // s - k + 1, 0, 0) if p == "valid" else (-1, -1, -1)),
    _geometry_mistake("'same' rounds down: its output size is ceil(n / s), not n // s",
                      lambda n, k, s, p: (n // s, *tf_geometry(n, k, s, p)[1:]) if p == "same" else (-1, -1, -1)),
)

GEOMETRY = [
    Case("conv_geometry", f"n={n}, k={k}, s={s}, {p}", _geometry_inputs(n, k, s, p), ref.conv_geometry,
         ("out_size", "pad_before", "pad_after"), points=0.5, mistakes=GEOMETRY_MISTAKES,
         hint="valid: out = (n - k) // s + 1, no padding; same: out = ceil(n / s), total = max((out - 1) s + k - n, 0)")
    for n, k, s, p in ((7, 3, 1, "valid"), (10, 4, 3, "valid"), (7, 3, 1, "same"), (8, 3, 2, "same"),
                       (6, 4, 1, "same"), (10, 4, 3, "same"), (6, 2, 2, "same"))  # the last: kernel = stride, no padding
] + [Case("conv_geometry", "random geometry", _random_geometry, ref.conv_geometry,
          ("out_size", "pad_before", "pad_after"), points=0.5, hidden=True)]


# ----------------------------------------------------------------------------- conv cases

GEOMETRIES = (
    ("batch of 1, one channel, valid", (1, 6, 5, 1), (3, 3, 1, 1), 1, "valid"),
    ("same, stride 1, odd size, 3 channels", (2, 7, 7, 3), (3, 3, 3, 4), 1, "same"),
    ("same, stride 2, even size (extra padding after)", (2, 8, 8, 2), (3, 3, 2, 3), 2, "same"),
    ("same, even 4x2 kernel, stride 1", (1, 6, 7, 2), (4, 2, 2, 3), 1, "same"),
    ("valid, strides (3, 2), 5x4 kernel wider than the stride", (2, 13, 10, 3), (5, 4, 3, 2), (3, 2), "valid"),
    ("same, stride 3, even sizes", (1, 10, 12, 3), (4, 4, 3, 2), 3, "same"),
    ("valid, stride 2, 2x2 kernel, odd height", (2, 9, 8, 2), (2, 2, 2, 3), 2, "valid"),
)
TIMED = ("timed: (1, 192, 192, 1) -> one 3x3 filter, same", (1, 192, 192, 1), (3, 3, 1, 1), 1, "same")
LARGE = ("a batch of 40 128x128 images -> 2 filters 3x3, same (5.9 million window values)", (40, 128, 128, 1),
         (3, 3, 1, 2), 1, "same")
LARGE_POINTS = 0.25  # out of the fast units' random shapes

FORWARD_HINT = ("out[n, i, j, f] = b[f] + sum over u, v, c of xpad[n, i*sh + u, j*sw + v, c] * w[u, v, c, f], "
                "with xpad padded as conv_geometry says")
BACKWARD_HINT = ("each output position adds dout[n, i, j, :] times the kernel to dx's window, and the window "
                 "times dout[n, i, j, :] to dw; db sums dout over (N, H_out, W_out)")


def _speed_judge(unit: str, runs: tuple[str, ...]):
    """Correct values; on the last of ``runs``, speed: each run is paired with the grader's vectorized NumPy
    convolution (``dlcourse.references.conv_numpy``) timed on the same fresh inputs right after it, and the
    median of the runs' ratios, ``(run - ROUND_TRIP) / reference``, may be at most ``SLOWDOWN``. Pairs measured
    moments apart share the machine's load, and the median ignores one run (or one reference) caught by a
    stall, so a loaded machine changes neither verdict."""
    def judge(inputs, expected, received, timing):
        problems = [problem for name, value in expected.items() if name != "reference_seconds"
                    if (problem := compare_value(name, value, received.get(name), 1e-6, 1e-8))]
        if problems:
            return False, "; ".join(problems)
        if not timing["earlier"]:
            return True, "correct (its speed is measured by `dlcourse check` and by the grader)"
        yardsticks = timing.get("yardsticks", {})
        pairs = [(timing["earlier"][run], yardsticks[run]) for run in runs[:-1]
                 if run in timing["earlier"] and run in yardsticks]
        pairs.append((timing["seconds"], float(expected["reference_seconds"])))
        ratios = sorted(max(seconds - ROUND_TRIP, 0.0) / max(reference, 1e-9) for seconds, reference in pairs)
        ratio = float(np.median(ratios))
        message = (f"{len(pairs)} run{'s' if len(pairs) > 1 else ''} took "
                   f"{', '.join(f'{seconds * 1e3:.1f}' for seconds, _ in pairs)} ms; "
                   f"a vectorized NumPy convolution timed right after each took "
                   f"{', '.join(f'{r * 1e3:.2f}' for _, r in pairs)} ms; the median ratio, less {ROUND_TRIP * 1e3:.0f} ms "
                   f"for the round trip, is {ratio:.1f}x, and up to {SLOWDOWN:.0f}x passes")
        if len(pairs) < len(runs) or ratio <= SLOWDOWN:
            return True, f"correct; {message}"
        return False, (f"correct, but too slow ({message}): gather all windows at once (im2col or a strided view) "
                       "and let matrix products cover every position, with no Python loop over output positions")
    return judge


def _conv_cases(units: tuple[str, str], geometry_points: float, hidden_points: float,
                timed_points: tuple[float, ...], fast: bool):
    """The cases of ``units`` (forward, backward); a ``fast`` pair is timed against ``conv_numpy``."""
    forward, backward = units
    cases = []
    for backward_pass, unit in ((False, forward), (True, backward)):
        reference = ref.conv2d_backward if backward_pass else ref.conv2d_forward
        outputs = ("dx", "dw", "db") if backward_pass else ("out", "cache")
        common = dict(driver=ForwardBackward(forward)) if backward_pass else {}
        mistakes = BACKWARD_MISTAKES if backward_pass else FORWARD_MISTAKES
        hint = BACKWARD_HINT if backward_pass else FORWARD_HINT
        for name, x_shape, w_shape, strides, padding in GEOMETRIES:
            cases.append(Case(unit, name, _conv_inputs(x_shape, w_shape, strides, padding, backward_pass), reference,
                              outputs, points=geometry_points, mistakes=mistakes, hint=hint, **common))
        if fast:  # a large batch: a vectorized version may split it into blocks of images
            name, x_shape, w_shape, strides, padding = LARGE
            cases.append(Case(unit, name, _conv_inputs(x_shape, w_shape, strides, padding, backward_pass), reference,
                              outputs, points=LARGE_POINTS, mistakes=mistakes, hint=hint, timeout=30.0, **common))
        cases.append(Case(unit, "random shapes", _random_conv(backward_pass), reference, outputs,
                          points=hidden_points - (LARGE_POINTS if fast else 0.0), hidden=True, **common))
        name, x_shape, w_shape, strides, padding = TIMED
        make = _conv_inputs(x_shape, w_shape, strides, padding, backward_pass)
        if not fast:
            cases.append(Case(unit, name, make, reference, outputs, points=timed_points[0], timeout=30.0,
                              mistakes=mistakes, **common))
            continue
        runs = tuple(f"{name} (run {k} of {len(timed_points)})" for k in range(1, len(timed_points) + 1))
        judge = _speed_judge(unit, tuple(f"{unit}: {run}" for run in runs))
        timed_reference = conv_numpy.timed_backward if backward_pass else conv_numpy.timed_forward
        for run, points in zip(runs, timed_points):
            cases.append(Case(unit, run, make, timed_reference, outputs, points=points, timeout=30.0, judge=judge,
                              fresh=True, **common))
    return cases


NAIVE = _conv_cases(("conv2d_forward", "conv2d_backward"), geometry_points=1.0, hidden_points=1.0,
                    timed_points=(1.0,), fast=False)
FAST = _conv_cases(("conv2d_forward_fast", "conv2d_backward_fast"), geometry_points=0.5, hidden_points=0.5,
                   timed_points=(0.5, 0.5, 1.0), fast=True)

# Units in notebook order; the timed naive cases run before the fast ones that are compared with them.
_ORDER = ("conv_geometry", "conv2d_forward", "conv2d_backward", "conv2d_forward_fast", "conv2d_backward_fast")
ASSIGNMENT = Assignment(
    name="04_convolution",
    title="Convolution",
    cases=tuple(sorted(GEOMETRY + NAIVE + FAST, key=lambda case: _ORDER.index(case.unit))),
)
