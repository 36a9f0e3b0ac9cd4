"""Grading cases: what is called, with which inputs, against which reference, for how many points.

A case is declared once in ``autograder/cases/`` and used three ways: by the batch grader (all
cases, in the sandbox), by ``dlcourse check`` (public cases, in the sandbox), and by ``check()``
in a student's notebook (public cases, in the student's own kernel).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Callable, ClassVar

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


# ----------------------------------------------------------------------------- drivers: how the worker calls a unit

@dataclass(frozen=True)
class Driver:
    """How the worker calls a case's unit, with the options of that way alone.

    Each kind is named by ``name``, the module of ``autograder/engine/sandboxed/drivers/`` (or of its ``keras/``
    folder) that runs it: the request's ``"driver"``. That module's ``request(case, args, inputs)`` reads the options
    from ``case.driver`` by attribute (the sandboxed files import nothing of the grader, this module included).
    """

    name: ClassVar[str]

    def __post_init__(self):
        if not isinstance(getattr(self, "name", None), str):
            raise TypeError(f"{type(self).__name__} names no driver module: use Call(), ForwardBackward(forward), ...")
        if self.name not in drivers.available():
            raise ValueError(f"{type(self).__name__}: no driver module {self.name!r} "
                             f"(drivers: {sorted(drivers.available())})")


def _names(value, what: str, count: int | None = None) -> None:
    """Raise unless ``value`` is a tuple of ``count`` (or any number of) non-empty strings."""
    if not (isinstance(value, tuple) and all(isinstance(item, str) and item for item in value)
            and (count is None or len(value) == count)):
        raise ValueError(f"{what} must be a tuple of {count or 'some'} names, not {value!r}")


def _count(value, what: str, least: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f"{what} must be an int >= {least}, not {value!r}")


@dataclass(frozen=True)
class Call(Driver):
    """``value = unit(*inputs)``: the plain call (``drivers/call.py``)."""

    name: ClassVar[str] = "call"


@dataclass(frozen=True)
class ForwardBackward(Driver):
    """``out, cache = forward(*inputs)``, then ``value = unit(dout, cache)`` (``drivers/forward_backward.py``);
    the input ``dout`` goes to the backward unit.

    Args:
        forward: the forward unit that makes the cache.
    """

    name: ClassVar[str] = "forward_backward"
    forward: str

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.forward, str) or not self.forward:
            raise ValueError(f"ForwardBackward needs the forward unit that makes the cache, not {self.forward!r}")


@dataclass(frozen=True)
class NumericalGradient(Driver):
    """``value = unit(f, *inputs)`` for a known test function ``f`` made in the worker (``drivers/numerical_gradient.py``).

    Args:
        function: the test function's name (in that module's ``TEST_FUNCTIONS``).
        params: the inputs that are its parameters, not the unit's arguments.
    """

    name: ClassVar[str] = "numerical_gradient"
    function: str
    params: tuple[str, ...] = ()

    def __post_init__(self):
        super().__post_init__()
        known = drivers.available()[self.name].TEST_FUNCTIONS
        if self.function not in known:
            raise ValueError(f"NumericalGradient: no test function {self.function!r} (known: {sorted(known)})")
        _names(self.params, "NumericalGradient's params")


@dataclass(frozen=True)
class Steps(Driver):
    """An optimizer's update stepped K times, ``w, config = unit(w, dws[k], config)`` (``drivers/steps.py``)."""

    name: ClassVar[str] = "steps"


@dataclass(frozen=True)
class Raises(Driver):
    """A unit called on arguments it must reject; the value says what it raised (``drivers/raises.py``)."""

    name: ClassVar[str] = "raises"


@dataclass(frozen=True)
class RngProbe(Driver):
    """One unit run several times through its own driver, each with a generator made in the worker
    (``drivers/rng_probe.py``; built by ``probes.rng_probed`` and ``rejections.rejections_case``).

    Args:
        probe: ``inputs -> {"inner": the request the probed case sends alone, "rng_arg": its generator argument,
            "runs": [[seed, global seed, {argument: value}?], ...]}``, from all the case's inputs (private ones too).
    """

    name: ClassVar[str] = "rng_probe"
    probe: Callable[[dict], dict]

    def __post_init__(self):
        super().__post_init__()
        if not callable(self.probe):
            raise ValueError(f"RngProbe needs a probe, inputs -> request keys, not {self.probe!r}")


@dataclass(frozen=True)
class KerasModel(Driver):
    """A Keras model built by the unit, described as plain data; the inputs ``set_weights`` and ``predict``, where
    present, are for the driver (``drivers/keras/keras_model.py``)."""

    name: ClassVar[str] = "keras_model"


@dataclass(frozen=True)
class KerasCall(Driver):
    """A unit written with Keras, called on float32 tensors (``drivers/keras/keras_call.py``)."""

    name: ClassVar[str] = "keras_call"


@dataclass(frozen=True)
class GanStep(Driver):
    """One GAN training step (or K in a row) on Keras models built from plain specs (``drivers/keras/gan_step.py``)."""

    name: ClassVar[str] = "gan_step"


@dataclass(frozen=True, kw_only=True)
class Training(Driver):
    """A driver whose unit trains and reports its progress (``drivers/_progress.py``).

    Args:
        progress: how many of the reports the grader judges, each as it would judge the final value; at the first
            that passes it tells the unit to stop training, and the unit's own return value is then judged as
            usual. 0: reports are not judged and training runs to its end.
    """

    progress: int = 0

    def __post_init__(self):
        super().__post_init__()
        _count(self.progress, f"{type(self).__name__}'s progress", 0)


@dataclass(frozen=True, kw_only=True)
class KerasFit(Training):
    """``value = unit(*inputs)`` for a unit that trains with Keras's ``fit``, which reports after each epoch
    (``drivers/keras/keras_fit.py``)."""

    name: ClassVar[str] = "keras_fit"


@dataclass(frozen=True, kw_only=True)
class GanTrain(Training):
    """A GAN trained with the student's builders and step (``drivers/keras/gan_train.py``).

    Args:
        builders: the generator's builder and the discriminator's.
        report_every: steps between progress reports (None: no reports; then ``progress`` must be 0).
    """

    name: ClassVar[str] = "gan_train"
    builders: tuple[str, str] = ("build_generator", "build_discriminator")
    report_every: int | None = None

    def __post_init__(self):
        super().__post_init__()
        _names(self.builders, "GanTrain's builders", 2)
        if self.report_every is None:
            if self.progress:
                raise ValueError("GanTrain judges progress reports only with report_every steps between them")
        else:
            _count(self.report_every, "GanTrain's report_every", 1)


CALL = Call()


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
        driver: how the worker calls the unit, with that driver's options (a ``Driver``): ``Call()``,
            ``ForwardBackward(forward)``, ``NumericalGradient(function, params)``, ``Steps()``, ``RngProbe(probe)``,
            ``Raises()``, and for Keras units ``KerasModel()``, ``KerasCall()``, ``KerasFit(progress)``, ``GanStep()``,
            ``GanTrain(builders, report_every, progress)``; its ``name`` is the driver module that runs it.
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
    """

    unit: str
    name: str
    inputs: Callable[[np.random.Generator], dict]
    reference: Callable[..., dict]
    outputs: tuple[str, ...]
    points: float = 1.0
    hidden: bool = False
    driver: Driver = CALL
    rtol: float = 1e-6
    atol: float = 1e-8
    timeout: float = 10.0
    hint: str = ""
    mistakes: tuple[Mistake, ...] = ()
    judge: Callable[[dict, dict, dict, dict], tuple[bool, str]] | None = None
    fresh: bool = False
    private: tuple[str, ...] = ()

    def __post_init__(self):
        if not isinstance(self.driver, Driver):
            raise TypeError(f"case {self.id!r}: driver must be a Driver (Call(), ForwardBackward(forward=...), ...), "
                            f"not {self.driver!r}")

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
