"""Central differences: the course's own check of every gradient, reference or student's."""

from __future__ import annotations

from typing import Callable

import numpy as np


def central_difference(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every entry ``i`` of ``x`` (any shape; x is not changed)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        upper = float(f(x))
        x[index] = original - h
        lower = float(f(x))
        x[index] = original
        grad[index] = (upper - lower) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``max |a - b| / max(|a| + |b|, 1e-12)``, entrywise: about 1e-8 or less means the two agree."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12), initial=0.0))
