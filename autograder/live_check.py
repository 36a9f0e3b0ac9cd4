"""``check(unit)`` inside a notebook: the public cases of one unit, on the notebook's own functions.

This is the student's own check, so it runs in the student's kernel, without a sandbox; it judges
each case through the same ``CaseRunner`` as grading (requests and replies go through the same
plain-data format, so a wrong type is reported exactly as the grader would), with the grader's
time limit per case. Scores only ever come from ``dlcourse grade``.

What it prints: one full diagnosis per unit, then how many more public cases fail the same way;
the student's own traceback (their cell and line); and the public points, labelled as such.
It remembers, for this kernel, which units timed out: a unit that calls one is not run again
until that unit is redefined ("depends on sigmoid_forward, which timed out").
"""

from __future__ import annotations

import inspect
import re
import types

from dlcourse.autograder.cases import COURSE
from dlcourse.autograder.engine.extract import kept_statements
from dlcourse.autograder.engine.references import ReferenceCache, cache_dir
from dlcourse.autograder.engine.runner import CaseRunner, in_process

_CACHE: ReferenceCache | None = None
# unit -> (what happened, the function object it happened to): forgotten once the unit is redefined
_HUNG: dict[str, tuple[str, object]] = {}
_FAILED: dict[str, tuple[str, object]] = {}
# case id -> the verdict its last check gave in this kernel (for tools and tests)
RESULTS: dict = {}


class CheckFailed(AssertionError):
    """Some public checks failed; Jupyter shows this one line, not a traceback into the package."""

    def _render_traceback_(self):
        return [f"{type(self).__name__}: {self}"]


class CheckInterrupted(KeyboardInterrupt):
    """The student interrupted the kernel while a check ran; shown as one line."""

    def _render_traceback_(self):
        return [str(self)]


def check(unit, namespace: dict | None = None, max_timeout: float | None = None) -> None:
    """Run the public cases of ``unit`` and print what passed; raise ``CheckFailed`` if any failed.

    Args:
        unit: the function itself (``check(dense_forward)``) or its name.
        namespace: where the notebook's functions live (default: the unit's globals, else the caller's).
        max_timeout: caps each case's time limit (default: the grader's limit of each case).
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
    assignment = COURSE.find_unit(name)
    runner = kernel_runner(namespace, _CACHE.expected, assignment.units)
    runner.max_timeout = max_timeout
    runner.timed_out.pop(name, None)
    runner.failed.pop(name, None)
    cases = [case for case in assignment.public_cases() if case.unit == name]
    verdicts = []
    for case in cases:
        try:
            verdicts.append(runner.verdict(case, assignment.units))
        except KeyboardInterrupt:
            raise CheckInterrupted(f"check interrupted: {_running(runner, case)} was running public case "
                                   f"'{case.name}' (an infinite loop? The grader stops it after "
                                   f"{case.timeout:g} s)") from None
    _remember(runner, namespace, name)
    RESULTS.update({case.id: verdict for case, verdict in zip(cases, verdicts)})
    for note in grading_would_miss(name, namespace, runner.uses):
        print(note)
    print_report(name, cases, verdicts, assignment)


def grading_would_miss(unit: str, namespace: dict, uses: dict) -> list[str]:
    """Notes for the globals ``unit`` uses that only statements grading leaves out set (read from the
    kernel's input history, IPython's ``In``): this check saw them, grading will not."""
    history = namespace.get("In")
    if not isinstance(history, list):
        return []
    skipped: dict = {}
    for index, source in enumerate(history):
        if isinstance(source, str) and source.strip():
            kept_statements(source, f"In[{index}]", None, skipped)
    seen, frontier = set(), [unit]
    while frontier:  # the unit and the functions it calls
        name = frontier.pop()
        if name not in seen:
            seen.add(name)
            frontier += [used for used in uses.get(name, ()) if used in uses]
    names = sorted({used for name in seen for used in uses.get(name, ())} & set(skipped))
    return [f"Note: {unit} uses `{name}`, set only in {skipped[name]}. Grading does not run that statement, so "
            f"`{name}` will not exist there: define it inside your function, or from imports and constants only."
            for name in names if name in namespace]


def kernel_runner(namespace: dict, expected, units=()) -> CaseRunner:
    """A ``CaseRunner`` that calls the notebook's own functions, with a time limit per case."""
    runner = CaseRunner(in_process(namespace), expected, uses=_uses(namespace, units), stop_after_timeout=True)
    runner.timed_out.update({unit: what for unit, (what, function) in _HUNG.items() if namespace.get(unit) is function})
    runner.failed.update({unit: what for unit, (what, function) in _FAILED.items() if namespace.get(unit) is function})
    return runner


def print_report(name: str, cases, verdicts, assignment) -> None:
    """One full diagnosis, a count of the cases that fail the same way, a line per other kind, points."""
    failing = [verdict for verdict in verdicts if not verdict.passed]
    if failing:
        print(failing[0].message, end="\n\n")
        first = _kind(failing[0])
        same = sum(_kind(verdict) == first for verdict in failing[1:])
        if same:
            print(f"{same} more public case{'s' if same > 1 else ''} fail{'' if same > 1 else 's'} the same way.")
        for verdict in failing[1:]:
            if _kind(verdict) != first:
                print(f"Also: {verdict.message.splitlines()[0]}")
        if same or len(failing) > 1:
            print()
    earned = sum(case.points for case, verdict in zip(cases, verdicts) if verdict.passed)
    public = sum(case.points for case in cases)
    total = sum(case.points for case in assignment.cases if case.unit == name)
    print(f"{name}: {len(cases) - len(failing)} of {len(cases)} public checks passed: {earned:g} of {public:g} "
          f"public points (the unit is worth {total:g}; hidden cases, graded later, give the other "
          f"{total - public:g})." + (" Test edge cases yourself too." if not failing else ""))
    if failing:
        raise CheckFailed(f"{name}: {len(failing)} of {len(cases)} public checks failed (see above)")


def _kind(verdict) -> tuple:
    """What a failure says, without the case's numbers: failures of one kind print once."""
    first = verdict.message.split("\n  (public case")[0].split("\n  (hidden case")[0].splitlines()[0]
    return verdict.status, re.sub(r"[-+]?\d[\d.e+-]*", "#", first)


def _running(runner: CaseRunner, case) -> str:
    return getattr(runner.run, "interrupted_in", None) or case.unit


def _uses(namespace: dict, units) -> dict:
    """``{function: global names its code refers to}`` for the functions in ``namespace`` (units and helpers)."""
    found = {}
    for unit, function in list(namespace.items()):
        if not isinstance(function, types.FunctionType) and not hasattr(function, "python_function"):
            continue
        code = getattr(getattr(function, "python_function", function), "__code__", None)
        if code is not None:
            found[unit] = sorted(_names(code))
    return found


def _names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names(constant)
    return names


def _remember(runner: CaseRunner, namespace: dict, checked: str) -> None:
    """Keep, for this kernel, which units hung or failed, with the function objects that did."""
    _HUNG.pop(checked, None)
    _FAILED.pop(checked, None)
    for unit, what in runner.timed_out.items():
        _HUNG[unit] = (what, namespace.get(unit))
    for unit, what in runner.failed.items():
        _FAILED[unit] = (what, namespace.get(unit))
