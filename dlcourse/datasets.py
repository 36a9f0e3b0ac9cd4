"""Small data sets shipped with the package: nothing is downloaded, ever.

``digits``: the 1,797 8x8 handwritten digits of UCI / scikit-learn (``sklearn.datasets.load_digits``,
BSD licence), stored as ``data/digits.npz`` with ``images`` (1797, 8, 8) uint8 in 0..16 and
``labels`` (1797,) uint8. The train/test split is fixed, stratified, and the same everywhere.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

TEST_PER_CLASS = 36


def load_digits(split: str = "train", flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The shipped digits, scaled to [0, 1].

    Args:
        split: "train" (1,437 images), "test" (360, 36 per class) or "all" (1,797).
        flatten: return x as (N, 64); otherwise as images (N, 8, 8, 1), channels last.

    Returns:
        ``(x, y)``: float64 x, int64 labels y (N,).
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"Expected split 'train', 'test' or 'all'. Received split={split!r}.")
    with resources.files("dlcourse").joinpath("data/digits.npz").open("rb") as stream:
        with np.load(stream, allow_pickle=False) as data:
            images, labels = data["images"], data["labels"].astype(np.int64)
    x = images.astype(np.float64) / 16.0
    x = x.reshape(len(x), -1) if flatten else x[..., None]
    if split == "all":
        return x, labels
    test = _test_mask(labels)
    chosen = test if split == "test" else ~test
    return x[chosen], labels[chosen]


def _test_mask(labels: np.ndarray) -> np.ndarray:
    """The first ``TEST_PER_CLASS`` of each class after a fixed shuffle."""
    order = np.random.default_rng(20240901).permutation(len(labels))
    mask = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = order[labels[order] == digit]
        mask[members[:TEST_PER_CLASS]] = True
    return mask
