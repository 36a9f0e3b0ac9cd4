"""Grading cases: what is called, with which inputs, against which reference, for how many points.

A case is declared once in ``autograder/cases/`` and used three ways: by the batch grader (all
cases, in the sandbox), by ``dlcourse check`` (public cases, in the sandbox), and by ``check()``
in a student's notebook (public cases, in the student's own kernel).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from dlcourse.autograder.engine.sandboxed import drivers

@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: when the student's output matches it, the message names it.

    Args:
        name: what the student did, in words ("summed db over the wrong axis").
        outputs: ``(inputs, expected) -> {quantity: wrong value}`` for the quantities it changes, or None
            where the mistake does not apply to these inputs (changes nothing, or cannot be computed for them).
    """

    name: str
    outputs: Callable[[dict, dict], dict | None]


@dataclass(frozen=True)
class Case:
    """One graded call of a student's unit.

    Args:
        unit: the student's function under test.
        name: a short description shown in reports ("batch of 4, 3 units").
        inputs: ``rng -> {name: value}`` in call order; called with a public or a secret seed.
        reference: ``(**inputs) -> {quantity: expected}``; runs only in the grader.
        outputs: names of the unit's return values, in order (one name: a single value).
        points: what the case is worth.
        hidden: hidden cases show no inputs and no values in messages.
        driver: how the worker calls the unit: the name of a module of ``autograder/engine/sandboxed/drivers/``
            ("call", "forward_backward", "numerical_gradient", "steps", "rng_probe", "raises") or of its ``keras/``
            folder ("keras_model", "keras_call", "keras_fit", "gan_step", "gan_train"), which says what the request holds.
        extra: further plain-data keys for the request (``set_weights``, ``predict`` of "keras_model").
        forward: for "forward_backward", the forward unit that makes the cache.
        function: for "numerical_gradient", the worker's test function and its parameter names.
        rtol, atol: elementwise tolerance, ``|received - expected| <= atol + rtol * |expected|``.
        timeout: wall-clock seconds for the call.
        hint: shown when the case fails (the common mistake, where it is not detected exactly).
        mistakes: wrong answers recognised and named.
        fresh: inputs are drawn anew on every grading (from the OS's randomness as well as the seed), so
            they cannot be recognised and answered from a table; the reference is then computed afresh too
            and kept nowhere (a timed case whose reference is timed on the same inputs).
        judge: replaces the elementwise comparison: ``(inputs, expected, received, timing) -> (ok, message)``;
            ``received`` maps output names to values, ``timing`` is ``{"seconds": this case's wall time,
            "earlier": {case id: seconds}, "yardsticks": {case id: seconds}}``: the wall times of the cases
            already run on this submission, and of the timed reference (``reference_seconds``) measured right
            after each of them (all measured by the grader, so a student cannot forge them). A case whose training stopped early adds
            ``"stopped_at"``: the epoch or step after which the grader told it to stop.
        private: inputs the grader keeps: the reference and the judge see them, the worker never does
            (a held-out set, the judge's own noise); every other input is sent to the unit, in order.
        progress: for a training case whose driver reports progress ("keras_fit", "gan_train"): how many
            of the reports the grader judges, each as it would judge the final value; at the first that
            passes it tells the unit to stop training, and the unit's own return value is then judged
            as usual (see ``drivers/_progress.py``). 0: reports are not judged and training runs to its end.
    """

    unit: str
    name: str
    inputs: Callable[[np.random.Generator], dict]
    reference: Callable[..., dict]
    outputs: tuple[str, ...]
    points: float = 1.0
    hidden: bool = False
    driver: str = "call"
    forward: str | None = None
    function: tuple[str, tuple[str, ...]] | None = None
    rtol: float = 1e-6
    atol: float = 1e-8
    timeout: float = 10.0
    hint: str = ""
    mistakes: tuple[Mistake, ...] = ()
    judge: Callable[[dict, dict, dict, dict], tuple[bool, str]] | None = None
    extra: Callable[[dict], dict] | None = None
    fresh: bool = False
    private: tuple[str, ...] = ()
    progress: int = 0

    @property
    def id(self) -> str:
        return f"{self.unit}: {self.name}"

    def make_inputs(self, secret: str | None) -> dict:
        """Inputs from a seed: public cases from their id, hidden ones from the id and the secret."""
        if self.hidden and secret is None:
            raise ValueError(f"hidden case {self.id!r} needs the grader's secret")
        material = self.id if not self.hidden else f"{secret}\0{self.id}"
        if self.fresh:
            material += f"\0{os.urandom(16).hex()}"
        seed = int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "big")
        return self.inputs(np.random.default_rng(seed))

    def request(self, inputs: dict) -> dict:
        """The plain-data message that asks the worker to run this case (built by its driver's module)."""
        return drivers.request(self, inputs)


@dataclass(frozen=True)
class Assignment:
    """The cases of one notebook and the sandbox they need.

    Args:
        name: the notebook's stem, ``01_backprop``.
        title: for reports.
        cases: in the order units appear in the notebook.
        frameworks: whether Keras may be imported in the sandbox (only the Keras assignments).
        memory_bytes: address-space limit of a worker (Keras on TensorFlow needs about 2 GB more).
        processes: process-and-thread limit of a worker's uid (TensorFlow starts dozens of threads).
        cpu_seconds: CPU-time limit of a worker, all its cases together (all threads count).
    """

    name: str
    title: str
    cases: tuple[Case, ...]
    frameworks: bool = False
    memory_bytes: int = 2 * 1024**3
    processes: int = 64
    cpu_seconds: int = 300
    units: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "units", tuple(dict.fromkeys(case.unit for case in self.cases)))

    @property
    def max_score(self) -> float:
        return sum(case.points for case in self.cases)

    def public_cases(self) -> tuple[Case, ...]:
        return tuple(case for case in self.cases if not case.hidden)
