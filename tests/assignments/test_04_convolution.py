"""Assignment 04 (convolution): references against Keras and central differences, the solution against
the references, every named mistake recognised, the speed check, and argument errors."""

from __future__ import annotations


import numpy as np
import pytest

from dlcourse.autograder.cases import convolution as cases
from dlcourse.autograder.engine.case import Assignment
from dlcourse.autograder.engine.compare import judge
from dlcourse.autograder.engine.runner import CaseRunner, in_process
from conftest import SOLUTIONS, TEST_SECRET, code_cell, solution_namespace, write_variant
from dlcourse.references import conv_numpy
from dlcourse.references import convolution as ref
from dlcourse.references.geometry import conv_output_shape, pair, tf_geometry

NAME = "04_convolution"
ASSIGNMENT = cases.ASSIGNMENT


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(NAME)


# ----------------------------------------------------------------------------- an independent NumPy convolution

def numpy_conv(x, w, b, strides, pads):
    """Cross-correlation with explicit padding ((top, bottom), (left, right)), by einsum over each tap."""
    sh, sw = pair(strides)
    xp = np.pad(x, ((0, 0), *pads, (0, 0)))
    kh, kw = w.shape[:2]
    ho = (xp.shape[1] - kh) // sh + 1
    wo = (xp.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], ho, wo, w.shape[3])) + b
    for u in range(kh):
        for v in range(kw):
            out += np.einsum("nijc,cf->nijf", xp[:, u:u + sh * (ho - 1) + 1:sh, v:v + sw * (wo - 1) + 1:sw], w[u, v])
    return out


def numpy_conv_grads(x, w, b, strides, pads, dout):
    """Gradients of ``sum(numpy_conv(...) * dout)``, by the same taps."""
    sh, sw = pair(strides)
    xp = np.pad(x, ((0, 0), *pads, (0, 0)))
    kh, kw = w.shape[:2]
    ho, wo = dout.shape[1:3]
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for u in range(kh):
        for v in range(kw):
            rows, cols = slice(u, u + sh * (ho - 1) + 1, sh), slice(v, v + sw * (wo - 1) + 1, sw)
            dxp[:, rows, cols] += np.einsum("nijf,cf->nijc", dout, w[u, v])
            dw[u, v] = np.einsum("nijc,nijf->cf", xp[:, rows, cols], dout)
    (top, _), (left, _) = pads
    dx = dxp[:, top:top + x.shape[1], left:left + x.shape[2]]
    return {"dx": dx, "dw": dw, "db": dout.sum(axis=(0, 1, 2))}


def tf_pads(inputs):
    return cases._pads(inputs, lambda *a: tf_geometry(*a, inputs["padding"])[1:])


def public_case(unit, name_start):
    return next(case for case in ASSIGNMENT.cases if case.unit == unit and case.name.startswith(name_start))


# ----------------------------------------------------------------------------- references

def test_tf_geometry_matches_keras():
    """The grader's own padding rule (used for shapes and mistakes) is the one Keras applies."""
    for size in (1, 2, 3, 5, 8, 9):
        for kernel in range(1, 6):
            for stride in (1, 2, 3):
                for padding in ("valid", "same"):
                    if padding == "valid" and kernel > size:
                        continue
                    measured = ref.conv_geometry(size, kernel, stride, padding)
                    expected = tf_geometry(size, kernel, stride, padding)
                    assert (int(measured["out_size"]), int(measured["pad_before"]), int(measured["pad_after"])) \
                        == expected, (size, kernel, stride, padding)


@pytest.mark.parametrize("geometry", cases.GEOMETRIES, ids=[g[0] for g in cases.GEOMETRIES])
def test_reference_matches_numpy_convolution(geometry):
    _, x_shape, w_shape, strides, padding = geometry
    inputs = cases._conv_inputs(x_shape, w_shape, strides, padding, backward=True)(np.random.default_rng(0))
    args = {key: inputs[key] for key in ("x", "w", "b", "strides", "padding")}
    expected = ref.conv2d_forward(**args)["out"]
    assert expected.shape == conv_output_shape(x_shape, w_shape, strides, padding)
    np.testing.assert_allclose(expected, numpy_conv(inputs["x"], inputs["w"], inputs["b"], strides, tf_pads(inputs)),
                               rtol=1e-10, atol=1e-10)
    grads = ref.conv2d_backward(**inputs)
    mine = numpy_conv_grads(inputs["x"], inputs["w"], inputs["b"], strides, tf_pads(inputs), inputs["dout"])
    for name in ("dx", "dw", "db"):
        np.testing.assert_allclose(grads[name], mine[name], rtol=1e-10, atol=1e-10, err_msg=name)


def test_reference_gradients_match_central_differences():
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(1, 5, 4, 2)), rng.normal(size=(3, 2, 2, 2)), rng.normal(size=2)
    dout = rng.normal(size=conv_output_shape(x.shape, w.shape, 2, "same"))
    grads = ref.conv2d_backward(x, w, b, 2, "same", dout)
    arrays = {"x": x, "w": w, "b": b}
    h = 1e-5
    for name, array in arrays.items():
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            values = []
            for step in (h, -h):
                bumped = array.copy()
                bumped[index] += step
                out = ref.conv2d_forward(**{**arrays, name: bumped}, strides=2, padding="same")["out"]
                values.append(np.sum(out * dout))
            numeric[index] = (values[0] - values[1]) / (2 * h)
        np.testing.assert_allclose(grads[f"d{name}"], numeric, rtol=1e-6, atol=1e-8, err_msg=name)


def test_explicit_padding_reference_agrees_with_same():
    inputs = cases._conv_inputs((2, 8, 7, 2), (3, 4, 2, 3), (2, 3), "same", backward=True)(np.random.default_rng(1))
    pads = tf_pads(inputs)
    forward = ref.conv2d_padded(inputs["x"], inputs["w"], inputs["b"], inputs["strides"], pads)
    args = {key: inputs[key] for key in ("x", "w", "b", "strides", "padding")}
    np.testing.assert_allclose(forward["out"], ref.conv2d_forward(**args)["out"])
    grads = ref.conv2d_padded(inputs["x"], inputs["w"], inputs["b"], inputs["strides"], pads, inputs["dout"])
    expected = ref.conv2d_backward(**inputs)
    for name in ("dx", "dw", "db"):
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- the solution against the references

@pytest.mark.parametrize("suffix", ["", "_fast"])
def test_solution_matches_reference_on_random_shapes(solution, suffix):
    forward, backward = solution[f"conv2d_forward{suffix}"], solution[f"conv2d_backward{suffix}"]
    for seed in range(6):
        inputs = cases._random_conv(True)(np.random.default_rng([seed, len(suffix)]))
        args = [inputs[key] for key in ("x", "w", "b", "strides", "padding")]
        out, cache = forward(*args)
        np.testing.assert_allclose(out, ref.conv2d_forward(*args)["out"], rtol=1e-9, atol=1e-9)
        dx, dw, db = backward(inputs["dout"], cache)
        expected = ref.conv2d_backward(**inputs)
        for name, value in (("dx", dx), ("dw", dw), ("db", db)):
            np.testing.assert_allclose(value, expected[name], rtol=1e-9, atol=1e-9, err_msg=f"{name}, seed {seed}")


@pytest.mark.parametrize("block_values, blocks", [(1, 7), (2_000, 4), (None, 2)])
def test_fast_units_agree_with_the_reference_however_the_batch_is_split(solution, monkeypatch, block_values, blocks):
    """The fast units share blocks of images among threads, each writing its own images: one image per
    block, uneven blocks, and the notebook's own block size all give the reference's values."""
    if block_values is not None:
        monkeypatch.setitem(solution, "BLOCK_VALUES", block_values)
    monkeypatch.setitem(solution, "CORES", 2)  # the same blocks on any machine
    rng = np.random.default_rng(7)
    x, w, b = rng.normal(size=(7, 10, 11, 3)), rng.normal(size=(3, 3, 3, 5)), rng.normal(size=5)
    assert len(solution["image_blocks"](7, 5 * 6 * 3 * 3 * 3)) == blocks  # 5 x 6 windows of 27 values
    out, cache = solution["conv2d_forward_fast"](x, w, b, 2, "same")
    np.testing.assert_allclose(out, ref.conv2d_forward(x, w, b, 2, "same")["out"], rtol=1e-9, atol=1e-9)
    dout = rng.normal(size=out.shape)
    expected = ref.conv2d_backward(x, w, b, 2, "same", dout)
    for name, value in zip(("dx", "dw", "db"), solution["conv2d_backward_fast"](dout, cache)):
        np.testing.assert_allclose(value, expected[name], rtol=1e-9, atol=1e-9, err_msg=name)


def test_solution_geometry_matches_keras_on_hidden_cases(solution):
    for case in ASSIGNMENT.cases:
        if case.unit == "conv_geometry":
            inputs = case.make_inputs(TEST_SECRET)
            expected = ref.conv_geometry(**inputs)
            assert solution["conv_geometry"](**inputs) == tuple(int(expected[k]) for k in case.outputs)


def test_fast_forward_keeps_float32(solution):
    rng = np.random.default_rng(0)
    x, w, b = (rng.normal(size=shape).astype(np.float32) for shape in ((2, 9, 9, 3), (3, 3, 3, 4), (4,)))
    out, cache = solution["conv2d_forward_fast"](x, w, b, 2, "same")
    assert out.dtype == np.float32
    assert all(grad.dtype == np.float32 for grad in solution["conv2d_backward_fast"](np.ones_like(out), cache))


@pytest.mark.parametrize("unit", ["conv2d_forward", "conv2d_forward_fast"])
@pytest.mark.parametrize("call, argument", [
    (lambda f, x, w, b: f(x, w, b, 1, "full"), "padding"),
    (lambda f, x, w, b: f(x, w, b, 0, "same"), "strides"),
    (lambda f, x, w, b: f(x, w, b, (1, 2, 3), "same"), "strides"),
    (lambda f, x, w, b: f(x, w[:, :, :1], b, 1, "same"), "w"),
    (lambda f, x, w, b: f(x[0], w, b, 1, "same"), "x"),
    (lambda f, x, w, b: f(x, w, b[:1], 1, "same"), "b"),
    (lambda f, x, w, b: f(x[:, :2], w, b, 1, "valid"), "kernel_size"),
])
def test_bad_arguments_raise_value_error_naming_them(solution, unit, call, argument):
    x, w, b = np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 2, 4)), np.zeros(4)
    with pytest.raises(ValueError, match=f"Received {argument}[=.]"):
        call(solution[unit], x, w, b)


# ----------------------------------------------------------------------------- mistakes

def _verdict(case, inputs, value):
    reply = {"status": "ok", "value": value, "mutated": []}
    return judge(case, inputs, lambda: case.reference(**inputs), reply)


def _stride_one_pads(inputs):
    return cases._pads(inputs, lambda n, k, s: ((k - 1) // 2, k - 1 - (k - 1) // 2))


def _swapped_pads(inputs):
    return tuple(pair[::-1] for pair in tf_pads(inputs))


def _truncated(inputs):
    x, w, (sh, sw) = inputs["x"], inputs["w"], pair(inputs["strides"])
    out = numpy_conv(x, w, inputs["b"], inputs["strides"], tf_pads(inputs))
    return out[:, :x.shape[1] // sh - w.shape[0] + 1, :x.shape[2] // sw - w.shape[1] + 1]


def _conv(i, w=None, b=None, pads=None):
    return numpy_conv(i["x"], i["w"] if w is None else w, i["b"] if b is None else b, i["strides"], pads or tf_pads(i))


FORWARD_WRONG = {
    "the kernel is flipped": ("same, stride 2", lambda i: _conv(i, w=i["w"][::-1, ::-1])),
    "extra row or column of 'same' padding went before": ("same, stride 2", lambda i: _conv(i, pads=_swapped_pads(i))),
    "'same' padding ignores the stride": ("same, stride 3", lambda i: _conv(i, pads=_stride_one_pads(i))),
    "stride was applied to the input size": ("valid, stride 2", _truncated),
    "channels-first": ("same, stride 1", lambda i: _conv(i).transpose(0, 3, 1, 2)),
    "bias `b` is not added": ("same, stride 3", lambda i: _conv(i, b=0 * i["b"])),
}


@pytest.mark.parametrize("unit", ["conv2d_forward", "conv2d_forward_fast"])
@pytest.mark.parametrize("mistake", list(FORWARD_WRONG))
def test_forward_mistakes_are_named(unit, mistake):
    case_name, wrong = FORWARD_WRONG[mistake]
    case = public_case(unit, case_name)
    inputs = case.make_inputs(None)
    verdict = _verdict(case, inputs, (wrong(inputs), None))
    assert not verdict.passed
    assert "known mistake" in verdict.message and mistake in verdict.message, verdict.message


def _grads(i, w=None, pads=None):
    return numpy_conv_grads(i["x"], i["w"] if w is None else w, i["b"], i["strides"], pads or tf_pads(i), i["dout"])


def _flipped_grads(i):
    grads = _grads(i, w=i["w"][::-1, ::-1])
    return {**grads, "dw": grads["dw"][::-1, ::-1]}


BACKWARD_WRONG = {
    "the kernel is flipped": ("same, stride 2", _flipped_grads),
    "extra row or column of 'same' padding went before": ("same, stride 2", lambda i: _grads(i, pads=_swapped_pads(i))),
    "db sums only over the batch": ("same, stride 1", lambda i: {**_grads(i), "db": i["dout"].sum(axis=0)}),
    "db is a mean": ("valid, strides (3, 2)", lambda i: {**_grads(i), "db": i["dout"].mean(axis=(0, 1, 2))}),
    "PyTorch's (F, C, kh, kw) layout": ("same, stride 3",
                                        lambda i: {**_grads(i), "dw": _grads(i)["dw"].transpose(3, 2, 0, 1)}),
}


@pytest.mark.parametrize("unit", ["conv2d_backward", "conv2d_backward_fast"])
@pytest.mark.parametrize("mistake", list(BACKWARD_WRONG))
def test_backward_mistakes_are_named(unit, mistake):
    case_name, wrong = BACKWARD_WRONG[mistake]
    case = public_case(unit, case_name)
    inputs = case.make_inputs(None)
    grads = wrong(inputs)
    verdict = _verdict(case, inputs, (grads["dx"], grads["dw"], grads["db"]))
    assert not verdict.passed
    assert "known mistake" in verdict.message and mistake in verdict.message, verdict.message


@pytest.mark.parametrize("mistake, case_name, wrong", [
    ("extra padding went before", "n=8, k=3, s=2, same", (4, 1, 0)),
    ("'same' padding ignores the stride", "n=8, k=3, s=2, same", (4, 1, 1)),
    ("stride was applied to the input size", "n=10, k=4, s=3, valid", (0, 0, 0)),
    ("'same' rounds down", "n=10, k=4, s=3, same", (3, 1, 2)),
])
def test_geometry_mistakes_are_named(mistake, case_name, wrong):
    case = public_case("conv_geometry", case_name)
    inputs = case.make_inputs(None)
    assert _verdict(case, inputs, tf_geometry(*inputs.values())).passed
    verdict = _verdict(case, inputs, wrong)
    assert not verdict.passed and mistake in verdict.message, verdict.message


# ----------------------------------------------------------------------------- mistakes in student code (issue 26)

NAIVE_BACKWARD = '''
import numpy as np
def conv2d_backward(dout, cache):
    x, w, (sh, sw), padding = cache
    _, height, width, _ = x.shape
    kh, kw, _, _ = w.shape
    out_h, top, bottom = conv_geometry(height, kh, sh, padding)
    out_w, left, right = conv_geometry(width, kw, sw, padding)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    n, filters = x.shape[0], w.shape[3]
    w_matrix = W_MATRIX
    dxp = np.zeros_like(xp)
    dw_matrix = np.zeros((kh * kw * w.shape[2], filters))
    for i in range(out_h):
        for j in range(out_w):
            rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
            g = dout[:, i, j, :]
            dxp[:, rows, cols, :] DX_OP (g @ w_matrix.T).reshape(n, kh, kw, -1)
            dw_matrix DW_OP xp[:, rows, cols, :].reshape(n, -1).T @ g
    return dxp[:, top:top + height, left:left + width, :], DW, dout.sum(axis=(0, 1, 2))
'''


def _naive_backward(dx_op="+=", dw_op="+=", w_matrix="w.reshape(-1, filters)", dw="dw_matrix.reshape(w.shape)"):
    """A student's loop over output positions, with one of its pieces written wrong."""
    return (NAIVE_BACKWARD.replace("W_MATRIX", w_matrix).replace("DX_OP", dx_op).replace("DW_OP", dw_op)
            .replace("DW", dw))


SWAPPED_FORWARD = '''
import numpy as np
def conv2d_forward(x, w, b, strides=1, padding="valid"):
    sh, sw = as_pair(strides, "strides")
    n, height, width, _ = x.shape
    kh, kw, _, filters = w.shape
    out_h, top, bottom = conv_geometry(height, kh, sh, padding)
    out_w, left, right = conv_geometry(width, kw, sw, padding)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    w_matrix = w.transpose(1, 0, 2, 3).reshape(-1, filters)
    out = np.empty((n, out_h, out_w, filters))
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j, :] = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :].reshape(n, -1) @ w_matrix + b
    return out, (x, w, (sh, sw), padding)
'''

STUDENT_MISTAKES = [
    ("conv2d_backward", _naive_backward(dx_op="="), "dx: `=` instead of `+=`"),
    ("conv2d_backward", _naive_backward(dw_op="="), "dw: `=` instead of `+=`"),
    ("conv2d_backward", _naive_backward(dx_op="=", dw_op="="), "dx and dw both use `=` instead of `+=`"),
    ("conv2d_backward", _naive_backward(w_matrix="w[::-1, ::-1].reshape(-1, filters)"),
     "dx was computed with the kernel flipped"),
    ("conv2d_forward", SWAPPED_FORWARD, "the kernel's axes kh and kw are swapped"),
    ("conv2d_backward", _naive_backward(w_matrix="w.transpose(1, 0, 2, 3).reshape(-1, filters)",
                                        dw="dw_matrix.reshape(kw, kh, w.shape[2], filters).transpose(1, 0, 2, 3)"),
     "the kernel's axes kh and kw are swapped"),
]


@pytest.mark.parametrize("unit, source, mistake", STUDENT_MISTAKES,
                         ids=[f"{unit}: {name}" for unit, _, name in STUDENT_MISTAKES])
def test_mistakes_in_student_loops_are_named(solution, unit, source, mistake):
    """The wrong loop, run as ``check()`` runs it, fails and is named on a public case; every case that names
    a mistake names this one (a dx-only `=` is not called a dx-and-dw one)."""
    changed = dict(solution)
    exec(compile(source, "cell 99", "exec"), changed)  # the test's own wrong answers
    runner = CaseRunner(in_process(changed), lambda case, inputs: case.reference(**inputs))
    verdicts = [runner.verdict(case) for case in ASSIGNMENT.public_cases() if case.unit == unit]
    failing = [verdict.message for verdict in verdicts if not verdict.passed]
    assert any(f"This matches a known mistake: {mistake}" in message for message in failing), failing
    assert all(mistake in message for message in failing if "known mistake" in message), failing


# ----------------------------------------------------------------------------- the speed check

def _timed_cases(unit):
    return [case for case in ASSIGNMENT.cases if case.unit == unit and case.name.startswith("timed")]


def _judge_runs(runs, inputs, expected, received, pairs):
    """The last run's verdict after ``pairs`` of (run seconds, reference seconds timed right after it)."""
    earlier = {run.id: seconds for run, (seconds, _) in zip(runs, pairs[:-1])}
    yardsticks = {run.id: reference for run, (_, reference) in zip(runs, pairs[:-1])}
    seconds, reference = pairs[-1]
    return runs[len(pairs) - 1].judge(inputs, {**expected, "reference_seconds": reference}, received,
                                      {"seconds": seconds, "earlier": {"other": 1.0, **earlier}, "yardsticks": yardsticks})


def test_speed_judge_pairs_each_run_with_its_reference_and_takes_the_median():
    runs = _timed_cases("conv2d_forward_fast")
    assert len(runs) == 3 and all(run.fresh for run in runs)
    inputs = runs[0].make_inputs(None)
    expected = ref.conv2d_forward(**inputs)
    received = {"out": expected["out"], "cache": None}
    at = lambda ratio, reference=0.001: (cases.ROUND_TRIP + ratio * reference, reference)  # noqa: E731
    assert _judge_runs(runs, inputs, expected, received, [at(500)])[0]  # one run: not judged yet
    ok, message = _judge_runs(runs, inputs, expected, received, [at(60), at(70), at(55)])
    assert not ok and "too slow" in message and "median ratio" in message and "is 60.0x" in message, message
    assert _judge_runs(runs, inputs, expected, received, [at(20), at(400), at(30)])[0]  # one stalled run
    assert _judge_runs(runs, inputs, expected, received, [at(20), at(30, 1e-5), at(30)])[0]  # one stalled reference
    for load in (1, 8, 30):  # a loaded machine slows both sides of a pair: the same verdicts
        slow = [at(ratio, 0.001 * load) for ratio in (70, 90, 80)]
        fast = [at(ratio, 0.001 * load) for ratio in (10, 25, 12)]
        assert not _judge_runs(runs, inputs, expected, received, slow)[0]
        assert _judge_runs(runs, inputs, expected, received, fast)[0]
    # Load that changes between runs: a quiet first run, then a loaded machine for the rest and for the last
    # reference. Best run against the last reference said 70 ms vs 50 x 8 ms: passed. Pairs say 70x: too slow.
    changing = [at(70, 0.001), at(70, 0.008), at(70, 0.008)]
    assert not _judge_runs(runs, inputs, expected, received, changing)[0]
    assert runs[2].judge(inputs, {**expected, "reference_seconds": 0.001}, received,
                         {"seconds": 0.0, "earlier": {}})[0]  # check() in a notebook
    wrong = {"out": expected["out"] + 1, "cache": None}
    assert not _judge_runs(runs, inputs, expected, wrong, [at(1), at(1), at(1)])[0]


def test_timed_inputs_are_fresh_each_grading():
    run = _timed_cases("conv2d_backward_fast")[0]
    first, second = run.make_inputs(TEST_SECRET), run.make_inputs(TEST_SECRET)
    assert first["x"].shape == second["x"].shape and not np.array_equal(first["x"], second["x"])


@pytest.mark.parametrize("geometry", cases.GEOMETRIES + (cases.TIMED,), ids=lambda g: g[0])
def test_grader_side_numpy_convolution_equals_keras(geometry):
    """The speed yardstick computes what Conv2D computes, so it also judges the timed cases' values."""
    _, x_shape, w_shape, strides, padding = geometry
    rng = np.random.default_rng(len(geometry[0]))
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[3])
    dout = rng.normal(size=conv_output_shape(x_shape, w_shape, strides, padding))
    timed = conv_numpy.timed_backward(x, w, b, strides, padding, dout)
    assert timed["reference_seconds"] > 0
    for name, value in ref.conv2d_backward(x, w, b, strides, padding, dout).items():
        np.testing.assert_allclose(timed[name], value, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv_numpy.timed_forward(x, w, b, strides, padding)["out"],
                               ref.conv2d_forward(x, w, b, strides, padding)["out"], rtol=1e-10, atol=1e-10)


def test_fast_units_that_call_the_naive_ones_fail_the_speed_check(grader, tmp_path):
    """Graded in the sandbox with the timed cases only: correct, but not faster."""
    def edit(notebook):
        notebook["cells"].append(code_cell(
            "def conv2d_forward_fast(x, w, b, strides=1, padding='valid'):\n"
            "    return conv2d_forward(x, w, b, strides, padding)\n"))
    path = write_variant(tmp_path, SOLUTIONS / f"{NAME}.ipynb", edit)
    timed = tuple(_timed_cases("conv2d_forward") + _timed_cases("conv2d_forward_fast"))
    result = grader.grade(path, Assignment(NAME, "timed only", timed))
    verdicts = [r.verdict for r in result.results]
    assert [v.passed for v in verdicts] == [True, True, True, False], [v.message for v in verdicts]
    assert "too slow" in verdicts[-1].message
