"""``check(unit)`` inside a notebook: the public cases of one unit, on the notebook's own functions.

This is the student's own check, so it runs in the student's kernel, without a sandbox; it judges
each case through the same ``CaseRunner`` as grading (requests and replies go through the same
plain-data format, so a wrong type is reported exactly as the grader would), with the grader's
time limit per case. Scores only ever come from ``dlcourse grade``.

What it prints: one full diagnosis per unit, then how many more public cases fail the same way;
the student's own traceback (their cell and line); and the public points, labelled as such. What
the student's code prints is shown up to ``MAX_PRINTED`` characters, then one line says how much was cut.
It remembers, for this kernel, which units timed out: a unit that calls one is not run again
until that unit is redefined ("depends on sigmoid_forward, which timed out").

In a NumPy assignment it never imports a framework into the student's kernel: the public references
come from the cache that ``dlcourse warm`` fills (``make`` runs it), the variants that name a mistake
are NumPy, and where the cache lacks a reference (never warmed, or warmed by another version of the
grader) ``dlcourse warm`` computes the assignment's references first, in a process of its own
(``_expected``). Only if that fails, or a framework is in the kernel already, are they computed here.
"""

from __future__ import annotations

import dataclasses
import dis
import inspect
import re
import subprocess
import sys
import threading
import types
from contextlib import contextmanager

from dlcourse.autograder.cases import COURSE
from dlcourse.autograder.engine.extract import judge_cells
from dlcourse.autograder.engine.reference_cache import ReferenceCache, cache_dir
from dlcourse.autograder.engine.runner import CaseRunner, in_process

MAX_PRINTED = 20_000  # characters the student's code may print in one check(), stdout and stderr together
FRAMEWORKS = ("tensorflow", "keras", "jax", "torch")  # none of them enters a kernel through a NumPy check
WARM_TIMEOUT = 600.0  # seconds `dlcourse warm` may take for one assignment's public references
_CACHE: ReferenceCache | None = None
_WARMED: set[str] = set()  # assignments whose references `dlcourse warm` computed (or tried to) for this kernel
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
    runner = kernel_runner(namespace, _expected(assignment), assignment.units)
    runner.max_timeout = max_timeout
    runner.timed_out.pop(name, None)
    runner.failed.pop(name, None)
    cases = [case for case in assignment.public_cases() if case.unit == name]
    verdicts = []
    with capped_output(MAX_PRINTED):
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


class _NotCached(Exception):
    """A reference the cache does not hold."""


def _not_cached(**inputs):
    raise _NotCached


def _expected(assignment):
    """``(case, inputs) -> reference outputs`` for ``assignment``'s public cases, from the cache (``_CACHE``).

    In a NumPy assignment, a reference the cache lacks, while no framework is imported here, is computed by
    ``dlcourse warm <assignment>`` in a process of its own (all the assignment's public references, once per
    kernel), then read from the cache: Keras never enters the student's kernel. A fresh case's reference is
    NumPy (computed here, kept nowhere); the Keras assignments' students use Keras anyway.
    """
    cache = _CACHE
    if assignment.frameworks:
        return cache.expected

    def expected(case, inputs):
        if case.fresh or assignment.name in _WARMED or any(module in sys.modules for module in FRAMEWORKS):
            return cache.expected(case, inputs)
        try:  # the same key (case id, inputs, fingerprint), but nothing computed on a miss
            return cache.expected(dataclasses.replace(case, reference=_not_cached), inputs)
        except _NotCached:
            _WARMED.add(assignment.name)
            _warm_elsewhere(assignment.name)
        return cache.expected(case, inputs)  # from the cache now; computed here only if warming failed
    return expected


def _warm_elsewhere(name: str) -> None:
    """``dlcourse warm <name>`` in a child process (the cache folder is this kernel's: same environment)."""
    print(f"(computing the Keras references of {name}'s public checks, once, in a process of their own; "
          "`dlcourse warm` does it ahead)", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "dlcourse", "warm", name], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=WARM_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):  # no interpreter to start, or too slow: computed here instead
        pass


def grading_would_miss(unit: str, namespace: dict, uses: dict) -> list[str]:
    """Notes for the globals ``unit`` uses that only statements grading leaves out set: this check saw
    them, grading will not. The kernel's input history (IPython's ``In``) is judged as grading judges a
    notebook, every cell knowing what the others import and define (``judge_cells``)."""
    history = namespace.get("In")
    if not isinstance(history, list):
        return []
    skipped = judge_cells([(f"In[{index}]", source, False) for index, source in enumerate(history)
                           if isinstance(source, str)]).skipped
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


@contextmanager
def capped_output(limit: int):
    """While the block runs, pass on the first ``limit`` characters written to ``sys.stdout`` and
    ``sys.stderr`` (together) and count the rest; then say in one line how much was not shown."""
    budget = _Budget(limit)
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Capped(streams[0], budget), _Capped(streams[1], budget)
    try:
        yield budget
    finally:
        sys.stdout, sys.stderr = streams
        if budget.written > limit:
            print(("" if budget.at_line_start else "\n") + f"... ({budget.written:,} characters printed; "
                  f"the last {budget.written - limit:,} not shown)")


class _Budget:
    """How many characters were written, and how many may still be shown."""

    def __init__(self, limit: int):
        self.limit, self.written, self.at_line_start = limit, 0, True
        self.lock = threading.Lock()  # the student's threads print too

    def take(self, text: str) -> str:
        """The part of ``text`` still to show; all of it is counted."""
        with self.lock:
            shown = text[:max(0, self.limit - self.written)]
            self.written += len(text)
            if shown:
                self.at_line_start = shown.endswith("\n")
            return shown


class _Capped:
    """A stream that writes to the stream it stands for only what its budget still allows."""

    def __init__(self, stream, budget: _Budget):
        self._stream, self._budget = stream, budget

    def write(self, text) -> int:
        if not isinstance(text, str):
            return self._stream.write(text)  # the real stream's own error
        shown = self._budget.take(text)
        if shown:
            self._stream.write(shown)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):  # flush, encoding, isatty, fileno, ...: the real stream's
        return getattr(self._stream, name)


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
    """The global names the code can read: not attributes (``model.fit`` reads no global ``fit``),
    nor names in code that cannot run (``return out`` after ``raise NotImplementedError()``)."""
    names = {instruction.argval for instruction in dis.get_instructions(code)
             if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS")}
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
