"""Cases that check a unit's arguments: bad ones rejected with a ``ValueError`` that names them, good ones accepted.

The notebooks ask for it ("Bad arguments raise `ValueError` naming the argument", "Raise ValueError for
decay_steps <= 0 or a negative step", a docstring's "Raises"). One case calls the unit several times in one
worker, each time with some of the case's arguments changed: the "raises" driver reports what each call raised
(``drivers/raises.py``), and the "rng_probe" driver runs it once per change (``drivers/rng_probe.py``: a run
``[seed, global seed, {argument: value}]`` replaces those arguments; a generator argument ``rng`` is made from
the case's seed, as in every sampler case).

What was raised is the worker's word, and after the student's cells load the worker is the student's, its
drivers included. So the calls are drawn afresh at every grading (the case is ``fresh``), bad and good mixed
in a random order, each good call close to a bad one (``stddev`` 0 and -0.3 beside 0.7, ``h0`` of shape
``(1, H)`` beside ``(N, H)``), and the grader keeps the list of which is which (a private input). Every kind
of bad and good argument (the boundary itself, 0, as well as beyond it) is in every draw; only the values
and the order are drawn, so a check that gets one kind wrong fails at every grading, not at some. A report
that passes must tell the bad calls from the good ones: only the argument check itself, wherever it is
written, can do that. A driver that reports "ValueError" for every call, or for none, loses the case
(``tests/threats/test_forged_driver.py``). What a unit returns for a good call does not cross the boundary: the
values of good calls are the other cases' business.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable

import numpy as np

from dlcourse.autograder.engine.case import Case, Raises, RngProbe
from dlcourse.autograder.engine.compare import describe_inputs
from dlcourse.autograder.engine.probes import GLOBAL_SEEDS

NO_GENERATOR = "no generator argument"  # rng_probe's generator argument, for a unit that takes none
RUNS = "argument checks"  # the private input: [(changes, argument or None), ...], which calls must raise

Run = tuple[dict, "str | None"]  # (the arguments a call changes, the one it must reject by name, or None)


def mixed(rng: np.random.Generator, bad: list[tuple[dict, str]], good: list[dict]) -> list[Run]:
    """The bad calls ``(changes, argument)`` and the good ones ``changes``, in an order drawn from ``rng``."""
    runs = [*bad, *((changes, None) for changes in good)]
    return [runs[index] for index in rng.permutation(len(runs))]


def call_text(unit: str, changes: dict) -> str:
    """``unit(..., shape=(4, -2))``: one call of a case, as messages show it (arrays by their shape)."""
    return f"{unit}(..., {describe_inputs(changes)})"


def _names(message: str, argument: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(argument)}(?![A-Za-z0-9_])", message) is not None


def rejections_case(unit: str, name: str, inputs: Callable[[np.random.Generator], dict],
                    draw: Callable[[np.random.Generator], list[Run]], points: float = 0.5,
                    hidden: bool = False) -> Case:
    """A case of ``unit`` called once per run that ``draw`` makes, on ``inputs`` with some arguments changed.

    Args:
        inputs: ``rng -> {argument: value}``: a valid call, every argument a run changes included (in call order).
        draw: ``rng -> [(changes, argument), ...]`` (``mixed``): ``argument`` names what the call must reject with
            a ``ValueError`` whose message names it; None: the call is valid and must not raise. Drawn anew at
            each grading; at least one of each kind, so that neither "always raise" nor "never raise" passes.
    """
    def make(rng: np.random.Generator) -> dict:
        values = inputs(rng)
        runs = draw(rng)
        kinds = {argument is None for _, argument in runs}
        if kinds != {True, False}:
            raise ValueError(f"{unit}: {name!r} must mix bad and good calls; drew {runs!r}")
        return {**values, RUNS: runs}

    def reference(**values) -> dict:
        return {"raised": [{"call": call_text(unit, changes), "raises": "ValueError" if argument else None,
                            "naming": argument} for changes, argument in values[RUNS]]}

    base = Case(unit, name, make, reference, ("raised",), driver=Raises(), points=points, hidden=hidden,
                private=(RUNS,), fresh=True)

    def probe(values: dict) -> dict:
        generator = values.get("rng")
        seed = int(generator["__rng__"]) if isinstance(generator, dict) and "__rng__" in generator else 0
        arg = "rng" if isinstance(generator, dict) else NO_GENERATOR
        return {"inner": base.request(values), "rng_arg": arg,
                "runs": [[seed, GLOBAL_SEEDS[0], changes] for changes, _ in values[RUNS]]}

    def judge(values: dict, expected: dict, received: dict, timing: dict) -> tuple[bool, str]:
        return judge_runs(unit, values[RUNS], received.get("probe"))

    return dataclasses.replace(base, driver=RngProbe(probe), outputs=("probe",), judge=judge)


def judge_runs(unit: str, runs: list[Run], probe) -> tuple[bool, str]:
    """The verdict on what each of ``runs`` raised (``probe``: the "rng_probe" driver's value).

    Good calls are judged first, then the bad ones by argument, so the first line says the same of a submission
    at every draw (check() and the grader agree); the call itself, drawn anew, is on the second line.
    """
    outcomes = probe.get("runs") if isinstance(probe, dict) else None
    if not isinstance(outcomes, list) or len(outcomes) != len(runs):
        return False, "the argument checks received no results"
    for index in sorted(range(len(runs)), key=lambda index: (runs[index][1] is not None, runs[index][1] or "")):
        (changes, argument), outcome = runs[index], outcomes[index]
        problem = _call_problem(call_text(unit, changes), argument, outcome)
        if problem:
            return False, problem
    checked = ", ".join(sorted({argument for _, argument in runs if argument}))
    return True, f"rejects a bad {checked} with ValueError and accepts the valid calls ({len(runs)} calls)"


def _call_problem(call: str, argument: str | None, outcome) -> str | None:
    """What is wrong with one call's outcome (``{"raised": type name or None, "message"}``), or None."""
    raised = outcome.get("raised") if isinstance(outcome, dict) else None
    message = str(outcome.get("message", "")) if isinstance(outcome, dict) else ""
    if argument is None:
        if raised is None:
            return None
        return (f"a call with valid arguments raised {raised}; these arguments are valid (the notebook's "
                f"conventions), so the call must succeed\n  {call} raised {raised}: {message[:200]}")
    if raised is None:
        return (f"a call with a bad {argument} was accepted; raise ValueError when {argument} is invalid, with a "
                f"message that names {argument} and the value received, e.g. ValueError(f\"Expected ... Received "
                f"{argument}={{{argument}!r}}.\")\n  {call} returned")
    if raised != "ValueError" or not _names(message, argument):
        return (f"a call with a bad {argument} raised {raised}; raise ValueError with a message that names "
                f"{argument} and the value received\n  {call} raised {raised}: {message[:200]}")
    return None
