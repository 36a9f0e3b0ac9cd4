"""References that reuse a Keras build (``dlcourse.references.cnn_architectures._built``) give a fresh build's
values bit for bit, whatever was computed with the build before, and their descriptions are the caller's own;
``lenet5_accuracy``'s NumPy LeNet-5 gives a fresh build's logits to 1e-10, and so its accuracy."""

from __future__ import annotations

import concurrent.futures

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


def _trained_looking(seed, x, y):
    """LeNet-5 weights whose output layer is fitted to the images ``x`` and labels ``y`` (ridge regression on the
    build's last hidden layer): 0.92-0.96 held-out accuracy, and 5-9 of the 400 images with a runner-up logit
    within 0.01 of the largest, as in a trained network."""
    weights = cnn.random_lenet5_weights(np.random.default_rng(seed), (32, 32, 1), 10)
    model = ref.BUILDERS["build_lenet5"]((32, 32, 1), 10, dtype="float64")
    model.set_weights(weights)
    hidden = x
    for layer in model.layers[:-1]:
        hidden = layer(hidden)
    hidden = np.hstack([to_numpy(hidden), np.ones((len(x), 1))])
    fit = np.linalg.solve(hidden.T @ hidden + np.eye(hidden.shape[1]), hidden.T @ np.eye(10)[y])
    return weights[:-2] + [fit[:-1], fit[-1]]


def test_lenet5_accuracy_is_the_keras_builds_on_random_and_trained_looking_weights():
    inputs = cnn._training_inputs(np.random.default_rng(3))  # a grading's task: its 400 held-out images
    x, y = inputs["x_test"], inputs["y_test"]
    rng = np.random.default_rng(4)
    accuracies = []
    for seed in range(3):
        random = cnn.random_lenet5_weights(np.random.default_rng(seed), (32, 32, 1), 10)
        for weights in (random, [w.astype(np.float32) for w in random], [w * 3.0 for w in random],  # 3: saturated
                        _trained_looking(seed, inputs["x"], inputs["y"])):
            fresh = _fresh("build_lenet5", (32, 32, 1), 10, weights, x)
            np.testing.assert_allclose(ref.lenet5_numpy_logits(x, weights), fresh, rtol=1e-10, atol=1e-12)
            predicted = np.argmax(fresh, axis=1)
            for labels in (y, predicted, np.where(rng.random(len(y)) < 0.5, predicted, (predicted + 1) % 10)):
                assert ref.lenet5_accuracy(weights, x, labels) == float(np.mean(predicted == labels))
            accuracies.append(ref.lenet5_accuracy(weights, x, y))
    assert max(accuracies) > 0.85  # the fitted weights are judged as trained ones are, far above chance


def test_lenet5_numpy_logits_are_a_fresh_builds_for_any_batch_and_input_shape():
    rng = np.random.default_rng(5)
    for n, input_shape, classes in ((1, (32, 32, 1), 10), (7, (29, 31, 1), 4), (33, (28, 28, 3), 5),
                                    (26, (36, 33, 2), 10), (77, (30, 30, 1), 3)):  # 77: in two threads
        weights = cnn.random_lenet5_weights(rng, input_shape, classes)
        x = rng.uniform(0.0, 1.0, size=(n, *input_shape))
        value = ref.lenet5_numpy_logits(x, weights)
        assert value.shape == (n, classes)
        np.testing.assert_allclose(value, _fresh("build_lenet5", input_shape, classes, weights, x), rtol=1e-10,
                                   atol=1e-12)


def test_lenet5_numpy_logits_from_several_threads_are_each_calls_own():
    rng = np.random.default_rng(6)
    x = rng.uniform(0.0, 1.0, size=(60, 32, 32, 1))
    weights = [cnn.random_lenet5_weights(rng, (32, 32, 1), 10) for _ in range(8)]
    alone = [ref.lenet5_numpy_logits(x, w) for w in weights]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda w: ref.lenet5_numpy_logits(x, w), weights))
    for one, other in zip(alone, together):
        np.testing.assert_array_equal(one, other)


def test_a_description_is_the_callers_own():
    first = ref.architecture("build_lenet5", (32, 32, 1), 10)
    first["layers"].clear()
    first["weight_shapes"].append("changed")
    again = ref.architecture("build_lenet5", (32, 32, 1), 10)
    assert again["layers"] and "changed" not in again["weight_shapes"]
