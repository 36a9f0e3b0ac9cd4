"""The grader: the grading engine (``engine``), the course's cases (``cases``), course operations
(``course``) and the student's own check (``live_check``).

In a notebook: ``from dlcourse.autograder import check; check(dense_forward)``. Importing this package
imports nothing else: ``check`` loads the cases on first use.
"""


def __getattr__(name: str):
    if name == "check":
        from autograder.live_check import check

        return check
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["check"]
