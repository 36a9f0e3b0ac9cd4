"""Assignment 05 (pooling): Keras's tie and padding rules, the references against central differences and
the grader's loop helper, the solution against the references, every named mistake, argument errors."""

from __future__ import annotations


import numpy as np
import pytest

from dlcourse.autograder.cases import pooling as cases
from dlcourse.autograder.engine.compare import judge
from conftest import solution_namespace
from dlcourse.references import geometry
from dlcourse.references import pooling as ref

NAME = "05_pooling"
ASSIGNMENT = cases.ASSIGNMENT
KINDS = ("max", "avg")


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(NAME)


def public_case(unit, name_start):
    return next(case for case in ASSIGNMENT.cases if case.unit == unit and case.name.startswith(name_start))


def args_of(inputs):
    return [inputs[key] for key in ("x", "pool_size", "strides", "padding")]


# ----------------------------------------------------------------------------- Keras's rules, measured

def test_max_pool_gradient_goes_to_the_first_maximum_in_row_major_order():
    x = np.zeros((1, 2, 2, 1))
    x[0, 0, 1, 0] = x[0, 1, 0, 0] = 1.0  # tied: (0, 1) comes first row by row, (1, 0) column by column
    dx = ref.max_pool2d_backward(x, 2, None, "valid", np.ones((1, 1, 1, 1)))["dx"]
    assert dx[0, :, :, 0].tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_same_padding_never_wins_a_max_and_never_counts_in_a_mean():
    x = -np.ones((1, 3, 3, 1))
    assert np.all(ref.max_pool2d_forward(x, 2, 2, "same")["out"] == -1.0)
    assert np.all(ref.avg_pool2d_forward(x, 2, 2, "same")["out"] == -1.0)
    dx = ref.avg_pool2d_backward(x, 2, 2, "same", np.ones((1, 2, 2, 1)))["dx"][0, :, :, 0]
    np.testing.assert_allclose(dx, [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.5, 1.0]])


@pytest.mark.parametrize("kind", KINDS)
def test_grader_loop_helper_equals_keras(kind):
    """``pool_loops`` (which computes the mistakes) is right with its default options."""
    for seed in range(12):
        for backward in (False, True):
            inputs = cases._random_pool(backward)(np.random.default_rng(seed))
            if backward:
                expected = ref.pool_backward(kind, *args_of(inputs), inputs["dout"])["dx"]
                mine = cases.pool_loops(kind, *args_of(inputs), dout=inputs["dout"])["dx"]
            else:
                expected = ref.pool_forward(kind, *args_of(inputs))["out"]
                mine = cases.pool_loops(kind, *args_of(inputs))["out"]
            np.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-12, err_msg=f"seed {seed}")


@pytest.mark.parametrize("kind", KINDS)
def test_reference_gradients_match_central_differences(kind):
    rng = np.random.default_rng(5)
    x = rng.permutation(1 * 5 * 6 * 2).reshape(1, 5, 6, 2) / 7.0  # distinct: the max is differentiable
    out = ref.pool_forward(kind, x, 3, 2, "same")["out"]
    dout = rng.normal(size=out.shape)
    expected = ref.pool_backward(kind, x, 3, 2, "same", dout)["dx"]
    h, numeric = 1e-6, np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += h
        minus[index] -= h
        numeric[index] = np.sum((ref.pool_forward(kind, plus, 3, 2, "same")["out"]
                                 - ref.pool_forward(kind, minus, 3, 2, "same")["out"]) * dout) / (2 * h)
    np.testing.assert_allclose(expected, numeric, rtol=1e-6, atol=1e-8)


# ----------------------------------------------------------------------------- the solution

@pytest.mark.parametrize("kind", KINDS)
def test_solution_matches_reference_on_random_shapes(solution, kind):
    forward, backward = solution[f"{kind}_pool2d_forward"], solution[f"{kind}_pool2d_backward"]
    for seed in range(10):
        inputs = cases._random_pool(True)(np.random.default_rng([seed, 5]))
        out, cache = forward(*args_of(inputs))
        np.testing.assert_allclose(out, ref.pool_forward(kind, *args_of(inputs))["out"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(backward(inputs["dout"], cache),
                                   ref.pool_backward(kind, *args_of(inputs), inputs["dout"])["dx"],
                                   rtol=1e-12, atol=1e-12, err_msg=f"seed {seed}")


@pytest.mark.parametrize("unit", ["max_pool2d_forward", "avg_pool2d_forward"])
@pytest.mark.parametrize("arguments, name", [
    ((2, None, "full"), "padding"),
    ((0, None, "valid"), "pool_size"),
    ((2, (1, 2, 3), "valid"), "strides"),
    ((7, None, "valid"), "pool_size"),
])
def test_bad_arguments_raise_value_error_naming_them(solution, unit, arguments, name):
    with pytest.raises(ValueError, match=f"Received {name}="):
        solution[unit](np.zeros((1, 5, 5, 2)), *arguments)
    with pytest.raises(ValueError, match="Received x.shape="):
        solution[unit](np.zeros((5, 5, 2)), 2)


def test_float32_stays_float32(solution):
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype(np.float32)
    for kind in KINDS:
        out, cache = solution[f"{kind}_pool2d_forward"](x, 3, 2, "same")
        assert out.dtype == np.float32
        assert solution[f"{kind}_pool2d_backward"](np.ones_like(out), cache).dtype == np.float32


# ----------------------------------------------------------------------------- mistakes, made independently

def _padded(inputs, value, swap=False):
    """x padded by hand (TensorFlow's pads, or swapped), to pool with 'valid'."""
    (_, pads) = cases.pool_pads(inputs["x"].shape, inputs["pool_size"], inputs["strides"], inputs["padding"], swap)
    return np.pad(inputs["x"], ((0, 0), *pads, (0, 0)), constant_values=value), pads


def _windows(inputs, swap=False):
    """(output index, window slices in x) of every window; a plain loop."""
    (ph, pw), (sh, sw) = geometry.pair(inputs["pool_size"]), geometry.pair(inputs["strides"] or inputs["pool_size"])
    (out_h, out_w), ((top, _), (left, _)) = cases.pool_pads(inputs["x"].shape, inputs["pool_size"], inputs["strides"],
                                                             inputs["padding"], swap)
    h, w = inputs["x"].shape[1:3]
    for i in range(out_h):
        for j in range(out_w):
            r, c = i * sh - top, j * sw - left
            yield (i, j), (slice(max(r, 0), min(r + ph, h)), slice(max(c, 0), min(c + pw, w)))


def _max_all_ties(solution, inputs):
    x, dout, dx = inputs["x"], inputs["dout"], np.zeros_like(inputs["x"])
    for (i, j), (rows, cols) in _windows(inputs):
        window = x[:, rows, cols]
        dx[:, rows, cols] += (window == window.max(axis=(1, 2), keepdims=True)) * dout[:, i:i + 1, j:j + 1]
    return dx


def _max_last_tie(solution, inputs):
    flip = (slice(None), slice(None, None, -1), slice(None, None, -1))
    _, cache = solution["max_pool2d_forward"](inputs["x"][flip], *args_of(inputs)[1:])
    return solution["max_pool2d_backward"](inputs["dout"][flip], cache)[flip]


def _overwrite(solution, inputs, kind):
    x, dout, dx = inputs["x"], inputs["dout"], np.zeros_like(inputs["x"])
    for (i, j), (rows, cols) in _windows(inputs):
        window = x[:, rows, cols]
        if kind == "avg":
            dx[:, rows, cols] = dout[:, i:i + 1, j:j + 1] / (window.shape[1] * window.shape[2])
            continue
        flat = window.reshape(len(x), -1, x.shape[3])
        first = flat.argmax(axis=1)
        for n in range(len(x)):
            for c in range(x.shape[3]):
                u, v = divmod(int(first[n, c]), window.shape[2])
                dx[n, rows.start + u, cols.start + v, c] = dout[n, i, j, c]
    return dx


def _via_padding(solution, inputs, kind, value, swap=False, backward=False):
    padded, ((top, _), (left, _)) = _padded(inputs, value, swap)
    h, w = inputs["x"].shape[1:3]
    out, cache = solution[f"{kind}_pool2d_forward"](padded, inputs["pool_size"], inputs["strides"], "valid")
    if not backward:
        return out
    return solution[f"{kind}_pool2d_backward"](inputs["dout"], cache)[:, top:top + h, left:left + w]


def _avg_swapped(solution, inputs):
    x = inputs["x"]
    out = np.zeros((len(x), *cases.pool_pads(x.shape, *args_of(inputs)[1:])[0], x.shape[3]))
    for (i, j), (rows, cols) in _windows(inputs, swap=True):
        out[:, i, j] = x[:, rows, cols].mean(axis=(1, 2))
    return out


def _avg_undivided(solution, inputs):
    count = np.zeros(inputs["dout"].shape[1:3])
    for (i, j), (rows, cols) in _windows(inputs):
        count[i, j] = (rows.stop - rows.start) * (cols.stop - cols.start)
    _, cache = solution["avg_pool2d_forward"](*args_of(inputs))
    return solution["avg_pool2d_backward"](inputs["dout"] * count[None, :, :, None], cache)


WRONG = [
    ("max_pool2d_forward", "negative values", "padded cells counted as zeros",
     lambda s, i: _via_padding(s, i, "max", 0.0)),
    ("max_pool2d_forward", "2x2 pool, stride 2, same", "went before the input",
     lambda s, i: _via_padding(s, i, "max", -np.inf, swap=True)),
    ("max_pool2d_forward", "2x2 pool, default strides", "strides=None means strides = pool_size",
     lambda s, i: s["max_pool2d_forward"](i["x"], i["pool_size"], 1, i["padding"])[0]),
    ("max_pool2d_backward", "ties", "every tied maximum got the gradient", _max_all_ties),
    ("max_pool2d_backward", "ties", "the last tied maximum", _max_last_tie),
    ("max_pool2d_backward", "3x3 pool, stride 2", "overwrote each other's gradient",
     lambda s, i: _overwrite(s, i, "max")),
    ("max_pool2d_backward", "2x2 pool, stride 2, same", "went before the input",
     lambda s, i: _via_padding(s, i, "max", -np.inf, swap=True, backward=True)),
    ("avg_pool2d_forward", "3x3 pool, stride 2", "padded cells were counted in the mean",
     lambda s, i: _via_padding(s, i, "avg", 0.0)),
    ("avg_pool2d_forward", "2x2 pool, stride 2, same", "went before the input",
     _avg_swapped),
    ("avg_pool2d_forward", "2x2 pool, default strides", "strides=None means strides = pool_size",
     lambda s, i: s["avg_pool2d_forward"](i["x"], i["pool_size"], 1, i["padding"])[0]),
    ("avg_pool2d_backward", "(3, 2) pool", "not divided by the number of cells", _avg_undivided),
    ("avg_pool2d_backward", "3x3 pool, stride 2", "divided by the full window",
     lambda s, i: _via_padding(s, i, "avg", 0.0, backward=True)),
    ("avg_pool2d_backward", "3x3 pool, stride 2", "overwrote each other's gradient",
     lambda s, i: _overwrite(s, i, "avg")),
]


@pytest.mark.parametrize("unit, case_name, mistake, wrong", WRONG, ids=[f"{w[0]}: {w[2]}" for w in WRONG])
def test_mistakes_are_named(solution, unit, case_name, mistake, wrong):
    case = public_case(unit, case_name)
    inputs = case.make_inputs(None)
    value = wrong(solution, inputs)
    reply = {"status": "ok", "value": value if unit.endswith("backward") else (value, None), "mutated": []}
    verdict = judge(case, inputs, lambda: case.reference(**inputs), reply)
    assert not verdict.passed
    assert "known mistake" in verdict.message and mistake in verdict.message, verdict.message
