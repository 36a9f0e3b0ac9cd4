"""``rng_probe``: one unit run several times through its own driver, each time with a generator made here.

The grader builds the request (``probes.rng_probed``: the case's ``RngProbe`` option ``probe`` makes its keys
from the inputs, ``request``) and compares the runs to tell whether the unit uses its generator, and only
it. Request: ``{"unit", "inner": the request the unit's case would
send alone, "rng_arg": the name of its generator argument, "runs": [[seed, global_seed], ...]}``,
or ``[seed, global_seed, {argument: value}]`` for a run with some other arguments. Before each run
NumPy's global state is seeded with ``global_seed``, and the argument becomes
``numpy.random.default_rng(seed)``.

Value: ``{"runs": [each run's value], "forward": [each run's forward output, or None], "after": [a
draw from each generator after its run], "global": [whether each run changed NumPy's global
state]}``. The first run that does not reply "ok" is the reply.
"""

from __future__ import annotations

import numpy as np

from . import run_case


def request(case, args: dict, inputs: dict) -> dict:
    """Grader side: ``"inner"``, ``"rng_arg"`` and ``"runs"``, made by ``case.driver.probe`` from all the inputs."""
    return case.driver.probe(inputs)


def run(namespace, request):
    inner, name = request["inner"], request["rng_arg"]
    runs, forwards, after, touched, mutated = [], [], [], [], set()
    saved = np.random.get_state()  # a live check() in a notebook leaves the student's global state as it was
    try:
        for seed, global_seed, *changes in request["runs"]:
            np.random.seed(int(global_seed))
            seeded = np.random.get_state()
            rng = np.random.default_rng(int(seed))
            changed = changes[0] if changes and isinstance(changes[0], dict) else {}
            args = [(key, rng if key == name else changed.get(key, value)) for key, value in inner["args"]]
            reply = run_case(namespace, {**inner, "args": args, "keep_forward": True})
            if reply.get("status") != "ok":
                return reply
            runs.append(reply["value"])
            forwards.append(reply.get("forward"))
            mutated.update(reply.get("mutated") or [])
            after.append(float(rng.random()))
            state = np.random.get_state()
            touched.append(not (np.array_equal(state[1], seeded[1]) and state[2:] == seeded[2:]))
    finally:
        np.random.set_state(saved)
    return {"status": "ok", "value": {"runs": runs, "forward": forwards, "after": after, "global": touched},
            "mutated": sorted(mutated)}
