"""Inputs of a random shape, drawn afresh for a hidden case: the sizes first, then the arrays."""

from __future__ import annotations

from typing import Callable

import numpy as np

InputsOf = Callable[[int, int, int, bool], Callable[[np.random.Generator], dict]]


def random_sizes(inputs_of: InputsOf, backward: bool, high: int = 9) -> Callable[[np.random.Generator], dict]:
    """``rng -> inputs``: three sizes ``(n, d, m)`` drawn from ``[1, high)``, the batch ``n`` at least 2 (summing
    over a batch and averaging differ only when N > 1), then ``inputs_of(n, d, m, backward)(rng)``."""
    def make(rng):
        n, d, m = (int(v) for v in rng.integers(1, high, size=3))
        return inputs_of(max(n, 2), d, m, backward)(rng)
    return make
