"""``check(unit)`` inside a notebook: the public cases of one unit, on the notebook's own functions.

This is the student's own check, so it runs in the student's kernel, without a sandbox; it uses the
same cases, references and messages as grading (replies go through the same plain-data format, so
a wrong type is reported exactly as the grader would). Scores only ever come from ``dlcourse grade``.
"""

from __future__ import annotations

import inspect

from autograder.cases import find_unit
from autograder.engine import wire, worker
from autograder.engine.compare import judge
from autograder.engine.references import ReferenceCache, cache_dir

_CACHE: ReferenceCache | None = None


def check(unit, namespace: dict | None = None) -> None:
    """Run the public cases of ``unit`` and print what passed; raise ``AssertionError`` if any failed.

    Args:
        unit: the function itself (``check(dense_forward)``) or its name.
        namespace: where the notebook's functions live (default: the caller's globals).
    """
    global _CACHE
    name = unit if isinstance(unit, str) else getattr(unit, "__name__", None)
    if not isinstance(name, str):
        raise ValueError(f"Expected a unit function or its name. Received {unit!r}.")
    if namespace is None:
        namespace = unit.__globals__ if callable(unit) and hasattr(unit, "__globals__") else \
            inspect.currentframe().f_back.f_globals
    if _CACHE is None:
        _CACHE = ReferenceCache(cache_dir())
    cases = [case for case in find_unit(name).public_cases() if case.unit == name]
    failures = []
    for case in cases:
        inputs = case.make_inputs(None)
        request = wire.decode(wire.encode(case.request(inputs)))
        reply = wire.decode(wire.encode(worker.run_case(namespace, request)))
        verdict = judge(case, inputs, lambda case=case, inputs=inputs: _CACHE.expected(case, inputs), reply)
        if not verdict.passed:
            failures.append(verdict.message)
    for message in failures:
        print(message, end="\n\n")
    passed = len(cases) - len(failures)
    print(f"{name}: {passed} of {len(cases)} public checks passed."
          + (" Hidden cases are graded too: test edge cases yourself." if not failures else ""))
    if failures:
        raise AssertionError(f"{name}: {len(failures)} of {len(cases)} public checks failed (see above)")
