"""Judging a unit's randomness: it must use the generator it is given, and nothing else.

A sampler that ignores ``rng`` (a fixed seed of its own, a stored sample, deterministic quantiles of
the right distribution) or draws from NumPy's global state passes every test of its distribution.
What defines "uses its rng" is behaviour across calls, so ``rng_probed(case)`` turns a case into one
that the worker runs three times (the "rng_probe" driver, ``drivers/rng_probe.py``):

1. with ``default_rng(seed)``, NumPy's global state seeded with ``GLOBAL_SEEDS[0]``;
2. with ``default_rng(seed)`` again, the global state seeded with ``GLOBAL_SEEDS[1]``;
3. with ``default_rng(other seed)``, the global state as in 1.

No run may change NumPy's global state (the unit neither uses nor needs it). Runs 1 and 2 must
give the same result (nothing but the generator decides it), a unit-specific
check of run 1 must hold (dropout_backward uses its forward's mask), runs 1 and 3 must differ (the
generator is used), and the generator must have been advanced (a draw from it after the call is
not the first draw of a fresh generator). Then run 1 is judged as the case always judged it. Everything here runs in the grader; the worker only reports values.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Callable

import numpy as np

from dlcourse.autograder.engine.case import Case, RngProbe
from dlcourse.autograder.engine.compare import judge as compare_judge

GLOBAL_SEEDS = (20260101, 7)

# (inputs, forward output of run 1, outputs of run 1 by name) -> problem or None: a unit-specific
# check of one run (dropout_backward must use the mask its forward drew).
RunCheck = Callable[[dict, object, dict], "str | None"]


def other_seed(seed: int) -> int:
    """A second seed derived from the case's (the worker cannot guess it from the first)."""
    return int.from_bytes(hashlib.sha256(f"other\0{seed}".encode()).digest()[:8], "big") >> 1


def rng_probed(case: Case, arg: str = "rng", noun: str = "result", check: RunCheck | None = None,
               probe_with: dict | None = None) -> Case:
    """``case`` run three times with controlled generators and judged on all three (see the module).

    Args:
        case: a case whose inputs hold ``{arg: {"__rng__": seed}}``.
        arg: the name of the generator argument.
        noun: what the unit returns, for messages ("kernel", "mask").
        check: a further check of run 1 (its forward output and its outputs).
        probe_with: for a case whose own inputs need no randomness (dropout with training=False):
            arguments that the three probing runs use instead (``{"training": True, "rate": 0.5}``);
            a fourth run with the case's own inputs is then the one judged as the case judges it.
    """
    changes = [dict(probe_with)] if probe_with else []

    def probe(inputs: dict) -> dict:
        seed = int(inputs[arg]["__rng__"])
        runs = [[seed, GLOBAL_SEEDS[0], *changes], [seed, GLOBAL_SEEDS[1], *changes],
                [other_seed(seed), GLOBAL_SEEDS[0], *changes]]
        if probe_with:
            runs.append([seed, GLOBAL_SEEDS[0]])
        return {"inner": case.request(inputs), "rng_arg": arg, "runs": runs}

    def judge(inputs: dict, expected: dict, received: dict, timing: dict) -> tuple[bool, str]:
        if "probe" not in received:  # a unit test handing in one call's outputs: judge them as the case does
            return _judge_alone(case, inputs, expected, received, timing)
        probe = received["probe"]
        runs = probe.get("runs") if isinstance(probe, dict) else None
        after = probe.get("after") if isinstance(probe, dict) else None
        count = 4 if probe_with else 3
        if not isinstance(runs, list) or len(runs) != count or not isinstance(after, list) or len(after) != count:
            return False, "the randomness probe received no results"
        seed = int(inputs[arg]["__rng__"])
        first, again, other = (_outputs(case, run) for run in runs[:3])
        if any(item is True for item in probe.get("global") or []):
            return False, (f"your {case.unit} uses numpy's global random state (np.random.seed or np.random.* "
                           f"functions changed it): draw every random number from `{arg}` alone")
        if not same_value(first, again):
            return False, (f"your {case.unit} does not depend on `{arg}` alone: the same generator state gave a "
                           f"different {noun} once numpy's global state changed (draw only from `{arg}`: no "
                           "np.random.* functions, no generator or counter of your own)")
        if check is not None:
            problem = check({**inputs, **(probe_with or {})}, (probe.get("forward") or [None])[0], first)
            if problem:
                return False, problem
        if same_value(first, other):
            return False, (f"your {case.unit} ignores `{arg}`: two different generators gave the same {noun} "
                           f"(draw every random number from `{arg}`, e.g. {arg}.normal(...))")
        if after[0] == float(np.random.default_rng(seed).random()):
            return False, (f"your {case.unit} never draws from `{arg}`: the generator was not advanced "
                           f"(draw every random number from `{arg}` itself)")
        judged = runs[3] if probe_with else runs[0]  # run 1, or the run with the case's own inputs
        reply = {"status": "ok", "value": judged, "mutated": []}
        verdict = compare_judge(case, inputs, lambda: expected, reply, timing)
        return verdict.passed, _without_unit(case, verdict.message)

    return dataclasses.replace(case, driver=RngProbe(probe), outputs=("probe",), judge=judge)


def _judge_alone(case, inputs, expected, received, timing):
    value = received[case.outputs[0]] if len(case.outputs) == 1 else tuple(received.get(name) for name in case.outputs)
    verdict = compare_judge(case, inputs, lambda: expected, {"status": "ok", "value": value, "mutated": []}, timing)
    return verdict.passed, _without_unit(case, verdict.message)


def _without_unit(case: Case, message: str) -> str:
    """The verdict's message without its leading ``unit: `` and trailing inputs (the caller adds both)."""
    message = message.removeprefix(f"{case.unit}: ").removeprefix(f"{case.unit}, ")
    return message.split("\n  (public case '")[0].split("\n  (hidden case '")[0]


def _outputs(case: Case, value) -> dict:
    """One run's value by output name, without a layer's cache (its contents are the student's business)."""
    if len(case.outputs) == 1:
        named = {case.outputs[0]: value}
    elif isinstance(value, (tuple, list)) and len(value) == len(case.outputs):
        named = dict(zip(case.outputs, value))
    else:
        named = {"value": value}
    return {name: item for name, item in named.items() if name != "cache"}


def same_value(a, b) -> bool:
    """Whether two plain values are identical (arrays exactly, NaN equal to NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[key], b[key]) for key in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape:
            return False
        if a.dtype.kind in "biufc" and b.dtype.kind in "biufc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    try:
        return bool(a == b) or (a != a and b != b)
    except Exception:  # noqa: BLE001 - an unsupported value: compare what it is
        return repr(a) == repr(b)


# ----------------------------------------------------------------------------- training on a new task

def held_out_verdict(accuracy: float, required: float, advice: str) -> tuple[bool, str]:
    """A trainer's result judged by its ``accuracy`` on the held-out part of a task drawn for this
    grading (``datasets.make_glyphs``): ``(passed, "held-out accuracy 0.981")`` or why it failed."""
    if accuracy >= required:
        return True, f"held-out accuracy {accuracy:.3f}"
    return False, (f"held-out accuracy {accuracy:.3f}, below the required {required:.2f} on the ten symbols drawn for "
                   f"this grading ({advice}; weights computed before grading know nothing of these symbols)")
