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


def make_glyphs(rng: np.random.Generator, train_per_class: int = 150, test_per_class: int = 40,
                classes: int = 10, strokes: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A classification task that did not exist before ``rng`` drew it: ``classes`` new 8x8 symbols.

    Each symbol is ``strokes`` pen strokes (segments between random points); each sample redraws its
    symbol's strokes with the ends moved, the pen thicker or thinner, the whole shifted by under a
    pixel, darker or lighter, with noise: handwriting of an alphabet nobody has seen. A grader draws
    one from the grading secret, so weights trained before grading know nothing of it, and no
    relabelling, flip or permutation of the digits gets it: a trainer must learn from what it is given.

    Returns:
        ``(x_train, y_train, x_test, y_test)``: float64 images (N, 8, 8) in [0, 1] and int64 labels (N,),
        ``train_per_class`` and ``test_per_class`` of each class, shuffled.
    """
    centres = np.stack(np.meshgrid(np.arange(8.0), np.arange(8.0), indexing="ij"), -1).reshape(64, 2)
    ends = np.empty((0, strokes, 2, 2))
    while len(ends) < classes:  # a symbol of long strokes, a few pixels' worth away from every other one
        symbol = rng.uniform(0.5, 6.5, size=(1, strokes, 2, 2))
        if np.linalg.norm(symbol[0, :, 1] - symbol[0, :, 0], axis=-1).min() < 2.5:
            continue
        drawn = _draw(np.concatenate([ends, symbol]), np.full(len(ends) + 1, 0.6), centres)
        if np.linalg.norm(drawn[:-1] - drawn[-1], axis=-1).min(initial=np.inf) > 2.5:
            ends = np.concatenate([ends, symbol])
    per_class = train_per_class + test_per_class
    labels = np.repeat(np.arange(classes), per_class)
    moved = ends[labels] + rng.normal(0.0, 0.35, size=(len(labels), strokes, 2, 2))
    moved += rng.uniform(-0.7, 0.7, size=(len(labels), 1, 1, 2))
    images = _draw(moved, rng.uniform(0.45, 0.75, size=len(labels)), centres)
    images = images * rng.uniform(0.7, 1.0, size=(len(labels), 1)) + rng.normal(0.0, 0.05, size=images.shape)
    images = np.clip(images, 0.0, 1.0).reshape(-1, 8, 8)
    test = np.tile(np.arange(per_class) >= train_per_class, classes)
    train_order, test_order = rng.permutation(np.flatnonzero(~test)), rng.permutation(np.flatnonzero(test))
    return images[train_order], labels[train_order], images[test_order], labels[test_order]


def _draw(ends: np.ndarray, width: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Pen strokes ``ends`` (N, S, 2, 2) of pen ``width`` (N,) drawn on the pixel ``centres`` (P, 2): (N, P)."""
    start, end = ends[:, :, None, 0], ends[:, :, None, 1]                  # (N, S, 1, 2)
    along = end - start
    t = np.clip(np.sum((centres - start) * along, -1) / np.maximum(np.sum(along * along, -1), 1e-9), 0.0, 1.0)
    distance = np.linalg.norm(centres - (start + t[..., None] * along), axis=-1)  # (N, S, P)
    return np.exp(-(distance.min(axis=1) / width[:, None]) ** 2)
