"""Progress reports: a driver that trains offers the grader what its unit has reached so far.

A training case is judged on what the unit returns; with progress reports it also ends as soon as
the bar is reached. After each epoch (``keras_fit``) or every few steps (``gan_train``) the driver
calls ``report(value, at)`` with ``value`` in the form of its final value. The grader judges it as it
would judge the final value and answers whether to stop: True ends the training there, and the unit
returns as usual; what it returns is what is graded (``runner.CaseRunner``, ``session.WorkerSession``).

The answer comes from whoever runs the request: in the sandbox, the worker's main loop sends
``{"status": "progress", "value": value, "at": at}`` on the reply stream and reads the grader's
``{"op": "progress", "stop": bool}`` from its requests; in a student's own check, the grader's judge
is called directly (``runner.in_process``). With nobody listening the answer is False.
"""

from __future__ import annotations

from contextlib import contextmanager

_answer = None  # (value, at) -> bool: set by whoever runs the request


def report(value, at: int) -> bool:
    """Offer ``value`` (what the unit would return after ``at`` epochs or steps); True: stop training now."""
    return bool(_answer(value, at)) if _answer is not None else False


@contextmanager
def answered_by(answer):
    """Within the block, reports go to ``answer(value, at) -> bool`` (None: nobody listens)."""
    global _answer
    previous, _answer = _answer, answer
    try:
        yield
    finally:
        _answer = previous
