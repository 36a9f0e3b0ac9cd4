"""``dlcourse.datasets``: the shipped digits and the drawn glyph tasks that training cases train on."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.datasets import load_digits


def test_shipped_digits_load_with_a_fixed_stratified_split():
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    images, _ = load_digits("all", flatten=False)
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64) and images.shape == (1797, 8, 8, 1)
    assert np.bincount(y_test).tolist() == [36] * 10
    assert 0.0 == x_train.min() and x_train.max() == 1.0
    x_all, _ = load_digits("all")
    assert sorted(map(bytes, np.vstack([x_train, x_test]))) == sorted(map(bytes, x_all))  # a partition
    again, _ = load_digits("test")
    np.testing.assert_array_equal(again, x_test)
    with pytest.raises(ValueError, match="Received split='validation'"):
        load_digits("validation")


def test_a_drawn_glyph_task_is_balanced_reproducible_new_and_learnable():
    """``make_glyphs``: what 01's and 06's training cases train on. The same generator gives the same
    task; another gives other symbols (nothing prepared for one task fits the next); the class means of
    one task tell its held-out images apart far better than chance but not perfectly (it must be learned)."""
    from dlcourse.datasets import make_glyphs

    x, y, x_test, y_test = make_glyphs(np.random.default_rng(3))
    assert x.shape == (1500, 8, 8) and x_test.shape == (400, 8, 8) and x.dtype == np.float64
    assert np.bincount(y).tolist() == [150] * 10 and np.bincount(y_test).tolist() == [40] * 10
    assert 0.0 <= x.min() and x.max() <= 1.0 and not np.array_equal(y[:20], np.sort(y[:20]))  # shuffled
    again = make_glyphs(np.random.default_rng(3))
    np.testing.assert_array_equal(again[0], x)
    other_x, other_y, _, _ = make_glyphs(np.random.default_rng(4))
    means = np.stack([x[y == k].mean(0).ravel() for k in range(10)])
    other_means = np.stack([other_x[other_y == k].mean(0).ravel() for k in range(10)])
    nearest = np.argmin(((x_test.reshape(len(x_test), 1, 64) - means) ** 2).sum(-1), 1)
    accuracy = np.mean(nearest == y_test)
    assert 0.75 < accuracy < 0.99, accuracy
    # the symbols of another task are others: none of this task's means is close to one of them
    gaps = np.linalg.norm(means[:, None] - other_means[None], axis=-1).min(axis=1)
    assert gaps.min() > 0.5 * np.linalg.norm(means[:, None] - means[None], axis=-1)[~np.eye(10, dtype=bool)].min()
