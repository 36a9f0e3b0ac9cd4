"""dlcourse: deep-learning fundamentals in nine assignments, graded against Keras 3.

The package is the bottom layer: references (the only code that imports Keras, lazily), data,
utilities and the CLI. ``import dlcourse`` stays fast.
"""

__version__ = "0.1.0"
