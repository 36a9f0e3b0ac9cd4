"""The grader: the grading engine (``engine``), the course's cases (``cases``), course operations
(``course``) and the student's own check (``live_check``).

In a notebook: ``from dlcourse.autograder import check; check(dense_forward)``. Importing this package
imports nothing else: ``check`` loads the cases on first use.
"""


if __name__ != "dlcourse.autograder":  # a checkout's folder on sys.path: the grader's name is dlcourse.autograder
    raise ImportError(f"Expected `import dlcourse.autograder`. Received `import {__name__}`: the folder autograder/ "
                      "installs as dlcourse.autograder (the name autograder belongs to another project on PyPI); in a "
                      "checkout, `make install` (or `pip install -e .`) installs it so")


def __getattr__(name: str):
    if name == "check":
        from dlcourse.autograder.live_check import check

        return check
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["check"]
