"""Cases that check a unit's arguments: each bad one rejected with a ``ValueError`` that names it, good ones accepted.

The notebooks of assignments 02 and 03 ask for it ("Bad arguments raise `ValueError` naming the argument",
"Raise `ValueError` for `decay_steps <= 0` or a negative step"). One case calls the unit several times in one
worker, each time with some of the case's arguments changed: the "raises" driver reports what each call raised
(``drivers/raises.py``), and the "rng_probe" driver runs it once per change (``drivers/rng_probe.py``: a run
``[seed, global seed, {argument: value}]`` replaces those arguments; a generator argument ``rng`` is made from
the case's seed, as in every sampler case). What a unit returns for a good call does not cross the boundary:
the values of good calls are the other cases' business.
"""

from __future__ import annotations

import dataclasses

from dlcourse.autograder.engine.case import Case
from dlcourse.autograder.engine.probes import GLOBAL_SEEDS

NO_GENERATOR = "no generator argument"  # rng_probe's generator argument, for a unit that takes none


def _call_text(unit: str, changes: dict) -> str:
    return f"{unit}(..., " + ", ".join(f"{key}={value!r}" for key, value in changes.items()) + ")"


def rejections_case(unit: str, name: str, inputs, runs: list[tuple[dict, str | None]], points: float = 0.5,
                    hidden: bool = False) -> Case:
    """A case of ``unit`` called once per entry of ``runs`` on ``inputs`` with some arguments changed.

    Args:
        inputs: ``rng -> {argument: value}``, every argument a run changes included (in call order).
        runs: ``(changes, argument)``: ``argument`` names what the call must reject with a ``ValueError``
            whose message names it; None: the call is valid and must not raise.
    """
    runs = [(dict(changes), argument) for changes, argument in runs]
    expected = [{"call": _call_text(unit, changes), "raises": "ValueError" if argument else None,
                 "naming": argument} for changes, argument in runs]
    base = Case(unit, name, inputs, lambda **_: {"raised": expected}, ("raised",), driver="raises", points=points,
                hidden=hidden)

    def extra(values: dict) -> dict:
        generator = values.get("rng")
        seed = int(generator["__rng__"]) if isinstance(generator, dict) and "__rng__" in generator else 0
        arg = "rng" if isinstance(generator, dict) else NO_GENERATOR
        return {"inner": base.request(values), "rng_arg": arg,
                "runs": [[seed, GLOBAL_SEEDS[0], changes] for changes, _ in runs]}

    def judge(values: dict, reference: dict, received: dict, timing: dict) -> tuple[bool, str]:
        probe = received.get("probe")
        outcomes = probe.get("runs") if isinstance(probe, dict) else None
        if not isinstance(outcomes, list) or len(outcomes) != len(runs):
            return False, "the argument checks received no results"
        for (changes, argument), outcome in zip(runs, outcomes):
            call = _call_text(unit, changes)
            raised = outcome.get("raised") if isinstance(outcome, dict) else None
            message = str(outcome.get("message", "")) if isinstance(outcome, dict) else ""
            if argument is None:
                if raised is not None:
                    return False, (f"{call} raised {raised}: {message[:200]}; these arguments are valid "
                                   "(the notebook's conventions), so the call must succeed")
                continue
            if raised is None:
                return False, (f"{call} was accepted; raise ValueError when {argument} is invalid, with a message "
                               f"that names {argument} and the value received, e.g. ValueError(f\"Expected ... "
                               f"Received {argument}={{{argument}!r}}.\")")
            if raised != "ValueError" or argument not in message:
                return False, (f"{call} raised {raised}: {message[:200]}; raise ValueError with a message that "
                               f"names {argument} and the value received")
        checked = ", ".join(dict.fromkeys(argument for _, argument in runs if argument))
        return True, f"rejects a bad {checked} with ValueError" + (", accepts the valid calls"
                                                                 if any(a is None for _, a in runs) else "")

    return dataclasses.replace(base, driver="rng_probe", outputs=("probe",), judge=judge, extra=extra)
