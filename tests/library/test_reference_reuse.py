"""References that reuse a Keras build (``dlcourse.references.cnn_architectures._built``) give a fresh build's
values bit for bit, whatever was computed with the build before, and their descriptions are the caller's own."""

from __future__ import annotations

import numpy as np

from dlcourse.autograder.cases import cnn_architectures as cnn
from dlcourse.references import cnn_architectures as ref
from dlcourse.references.autodiff import to_numpy

SHAPES = (((32, 32, 1), 10), ((28, 28, 3), 5))


def _fresh(unit, input_shape, classes, weights, x, **variant):
    model = ref.BUILDERS[unit](input_shape, classes, dtype="float64", **variant)
    model.set_weights(weights)
    return to_numpy(model(x, training=False))


def _weights(rng, unit, input_shape, classes, scale=1.0):
    shapes = ref.architecture(unit, input_shape, classes)["weight_shapes"]
    return [(rng.normal(size=shape) * scale * np.sqrt(2.0 / (np.prod(shape[:-1]) if len(shape) > 1 else 4)))
            .astype(np.float32) for shape in shapes]


def test_a_reused_build_gives_a_fresh_builds_logits_bit_for_bit():
    rng = np.random.default_rng(0)
    for _ in range(3):  # the shapes alternate, so every build is reused after the other one ran
        for unit in ref.BUILDERS:
            for input_shape, classes in SHAPES:
                weights = _weights(rng, unit, input_shape, classes, scale=float(rng.uniform(0.3, 3.0)))
                x = rng.uniform(0.0, 1.0, size=(4, *input_shape)).astype(np.float32)
                value = ref.architecture(unit, input_shape, classes, weights, x)
                np.testing.assert_array_equal(value["output"], _fresh(unit, input_shape, classes, weights, x))


def test_lenet5_logits_and_its_mistake_variants_are_a_fresh_builds():
    rng = np.random.default_rng(1)
    for _ in range(2):
        for variant in ({}, {"pooling": "max"}, {"activation": "relu"}, {"flatten": "chw"}):
            side, channels, classes = int(rng.integers(28, 37)), int(rng.integers(1, 4)), int(rng.integers(2, 11))
            params = cnn.random_lenet5_weights(rng, (side, side, channels), classes)
            x = rng.uniform(0.0, 1.0, size=(3, side, side, channels))
            np.testing.assert_array_equal(ref.lenet5_logits(x, params, **variant)["logits"],
                                          _fresh("build_lenet5", (side, side, channels), classes, params, x, **variant))


def test_lenet5_accuracy_is_the_fresh_builds_after_other_weights():
    rng = np.random.default_rng(2)
    x = rng.uniform(0.0, 1.0, size=(200, 32, 32, 1))
    y = rng.integers(0, 10, size=200)
    for _ in range(3):
        weights = cnn.random_lenet5_weights(rng, (32, 32, 1), 10)
        fresh = _fresh("build_lenet5", (32, 32, 1), 10, weights, x)
        assert ref.lenet5_accuracy(weights, x, y) == float(np.mean(np.argmax(fresh, axis=1) == y))


def test_a_description_is_the_callers_own():
    first = ref.architecture("build_lenet5", (32, 32, 1), 10)
    first["layers"].clear()
    first["weight_shapes"].append("changed")
    again = ref.architecture("build_lenet5", (32, 32, 1), 10)
    assert again["layers"] and "changed" not in again["weight_shapes"]
