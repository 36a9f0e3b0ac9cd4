"""Assignment 06 (cnn_architectures): dropout semantics, augmentations against Keras and independent loops,
LeNet-5 from NumPy layers, the architecture judge, the training judge, mistakes and argument errors."""

from __future__ import annotations


import numpy as np
import pytest

from dlcourse.autograder.cases import cnn_architectures as cases
from dlcourse.autograder.engine.compare import judge
from conftest import solution_namespace
from dlcourse.references import cnn_architectures as ref

NAME = "06_cnn_architectures"
ASSIGNMENT = cases.ASSIGNMENT


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(NAME)


def public_case(unit, name_start):
    return next(case for case in ASSIGNMENT.cases if case.unit == unit and case.name.startswith(name_start))


def verdict_of(case, inputs, value):
    reply = {"status": "ok", "value": value, "mutated": []}
    return judge(case, inputs, lambda: case.reference(**inputs), reply)


def call(solution, case, inputs):
    """The solution's unit on a case's inputs, as the worker calls it (an rng seed becomes a Generator)."""
    args = [np.random.default_rng(v["__rng__"]) if isinstance(v, dict) else v for v in inputs.values()]
    return solution[case.unit](*args)


# ----------------------------------------------------------------------------- dropout

@pytest.mark.parametrize("rate", [0.0, 0.25, 0.5, 0.8])
def test_keras_dropout_scales_kept_values_by_one_over_keep_probability(rate):
    x = np.linspace(-1, 1, 30).reshape(5, 6)
    forward = ref.dropout_forward(x, rate, True)
    assert forward["scale"] == pytest.approx(1 / (1 - rate), rel=1e-12)
    np.testing.assert_array_equal(forward["eval_out"], x)
    backward = ref.dropout_backward(x, rate, True, None, 2 * x)
    assert backward["scale"] == pytest.approx(1 / (1 - rate), rel=1e-12)
    np.testing.assert_array_equal(backward["eval_dx"], 2 * x)


def _dropout_case(unit, name):
    case = public_case(unit, name)
    inputs = case.make_inputs(None)
    return case, inputs, case.reference(**inputs)


def test_solution_dropout_passes_and_wrong_masks_are_named(solution):
    case, inputs, expected = _dropout_case("dropout_forward", "rate 0.3")
    out, _ = call(solution, case, inputs)
    assert case.judge(inputs, expected, {"out": out}, {})[0]
    x, rate = inputs["x"], inputs["rate"]
    keep = np.random.default_rng(1).random(x.shape) >= rate
    wrong = {
        "are not scaled": x * keep,
        "multiplied by 1 - rate": x * keep * (1 - rate),
        "rate is the share dropped": x * (np.random.default_rng(2).random(x.shape) < rate) / (1 - rate),
        "not the input times": x * keep * 1.5,
        "with rate=0.3 about 0.300": x * (np.random.default_rng(3).random(x.shape) >= 0.6) / (1 - rate),
    }
    for message, value in wrong.items():
        ok, text = case.judge(inputs, expected, {"out": value}, {})
        assert not ok and message in text, (message, text)


def test_dropout_at_test_time_is_the_identity(solution):
    case, inputs, expected = _dropout_case("dropout_forward", "rate 0.5, training=False")
    out, _ = call(solution, case, inputs)
    assert case.judge(inputs, expected, {"out": out}, {})[0]
    ok, text = case.judge(inputs, expected, {"out": inputs["x"] * 0.5}, {})
    assert not ok and "original dropout's test-time rule" in text
    halved = inputs["x"] * (np.arange(inputs["x"].size) % 2).reshape(inputs["x"].shape)
    ok, text = case.judge(inputs, expected, {"out": halved}, {})
    assert not ok and "identity" in text


def test_dropout_backward_uses_the_forward_mask(solution):
    """Central differences through a fixed mask (the same seed each call) equal dropout_backward."""
    rng = np.random.default_rng(0)
    x, g = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    out, cache = solution["dropout_forward"](x, 0.4, True, np.random.default_rng(9))
    dx = solution["dropout_backward"](g, cache)
    h, numeric = 1e-6, np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += h
        minus[index] -= h
        f = lambda v: np.sum(solution["dropout_forward"](v, 0.4, True, np.random.default_rng(9))[0] * g)  # noqa: E731
        numeric[index] = (f(plus) - f(minus)) / (2 * h)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-8)
    case, inputs, expected = _dropout_case("dropout_backward", "rate 0.75")
    _, cache = solution["dropout_forward"](inputs["x"], inputs["rate"], True, np.random.default_rng(1))
    assert case.judge(inputs, expected, {"dx": solution["dropout_backward"](inputs["dout"], cache)}, {})[0]
    ok, text = case.judge(inputs, expected, {"dx": inputs["dout"] * (cache[0])}, {})
    assert not ok and "are not scaled" in text


# ----------------------------------------------------------------------------- augmentation

def loop_translate(images, dy, dx, fill_mode, fill_value):
    """out[:, r, c] = images[:, source(r - dy), source(c - dx)], with each fill mode's index rule."""
    n, h, w, c = images.shape

    def source(index, size):
        if 0 <= index < size:
            return index
        if fill_mode == "constant":
            return None
        if fill_mode == "nearest":
            return min(max(index, 0), size - 1)
        if fill_mode == "wrap":
            return index % size
        folded = index % (2 * size)  # reflect: d c b a | a b c d | d c b a, period 2 * size
        return folded if folded < size else 2 * size - 1 - folded

    out = np.full_like(images, fill_value)
    for r in range(h):
        for col in range(w):
            i, j = source(r - dy, h), source(col - dx, w)
            if i is not None and j is not None:
                out[:, r, col] = images[:, i, j]
    return out


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "wrap"])
def test_keras_translation_is_the_index_rule_of_each_fill_mode(fill_mode):
    """For every shift the grader draws (|shift| <= size - 2); fill_value passes through float32 in Keras."""
    images = np.random.default_rng(0).uniform(size=(2, 5, 6, 2))
    for dy, dx in ((0, 0), (2, -3), (-3, 4), (3, 1), (-1, -4)):
        np.testing.assert_allclose(ref.translate(images, dy, dx, fill_mode, 0.25)["out"],
                                   loop_translate(images, dy, dx, fill_mode, 0.25), rtol=1e-7, err_msg=f"{dy}, {dx}")
    if fill_mode != "wrap":
        for dy, dx in ((4, -5), (-4, 5), (7, 9)):
            np.testing.assert_allclose(ref.translate(images, dy, dx, fill_mode, 0.25)["out"],
                                       loop_translate(images, dy, dx, fill_mode, 0.25), rtol=1e-7)


def test_tensorflow_wrap_is_not_periodic_beyond_size_minus_two():
    """Why the grader keeps |shift| <= size - 2: TensorFlow's "wrap" clamps instead of wrapping beyond it."""
    row = np.arange(8.0).reshape(1, 1, 8, 1)
    assert ref.translate(row, 0, 6, "wrap")["out"].ravel().tolist() == [2, 3, 4, 5, 6, 7, 0, 1]
    assert ref.translate(row, 0, 7, "wrap")["out"].ravel().tolist() != [1, 2, 3, 4, 5, 6, 7, 0]


def test_keras_flip_and_brightness_are_the_textbook_operations():
    images = np.random.default_rng(1).uniform(size=(3, 4, 5, 2))
    np.testing.assert_array_equal(ref.flip_horizontal(images)["out"], images[:, :, ::-1])
    np.testing.assert_allclose(ref.adjust_brightness(images * 255, 0.2, (0.0, 255.0))["out"],
                               np.clip(images * 255 + 51, 0, 255), rtol=1e-12)
    deltas = np.array([0.5, -0.5, 0.1])
    np.testing.assert_allclose(ref.adjust_brightness(images, deltas)["out"],
                               np.clip(images + deltas[:, None, None, None], 0, 1), rtol=1e-12)


@pytest.mark.parametrize("unit", ["flip_horizontal", "translate", "adjust_brightness"])
def test_solution_augmentations_match_keras_on_random_inputs(solution, unit):
    make = {"flip_horizontal": cases._random_flip, "translate": cases._random_translate,
            "adjust_brightness": cases._random_brightness}[unit]
    for seed in range(8):
        inputs = make(np.random.default_rng(seed))
        np.testing.assert_allclose(solution[unit](**inputs), getattr(ref, unit)(**inputs)["out"], rtol=1e-7,
                                   atol=1e-12, err_msg=str({k: v for k, v in inputs.items() if k != "images"}))


WRONG_AUGMENTATIONS = [
    ("flip_horizontal", "batch of 2", "upside down", lambda i: i["images"][:, ::-1]),
    ("flip_horizontal", "batch of 2", "channels were reversed", lambda i: i["images"][:, :, :, ::-1]),
    ("translate", "down 2, right 3", "the wrong way", lambda i: loop_translate(i["images"], -2, -3, "constant", 0.0)),
    ("translate", "down 2, right 3", "were swapped", lambda i: loop_translate(i["images"], 3, 2, "constant", 0.0)),
    ("translate", "down 2, right 3", "np.roll", lambda i: np.roll(i["images"], (2, 3), axis=(1, 2))),
    ("translate", "up 1, left 2, fill_value 0.5", "fill_value was ignored",
     lambda i: loop_translate(i["images"], -1, -2, "constant", 0.0)),
    ("translate", "up 2, right 1, reflect", "np.pad's 'reflect'",
     lambda i: np.pad(i["images"], ((0, 0), (0, 2), (1, 0), (0, 0)), mode="reflect")[:, 2:, :-1]),
    ("adjust_brightness", "+0.3", "not clipped", lambda i: i["images"] + 0.3),
    ("adjust_brightness", "+0.1 on value_range (0, 255)", "a fraction of the value range",
     lambda i: np.clip(i["images"] + 0.1, 0, 255)),
    ("adjust_brightness", "+0.1 on value_range (0, 255)", "clipped to [0, 1]",
     lambda i: np.clip(i["images"] + 25.5, 0, 1)),
]


@pytest.mark.parametrize("unit, case_name, mistake, wrong", WRONG_AUGMENTATIONS,
                         ids=[f"{w[0]}: {w[2]}" for w in WRONG_AUGMENTATIONS])
def test_augmentation_mistakes_are_named(unit, case_name, mistake, wrong):
    case = public_case(unit, case_name)
    inputs = case.make_inputs(None)
    verdict = verdict_of(case, inputs, wrong(inputs))
    assert not verdict.passed and "known mistake" in verdict.message and mistake in verdict.message, verdict.message


# ----------------------------------------------------------------------------- LeNet-5

@pytest.mark.parametrize("input_shape, classes", [((32, 32, 1), 10), ((28, 28, 3), 5), ((35, 30, 2), 7)])
def test_weight_shapes_formula_matches_the_reference_build(input_shape, classes):
    built = ref.architecture("build_lenet5", input_shape, classes)["weight_shapes"]
    assert [tuple(shape) for shape in built] == cases.lenet5_weight_shapes(input_shape, classes)


def test_reference_lenet5_has_the_table_parameter_counts():
    description = ref.architecture("build_lenet5", (32, 32, 1), 10)
    assert [layer["params"] for layer in description["layers"]] == [156, 0, 2416, 0, 0, 48120, 10164, 850]
    assert description["params"] == 61706
    alexnet = ref.architecture("build_mini_alexnet", (32, 32, 1), 10)
    assert alexnet["params"] == 543882
    assert [layer["rate"] for layer in alexnet["layers"] if layer["class"] == "Dropout"] == [0.5, 0.5]
    assert {layer["activation"] for layer in alexnet["layers"] if layer["class"] == "Conv2D"} == {"relu"}


def test_solution_lenet5_forward_matches_keras(solution):
    for seed in range(3):
        inputs = cases._random_lenet5(np.random.default_rng(seed))
        np.testing.assert_allclose(solution["lenet5_forward"](**inputs), ref.lenet5_logits(**inputs)["logits"],
                                   rtol=1e-9, atol=1e-9)


def _lenet5_numpy(solution, x, params, pool="avg", activation=np.tanh, flatten="hwc"):
    w1, b1, w2, b2, w3, b3, w4, b4, w5, b5 = params
    pooled = solution["avg_pool2d_forward"] if pool == "avg" else (
        lambda a, size: (a.reshape(len(a), a.shape[1] // 2, 2, a.shape[2] // 2, 2, -1).max(axis=(2, 4)), None))
    a = pooled(activation(solution["conv2d_forward_fast"](x, w1, b1)[0]), 2)[0]
    a = pooled(activation(solution["conv2d_forward_fast"](a, w2, b2)[0]), 2)[0]
    a = (a.transpose(0, 3, 1, 2) if flatten == "chw" else a).reshape(len(a), -1)
    a = activation(a @ w3 + b3)
    return activation(a @ w4 + b4) @ w5 + b5


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


@pytest.mark.parametrize("mistake, variant", [
    ("max pooling", dict(pool="max")),
    ("ReLU was used", dict(activation=lambda a: np.maximum(a, 0))),
    ("flattened channels-first", dict(flatten="chw")),
    ("softmax was applied", None),
])
def test_lenet5_forward_mistakes_are_named(solution, mistake, variant):
    case = public_case("lenet5_forward", "3 digits")
    inputs = case.make_inputs(None)
    if variant is None:
        value = _softmax(_lenet5_numpy(solution, inputs["x"], inputs["params"]))
    else:
        value = _lenet5_numpy(solution, inputs["x"], inputs["params"], **variant)
    verdict = verdict_of(case, inputs, value)
    assert not verdict.passed and mistake in verdict.message, verdict.message


# ----------------------------------------------------------------------------- architecture judge

def _described(model, inputs=None):
    """What the keras_model driver returns: the description, and with the case's weights its logits."""
    value = ref.describe(model)
    if inputs is not None:
        model.set_weights(inputs["set_weights"])
        value["output"] = np.asarray(model(inputs["predict"], training=False), np.float64)
    return {"model": value}


def _arguments(inputs):
    return {"input_shape": inputs["input_shape"], "num_classes": inputs["num_classes"]}


@pytest.mark.parametrize("unit", ["build_lenet5", "build_mini_alexnet"])
def test_solution_builds_pass_the_architecture_judge(solution, unit):
    builds = [c for c in ASSIGNMENT.cases if c.unit == unit and c.driver.name == "keras_model"]
    assert len(builds) == 2 and all(c.fresh for c in builds)
    for case in builds:
        inputs = case.make_inputs(None)
        model = solution[unit](**_arguments(inputs))
        ok, message = case.judge(inputs, case.reference(**inputs), _described(model, inputs), {})
        assert ok, message


def test_architecture_judge_tolerates_input_layers_and_separate_activations():
    import keras

    L = keras.layers
    inputs = keras.Input((32, 32, 1))
    a = L.Activation("tanh")(L.Conv2D(6, 5)(inputs))
    a = L.AveragePooling2D(2)(a)
    a = L.Conv2D(16, 5, activation="tanh")(a)
    a = L.Flatten()(L.AveragePooling2D(2)(a))
    a = L.Dense(84, activation="tanh")(L.Dense(120, activation="tanh")(a))
    functional = keras.Model(inputs, L.Dense(10)(a))
    case = public_case("build_lenet5", "32x32x1")
    given = case.make_inputs(None)
    ok, message = case.judge(given, case.reference(**given), _described(functional, given), {})
    assert ok, message


def test_architecture_judge_names_the_first_wrong_layer():
    import keras

    L = keras.layers
    wrong = keras.Sequential([keras.Input((32, 32, 1)), L.Conv2D(6, 5, activation="tanh"), L.MaxPooling2D(2),
                              L.Conv2D(16, 5, activation="tanh"), L.AveragePooling2D(2), L.Flatten(),
                              L.Dense(120, activation="tanh"), L.Dense(84, activation="tanh"), L.Dense(10)])
    case = public_case("build_lenet5", "32x32x1")
    given = case.make_inputs(None)
    ok, message = case.judge(given, case.reference(**given), _described(wrong), {})
    assert not ok and message.startswith("layer 2: expected AveragePooling2D") and "received MaxPooling2D" in message
    short = keras.Sequential([keras.Input((32, 32, 1)), L.Conv2D(6, 5, activation="tanh")])
    ok, message = case.judge(given, case.reference(**given), _described(short), {})
    assert not ok and "fewer than the 8 expected" in message
    ok, message = case.judge(given, case.reference(**given), {"model": "a string"}, {})
    assert not ok


def test_logits_judge_catches_a_wrong_activation(solution):
    case = public_case("build_lenet5", "32x32x1")
    given = case.make_inputs(None)
    expected = case.reference(**given)
    for model, passes in ((solution["build_lenet5"](), True), (ref.build_lenet5(activation="relu"), False)):
        received = _described(model, given)
        if not passes:  # the relu model differs in its description too; keep only its logits wrong
            received["model"]["layers"] = expected["layers"]
        ok, message = case.judge(given, expected, received, {})
        assert ok == passes, message
        assert passes or "logits" in message, message


def test_a_description_without_the_logits_earns_nothing(solution):
    """The description is the worker's word (a replaced driver can send the reference's): no logits, no points."""
    case = public_case("build_lenet5", "32x32x1")
    given = case.make_inputs(None)
    expected = case.reference(**given)
    forged = {"model": {key: expected[key] for key in ("layers", "params", "weight_shapes")}}
    ok, message = case.judge(given, expected, forged, {})
    assert not ok and "logits" in message, message
    stale = _described(solution["build_lenet5"](), case.make_inputs(None))  # logits of another grading's weights
    ok, message = case.judge(given, expected, stale, {})
    assert not ok and "logits" in message, message


# ----------------------------------------------------------------------------- training judge

def test_training_judge_rejects_wrong_weights_and_accepts_good_ones():
    case = ASSIGNMENT.cases[-1]
    assert case.unit == "train_lenet5"
    held_out = case.reference(**case.make_inputs(None))
    good_shapes = cases.lenet5_weight_shapes((32, 32, 1), 10)
    random = cases.random_lenet5_weights(np.random.default_rng(0), (32, 32, 1), 10, np.float32)
    ok, text = case.judge({}, held_out, {"weights": random}, {"seconds": 1.0})
    assert not ok and "below the required" in text
    ok, text = case.judge({}, held_out, {"weights": random[:-1]}, {"seconds": 1.0})
    assert not ok and "a list of 10 arrays" in text
    broken = [np.full(shape, np.nan, np.float32) for shape in good_shapes]
    ok, text = case.judge({}, held_out, {"weights": broken}, {"seconds": 1.0})
    assert not ok and "NaN" in text


# ----------------------------------------------------------------------------- arguments, points

@pytest.mark.parametrize("call_unit, name", [
    (lambda s: s["dropout_forward"](np.ones(3), 1.0, True, np.random.default_rng(0)), "rate"),
    (lambda s: s["dropout_forward"](np.ones(3), -0.1, True, np.random.default_rng(0)), "rate"),
    (lambda s: s["translate"](np.ones((1, 3, 3, 1)), 1, 1, "mirror"), "fill_mode"),
    (lambda s: s["translate"](np.ones((1, 3, 3, 1)), 1.5, 1), "dy"),
    (lambda s: s["adjust_brightness"](np.ones((1, 3, 3, 1)), 0.1, (1.0, 0.0)), "value_range"),
    (lambda s: s["lenet5_forward"](np.ones((1, 32, 32, 1)), [np.ones(1)] * 9), "params"),
])
def test_bad_arguments_raise_value_error_naming_them(solution, call_unit, name):
    with pytest.raises(ValueError, match=name):
        call_unit(solution)
