"""The grader: grading cases (``autograder.cases``), the engine (``autograder.engine``), and ``check``.

In a notebook: ``from autograder import check; check(dense_forward)``.
"""

from autograder.check import check

__all__ = ["check"]
