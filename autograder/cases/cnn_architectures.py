"""Grading cases of assignment 06 (cnn_architectures), against ``dlcourse.references.cnn_architectures``.

Dropout masks are random, so dropout is judged by what every correct mask satisfies (values either
0 or ``x / (1 - rate)`` as Keras scales them, a dropped share consistent with ``rate``, the identity
when not training), and its mask must come from ``rng`` alone, the backward pass reusing the
forward's (``probes.rng_probed``). Augmentations are compared exactly with the deterministic core
of Keras's image layers. Models built by the student are described in the sandbox (Keras is importable there in this
assignment only) and compared layer by layer with reference builds; with the same weights they must
give the same logits. ``train_lenet5`` trains on a task drawn at each grading (ten new symbols,
``datasets.make_glyphs``, upsampled as the digits are), so only weights trained on the data given pass;
its training stops after the first epoch whose weights reach the bar (``MAX_JUDGED_EPOCHS``). Points add up to the
notebook's table.
"""

from __future__ import annotations

import functools

import numpy as np

from dlcourse.autograder.engine.case import Assignment, Case, ForwardBackward, KerasFit, KerasModel, Mistake
from dlcourse.autograder.engine.compare import compare_value, describe
from dlcourse.autograder.engine.probes import held_out_verdict, rng_probed
from dlcourse import datasets
from dlcourse.references import cnn_architectures as ref

Z_LIMIT = 5.0  # dropped-share check: |dropped - n rate| within 5 binomial standard deviations (and 1 unit)
REQUIRED_ACCURACY = 0.97
# train_lenet5 runs with "keras_fit": the weights after each of its first epochs are judged as the returned ones
# would be, and training stops after the first epoch that reaches the bar (the solution's: the 2nd-4th of 12).
MAX_JUDGED_EPOCHS = 20


def upsample_digits(x):
    """(N, 8, 8, 1) digits to (N, 32, 32, 1), each pixel a 4x4 block (the notebook's `upsample_digits`)."""
    return np.repeat(np.repeat(x, 4, axis=1), 4, axis=2)


# ----------------------------------------------------------------------------- dropout

def _dropout_inputs(shape, rate, training, backward=False):
    def make(rng):
        inputs = {"x": rng.normal(size=shape), "rate": rate, "training": training,
                  "rng": {"__rng__": int(rng.integers(2**31))}}
        if backward:
            inputs["dout"] = rng.normal(size=shape)
        return inputs
    return make


def _random_dropout(backward):
    """A random rate and a shape of at least 160 values (two masks of a correct dropout never coincide)."""
    def make(rng):
        shape = (int(rng.integers(20, 41)),) + tuple(int(v) for v in rng.integers(8, 13, size=int(rng.integers(1, 4))))
        return _dropout_inputs(shape, round(float(rng.uniform(0.1, 0.9)), 2), True, backward)(rng)
    return make


def _judge_mask(values, base, rate, scale, name):
    """Is ``values`` = ``base * mask * scale`` for a mask that drops about ``rate`` of the entries?"""
    problem = compare_value(name, base, values, np.inf, np.inf)  # type and shape only
    if problem:
        return False, problem
    nonzero = base != 0
    kept = nonzero & (values != 0)
    if not np.allclose(values[~nonzero], 0.0):
        return False, f"{name} is not 0 where the input is 0: dropout only multiplies"
    if not np.allclose(values[kept], base[kept] * scale, rtol=1e-9, atol=0.0):
        if np.allclose(values[kept], base[kept], rtol=1e-9, atol=0.0):
            return False, (f"the kept values of {name} are not scaled: inverted dropout divides them by 1 - rate "
                           f"(here multiplies by {scale:.6g}), so the expected activation stays the same")
        if np.allclose(values[kept], base[kept] * (1 - rate), rtol=1e-9, atol=0.0):
            return False, (f"the kept values of {name} were multiplied by 1 - rate; inverted dropout divides by it "
                           f"(multiplies by {scale:.6g})")
        bad = int((~np.isclose(values[kept], base[kept] * scale, rtol=1e-9, atol=0.0)).sum())
        return False, (f"{bad} kept values of {name} are not the input times {scale:.6g} = 1 / (1 - rate); each value "
                       "must be either dropped (0) or kept and scaled")
    n, dropped = int(nonzero.sum()), int((nonzero & ~kept).sum())
    spread = Z_LIMIT * np.sqrt(n * rate * (1 - rate)) + 1
    if abs(dropped - n * rate) > spread:
        share = dropped / max(n, 1)
        if abs(dropped - n * (1 - rate)) <= Z_LIMIT * np.sqrt(n * rate * (1 - rate)) + 1:
            return False, (f"{share:.3f} of the values were dropped: rate is the share dropped (Keras's "
                           f"Dropout(rate)), not the share kept")
        return False, f"{share:.3f} of the values were dropped; with rate={rate} about {rate:.3f} should be"
    return True, f"dropped {dropped} of {n} values (rate {rate}), kept values scaled by {scale:.6g}"


def _judge_dropout_forward(inputs, expected, received, timing):
    out, x, rate = received["out"], inputs["x"], inputs["rate"]
    if not inputs["training"]:
        problem = compare_value("out", expected["eval_out"], out, 1e-12, 0.0)
        if problem is None:
            return True, "identity when not training"
        if isinstance(out, np.ndarray) and out.shape == x.shape and np.allclose(out, x * (1 - rate)):
            return False, ("with training=False the output was multiplied by 1 - rate: that is the original "
                           "dropout's test-time rule; inverted dropout scales during training and leaves "
                           "test-time activations alone")
        return False, f"with training=False dropout is the identity (nothing dropped, nothing scaled): {problem}"
    return _judge_mask(out, x, rate, expected["scale"], "out")


def _judge_dropout_backward(inputs, expected, received, timing):
    dx, dout, rate = received["dx"], inputs["dout"], inputs["rate"]
    if not inputs["training"]:
        problem = compare_value("dx", expected["eval_dx"], dx, 1e-12, 0.0)
        return (True, "dx = dout when not training") if problem is None else \
            (False, f"with training=False dropout is the identity, so dx = dout: {problem}")
    return _judge_mask(dx, dout, rate, expected["scale"], "dx")


DROPOUT_CASES = (
    ("rate 0.3, training, 50x40 activations", (50, 40), 0.3, True),
    ("rate 0.75, training, (8, 6, 6, 4) feature maps", (8, 6, 6, 4), 0.75, True),
    ("rate 0.5, training=False", (20, 30), 0.5, False),
    ("rate 0, training", (10, 10), 0.0, True),
)

def _backward_uses_forward_mask(inputs, out, received) -> str | None:
    """dx must pass dout exactly where the same call's forward kept a value (the mask is drawn once)."""
    dx, x, dout = received.get("dx"), inputs["x"], inputs["dout"]
    if not (isinstance(out, np.ndarray) and isinstance(dx, np.ndarray) and out.shape == dx.shape == x.shape):
        return None  # the value checks say what is wrong
    live = (x != 0) & (dout != 0)
    if np.array_equal((out != 0) & live, (dx != 0) & live):
        return None
    return ("your dropout_backward does not use the mask of the forward pass: dx is non-zero where "
            "dropout_forward dropped the value, or zero where it kept it (keep the mask in the cache and "
            "reuse it; draw no new one)")


def _probed_dropout(case: Case) -> Case:
    """The mask must come from ``rng`` alone (and backward must use that mask). A case that draws no mask
    (training=False, rate 0) is probed with training=True and rate 0.5 on its inputs, then judged as it is."""
    inputs = case.make_inputs("probe") if case.hidden else case.make_inputs(None)
    deterministic = not inputs["training"] or inputs["rate"] == 0
    check = _backward_uses_forward_mask if case.unit == "dropout_backward" else None
    return rng_probed(case, noun="output" if case.unit == "dropout_forward" else "gradient", check=check,
                      probe_with={"training": True, "rate": 0.5} if deterministic else None)


DROPOUT = []
for backward_pass, unit in ((False, "dropout_forward"), (True, "dropout_backward")):
    reference = ref.dropout_backward if backward_pass else ref.dropout_forward
    outputs = ("dx",) if backward_pass else ("out", "cache")
    common = dict(driver=ForwardBackward("dropout_forward")) if backward_pass else {}
    judge = _judge_dropout_backward if backward_pass else _judge_dropout_forward
    DROPOUT += [_probed_dropout(Case(unit, name, _dropout_inputs(shape, rate, training, backward_pass), reference,
                                     outputs, points=0.5, judge=judge, **common))
                for name, shape, rate, training in DROPOUT_CASES]
    DROPOUT.append(_probed_dropout(Case(unit, "random rate and shape", _random_dropout(backward_pass), reference,
                                        outputs, points=1.0, hidden=True, judge=judge, **common)))


# ----------------------------------------------------------------------------- augmentation

def _images(shape):
    return lambda rng: rng.uniform(0.0, 1.0, size=shape)


def _flip_inputs(shape):
    return lambda rng: {"images": _images(shape)(rng)}


def _random_flip(rng):
    return _flip_inputs(tuple(int(v) for v in rng.integers(1, 7, size=4)))(rng)


FLIP_MISTAKES = tuple(Mistake(name, lambda i, e, axis=axis: {"out": np.flip(i["images"], axis=axis)})
                      for name, axis in (
    ("the images were flipped upside down (axis 1, the rows); horizontal flips reverse the columns (axis 2)", 1),
    ("rows and columns were both reversed; a horizontal flip reverses only the columns (axis 2)", (1, 2)),
    ("the channels were reversed (axis 3); a horizontal flip reverses the columns (axis 2)", 3),
    ("the order of the images was reversed (axis 0); a horizontal flip reverses the columns (axis 2)", 0),
))

FLIPS = [
    Case("flip_horizontal", "batch of 2, 5x6 RGB", _flip_inputs((2, 5, 6, 3)), ref.flip_horizontal, ("out",),
         points=0.5, mistakes=FLIP_MISTAKES),
    Case("flip_horizontal", "one 4x7 grey image", _flip_inputs((1, 4, 7, 1)), ref.flip_horizontal, ("out",),
         points=0.5, mistakes=FLIP_MISTAKES),
    Case("flip_horizontal", "random shape", _random_flip, ref.flip_horizontal, ("out",), points=1.0, hidden=True),
]


def _translate_inputs(shape, dy, dx, fill_mode, fill_value):
    return lambda rng: {"images": _images(shape)(rng), "dy": dy, "dx": dx, "fill_mode": fill_mode,
                        "fill_value": fill_value}


def _random_translate(rng):
    shape = (int(rng.integers(1, 4)), int(rng.integers(2, 9)), int(rng.integers(2, 9)), int(rng.integers(1, 4)))
    # |shift| <= size - 2: beyond that TensorFlow's "wrap" is no longer periodic (see the tests)
    dy, dx = int(rng.integers(-shape[1] + 2, shape[1] - 1)), int(rng.integers(-shape[2] + 2, shape[2] - 1))
    mode = str(rng.choice(["constant", "nearest", "reflect", "wrap"]))
    return _translate_inputs(shape, dy, dx, mode, round(float(rng.uniform(-1, 1)), 2))(rng)


def _never():
    return None  # the mistake does not apply to these inputs


def _translated(i, **changes):
    return ref.translate(**{**i, **changes})


def _numpy_reflect(i, e):
    """np.pad's "reflect" (d c b | a b c d), which leaves out the edge; Keras's repeats it (d c b a | a b c d)."""
    if i["fill_mode"] != "reflect":
        return _never()
    images, dy, dx = i["images"], i["dy"], i["dx"]
    h, w = images.shape[1:3]
    if max(abs(dy), 1) >= h or max(abs(dx), 1) >= w:
        return _never()
    padded = np.pad(images, ((0, 0), (max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0)), (0, 0)), mode="reflect")
    return {"out": padded[:, max(-dy, 0):max(-dy, 0) + h, max(-dx, 0):max(-dx, 0) + w]}


TRANSLATE_MISTAKES = (
    Mistake("the shift went the wrong way: positive dy moves the content down, positive dx moves it right "
            "(out[r, c] = images[r - dy, c - dx])", lambda i, e: _translated(i, dy=-i["dy"], dx=-i["dx"])),
    Mistake("dy and dx were swapped: dy moves along the rows (axis 1), dx along the columns (axis 2)",
            lambda i, e: _translated(i, dy=i["dx"], dx=i["dy"])
            if abs(i["dx"]) < i["images"].shape[1] and abs(i["dy"]) < i["images"].shape[2] else _never()),
    Mistake("the image wrapped around (np.roll); with fill_mode='constant' the uncovered cells take fill_value",
            lambda i, e: _translated(i, fill_mode="wrap") if i["fill_mode"] == "constant" else _never()),
    Mistake("fill_value was ignored (the uncovered cells are 0)",
            lambda i, e: _translated(i, fill_value=0.0) if i["fill_mode"] == "constant" and i["fill_value"]
            else _never()),
    Mistake("that is np.pad's 'reflect' (d c b | a b c d), which skips the edge; Keras's 'reflect' repeats it "
            "(d c b a | a b c d): np.pad's 'symmetric'", _numpy_reflect),
)

TRANSLATES = [
    Case("translate", name, _translate_inputs(shape, dy, dx, mode, value), ref.translate, ("out",), points=0.5,
         mistakes=TRANSLATE_MISTAKES,
         hint="out[:, r, c] = images[:, r - dy, c - dx] where that is inside the image; outside, fill_mode decides")
    for name, shape, dy, dx, mode, value in (
        ("down 2, right 3, constant 0", (2, 6, 7, 3), 2, 3, "constant", 0.0),
        ("up 1, left 2, fill_value 0.5", (2, 5, 5, 1), -1, -2, "constant", 0.5),
        ("right 4 only, one image", (1, 6, 6, 1), 0, 4, "constant", 0.0),
        ("down 1, left 3, nearest", (2, 5, 6, 2), 1, -3, "nearest", 0.0),
        ("up 2, right 1, reflect", (1, 6, 5, 3), -2, 1, "reflect", 0.0),
        ("down 3, right 2, wrap", (2, 5, 6, 1), 3, 2, "wrap", 0.0),
    )
] + [Case("translate", "random shift and fill mode", _random_translate, ref.translate, ("out",), points=1.0,
          hidden=True)]


def _brightness_inputs(shape, delta, value_range):
    def make(rng):
        low, high = value_range
        return {"images": low + (high - low) * _images(shape)(rng), "delta": delta, "value_range": value_range}
    return make


def _random_brightness(rng):
    shape = tuple(int(v) for v in rng.integers(1, 6, size=4))
    delta = round(float(rng.uniform(-0.5, 0.5)), 3)
    value_range = ((0.0, 1.0), (0.0, 255.0), (-1.0, 1.0))[int(rng.integers(3))]
    return _brightness_inputs(shape, delta, value_range)(rng)


def _per_image_deltas(rng):
    return _brightness_inputs((3, 4, 4, 2), np.array([0.2, -0.3, 0.05]), (0.0, 1.0))(rng)


BRIGHTNESS_MISTAKES = (
    Mistake("the result was not clipped to value_range",
            lambda i, e: {"out": i["images"] + np.reshape(i["delta"], (-1, 1, 1, 1)) * np.ptp(i["value_range"])}),
    Mistake("delta is a fraction of the value range (Keras's RandomBrightness): add delta * (high - low), not delta",
            lambda i, e: {"out": np.clip(i["images"] + np.reshape(i["delta"], (-1, 1, 1, 1)), *i["value_range"])}
            if np.ptp(i["value_range"]) != 1 else _never()),
    Mistake("the result was clipped to [0, 1] instead of value_range",
            lambda i, e: {"out": np.clip(i["images"] + np.reshape(i["delta"], (-1, 1, 1, 1)) * np.ptp(i["value_range"]),
                                         0.0, 1.0)} if tuple(i["value_range"]) != (0.0, 1.0) else _never()),
)

BRIGHTNESS = [
    Case("adjust_brightness", name, make, ref.adjust_brightness, ("out",), points=0.5, mistakes=BRIGHTNESS_MISTAKES,
         hint="out = clip(images + delta * (high - low), low, high)")
    for name, make in (
        ("+0.3, clipped at 1", _brightness_inputs((2, 5, 5, 3), 0.3, (0.0, 1.0))),
        ("-0.25, clipped at 0", _brightness_inputs((2, 4, 6, 1), -0.25, (0.0, 1.0))),
        ("+0.1 on value_range (0, 255)", _brightness_inputs((1, 5, 5, 3), 0.1, (0.0, 255.0))),
        ("one delta per image", _per_image_deltas),
        ("-0.2 on value_range (-1, 1): the shift is delta * (high - low)",
         _brightness_inputs((2, 4, 5, 3), -0.2, (-1.0, 1.0))),
    )
] + [Case("adjust_brightness", "random delta and range", _random_brightness, ref.adjust_brightness, ("out",),
          points=0.5, hidden=True)]


# ----------------------------------------------------------------------------- LeNet-5 forward in NumPy

LENET5_SHAPES = ((5, 5, "C", 6), (6,), (5, 5, 6, 16), (16,), ("F", 120), (120,), (120, 84), (84,), (84, "K"), ("K",))


def lenet5_weight_shapes(input_shape, num_classes) -> list[tuple[int, ...]]:
    """Shapes of LeNet-5's weights in ``get_weights()`` order (checked against the reference build in the tests)."""
    side_h = ((input_shape[0] - 4) // 2 - 4) // 2
    side_w = ((input_shape[1] - 4) // 2 - 4) // 2
    sizes = {"C": input_shape[2], "F": side_h * side_w * 16, "K": num_classes}
    return [tuple(sizes.get(dim, dim) for dim in shape) for shape in LENET5_SHAPES]


def random_lenet5_weights(rng, input_shape, num_classes, dtype=np.float64):
    """Weights of LeNet-5 with the scale of a Glorot initialisation and non-zero biases."""
    weights = []
    for shape in lenet5_weight_shapes(input_shape, num_classes):
        fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 4
        weights.append((rng.normal(size=shape) * np.sqrt(2.0 / fan_in)).astype(dtype))
    return weights


def _lenet5_inputs(n, input_shape, num_classes):
    def make(rng):
        return {"x": rng.uniform(0.0, 1.0, size=(n, *input_shape)),
                "params": random_lenet5_weights(rng, input_shape, num_classes)}
    return make


def _random_lenet5(rng):
    side = int(rng.integers(28, 37))
    return _lenet5_inputs(int(rng.integers(1, 4)), (side, side, int(rng.integers(1, 4))), int(rng.integers(2, 11)))(rng)


def _variant(**variant):
    return lambda i, e: ref.lenet5_logits(i["x"], i["params"], **variant)


def _softmaxed(i, e):
    z = e["logits"] - e["logits"].max(axis=1, keepdims=True)
    return {"logits": np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)}


LENET5_MISTAKES = (
    Mistake("max pooling was used; this LeNet-5 subsamples with average pooling", _variant(pooling="max")),
    Mistake("ReLU was used; this LeNet-5 uses tanh after every convolution and hidden dense layer",
            _variant(activation="relu")),
    Mistake("the feature maps were flattened channels-first; Keras's Flatten keeps the (H, W, C) order "
            "(x.reshape(N, -1) on channels-last maps)", _variant(flatten="chw")),
    Mistake("softmax was applied: return the logits of the last dense layer", _softmaxed),
)

LENET5_FORWARD = [
    Case("lenet5_forward", name, _lenet5_inputs(n, shape, classes), ref.lenet5_logits, ("logits",), points=1.0,
         mistakes=LENET5_MISTAKES, timeout=30.0,
         hint="conv 5x5 valid -> tanh -> average pool 2 -> conv 5x5 valid -> tanh -> average pool 2 -> flatten -> "
              "dense -> tanh -> dense -> tanh -> dense")
    for name, n, shape, classes in (("3 digits 32x32x1, 10 classes", 3, (32, 32, 1), 10),
                                    ("one digit", 1, (32, 32, 1), 10),
                                    ("28x28 RGB, 5 classes", 2, (28, 28, 3), 5))
] + [Case("lenet5_forward", "random input shape", _random_lenet5, ref.lenet5_logits, ("logits",), points=1.0,
          hidden=True, timeout=30.0)]


# ----------------------------------------------------------------------------- Keras builds

_MERGED = {"Activation": None, "ReLU": "relu"}


def _normalise(layers) -> list[dict]:
    """Layers without the input layer, a separate Activation/ReLU folded into the layer before it."""
    kept = []
    for layer in layers:
        if not isinstance(layer, dict) or layer.get("class") == "InputLayer":
            continue
        name = layer.get("class")
        if name in _MERGED and kept and kept[-1].get("activation") == "linear":
            kept[-1] = {**kept[-1], "activation": _MERGED[name] or layer.get("activation"),
                        "output_shape": layer.get("output_shape")}
            continue
        kept.append(layer)
    return kept


def _shape(entry) -> str:
    shape = entry.get("output_shape") or []
    return "(" + ", ".join("None" if dim == -1 else str(dim) for dim in shape) + ")"


def _same_settings(want, got) -> bool:
    """An augmentation layer's settings (``model_spec.AUGMENTATION``) as the reference's, numbers to 1e-6."""
    if not want and not got:
        return True
    if not isinstance(want, dict) or not isinstance(got, dict) or set(want) != set(got):
        return False
    for key, value in want.items():
        other = got[key]
        if isinstance(value, str) or isinstance(other, str):
            if value != other:
                return False
        elif not isinstance(other, (int, float, list)) or np.shape(value) != np.shape(other) or \
                not np.allclose(np.asarray(value, float), np.asarray(other, float), rtol=0, atol=1e-6):
            return False
    return True


def _layer_text(entry) -> str:
    parts = [f"{entry.get('class')} with output {_shape(entry)}, {entry.get('params'):,} parameters"
             if isinstance(entry.get("params"), int) else str(entry.get("class"))]
    if "activation" in entry:
        parts.append(f"activation {entry['activation']}")
    if "rate" in entry:
        parts.append(f"rate {entry['rate']:g}")
    settings = entry.get("settings")
    if isinstance(settings, dict):
        parts += [f"{key} {value!r}" for key, value in sorted(settings.items())[:12]]
    return ", ".join(parts)


def _judge_architecture(inputs, expected, received, timing):
    value = received["model"]
    if not isinstance(value, dict) or not isinstance(value.get("layers"), list):
        return False, f"expected a description of a Keras model, received {describe(value)}"
    want, got = _normalise(expected["layers"]), _normalise(value["layers"])
    for index, (a, b) in enumerate(zip(want, got), start=1):
        same = (a["class"] == b.get("class") and a["output_shape"] == b.get("output_shape")
                and a["params"] == b.get("params") and a.get("activation") == b.get("activation")
                and a.get("rate") == b.get("rate") and _same_settings(a.get("settings"), b.get("settings")))
        if not same:
            return False, f"layer {index}: expected {_layer_text(a)}; received {_layer_text(b)}"
    if len(want) != len(got):
        extra = got[len(want):] or want[len(got):]
        which = "more" if len(got) > len(want) else "fewer"
        return False, (f"the model has {len(got)} layers, {which} than the {len(want)} expected; the first one "
                       f"{'too many' if which == 'more' else 'missing'}: {_layer_text(extra[0])}")
    if value.get("params") != expected["params"]:
        return False, f"expected {expected['params']:,} parameters in total, received {value.get('params')}"
    return True, f"{len(got)} layers, {expected['params']:,} parameters, as the reference"


def _judge_logits(inputs, expected, received, timing):
    """The layers the worker describes (read only to name a wrong one), then what earns the points: with the
    case's weights, the logits the reference gives."""
    ok, message = _judge_architecture(inputs, expected, received, timing)
    if not ok:
        return ok, message
    problem = compare_value("logits", expected["output"], received["model"].get("output"), 1e-4, 1e-4)
    if problem:
        return False, (f"{problem}. With the reference's weights the model must give the reference's logits: check "
                       "the activations, the pooling and the order of the layers")
    return True, f"{message}; with the same weights, the same logits"


@functools.lru_cache(maxsize=8)
def _weight_shapes(unit, input_shape, num_classes) -> tuple:
    return tuple(tuple(shape) for shape in ref.architecture(unit, input_shape, num_classes)["weight_shapes"])


def _build_inputs(unit, input_shape, num_classes):
    """The builder's arguments, plus weights (float32, the reference's shapes) and a batch that the driver sets
    and predicts with (``keras_model``). Drawn afresh at each grading (the cases are ``fresh``): the logits can
    only come from a model that computes what the reference computes, never from a table or a description."""
    def make(rng):
        weights = []
        for shape in _weight_shapes(unit, tuple(input_shape), num_classes):
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 4
            weights.append((rng.normal(size=shape) * np.sqrt(2.0 / fan_in)).astype(np.float32))
        x = rng.uniform(0.0, 1.0, size=(4, *input_shape)).astype(np.float32)
        return {"input_shape": input_shape, "num_classes": num_classes, "set_weights": weights, "predict": x}
    return make


def _architecture_reference(unit):
    def reference(input_shape, num_classes, set_weights, predict):
        return ref.architecture(unit, input_shape, num_classes, set_weights, predict)
    return reference


BUILDS = []
for unit in ("build_lenet5", "build_mini_alexnet"):
    BUILDS += [
        Case(unit, "32x32x1 digits, 10 classes: layers, parameters and logits", _build_inputs(unit, (32, 32, 1), 10),
             _architecture_reference(unit), ("model",), points=3.0, driver=KerasModel(), judge=_judge_logits,
             fresh=True, timeout=60.0),
        Case(unit, "28x28x3 images, 5 classes: layers, parameters and logits", _build_inputs(unit, (28, 28, 3), 5),
             _architecture_reference(unit), ("model",), points=2.0, driver=KerasModel(), judge=_judge_logits,
             fresh=True, timeout=60.0),
    ]


# ----------------------------------------------------------------------------- training

def _training_inputs(rng):
    """A task new at each grading: ten symbols nobody has seen (``datasets.make_glyphs``), 1,500 images
    to train on, upsampled to 32x32 as the digits are; the 400 held out stay in the grader (``private``)."""
    x, y, x_test, y_test = datasets.make_glyphs(rng)
    return {"x": upsample_digits(x[..., None]), "y": y, "seed": 0, "x_test": upsample_digits(x_test[..., None]),
            "y_test": y_test}


def _held_out(x, y, seed, x_test, y_test):
    """The held-out images of the task drawn for this grading, and their labels."""
    return {"x_test": x_test, "y_test": y_test}


def _judge_training(inputs, held_out, received, timing):
    """Held-out accuracy of the returned weights, in the reference LeNet-5."""
    weights = received["weights"]
    shapes = lenet5_weight_shapes((32, 32, 1), 10)
    if not isinstance(weights, (list, tuple)) or len(weights) != len(shapes):
        return False, (f"train_lenet5 should return the model's weights, model.get_weights(): a list of "
                       f"{len(shapes)} arrays; received {describe(weights)}")
    for index, (array, shape) in enumerate(zip(weights, shapes)):
        if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype.kind != "f":
            return False, (f"weight {index} should be a float array of shape {shape}; received {describe(array)}")
        if not np.isfinite(array).all():
            return False, f"weight {index} contains NaN or inf (the learning rate may be too large)"
    weights = [np.asarray(w, np.float64) for w in weights]
    passed, message = held_out_verdict(ref.lenet5_accuracy(weights, held_out["x_test"], held_out["y_test"]),
                                       REQUIRED_ACCURACY, "train longer, or tune the learning rate")
    if not passed:
        return False, message
    stopped = (f"; training stopped after epoch {timing['stopped_at']}, the first whose weights reached the bar"
               if "stopped_at" in timing else "")
    return True, f"{message} in {timing['seconds']:.0f} s{stopped}"


TRAINING = [
    Case("train_lenet5", f"ten symbols drawn for this grading, 32x32, held-out accuracy >= {REQUIRED_ACCURACY} "
         "within 2 minutes", _training_inputs, _held_out, ("weights",), points=4.0, timeout=120.0,
         judge=_judge_training, fresh=True, private=("x_test", "y_test"), driver=KerasFit(progress=MAX_JUDGED_EPOCHS)),
]


ASSIGNMENT = Assignment(
    name="06_cnn_architectures",
    title="CNN architectures",
    cases=tuple(DROPOUT + FLIPS + TRANSLATES + BRIGHTNESS + LENET5_FORWARD + BUILDS + TRAINING),
    frameworks=True,
    memory_bytes=8 * 1024**3,
    processes=512,
)
