"""Judging randomness (``probes.py``): a unit must draw from the generator it is given, and only from it;
and a trainer is judged by its held-out accuracy on a task drawn for the grading."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.autograder.engine.case import Case
from dlcourse.autograder.engine.compare import Status
from dlcourse.autograder.engine.probes import held_out_verdict, other_seed, rng_probed, same_value
from dlcourse.autograder.engine.runner import CaseRunner, in_process


def sample_inputs(rng):
    return {"size": 5, "rng": {"__rng__": int(rng.integers(2**63))}}


def sample_reference(size, rng):
    return {"size": size}


def judge_sample(inputs, expected, received, timing):
    """As the course's samplers are judged: by what any generator's sample must be, not by one seed's values."""
    x = received["x"]
    if not isinstance(x, np.ndarray) or x.shape != (expected["size"],):
        return False, f"expected {expected['size']} numbers, received {x!r}"
    return True, "five numbers"


SAMPLE = rng_probed(Case("sample", "five normals", sample_inputs, sample_reference, ("x",), judge=judge_sample),
                    noun="sample")


def verdict_of(source: str):
    """``sample`` as ``source`` defines it, probed in this process (as ``check()`` runs it)."""
    namespace: dict = {}
    exec(compile("import numpy as np\n" + source, "cell 1", "exec"), namespace)
    runner = CaseRunner(in_process(namespace), lambda case, inputs: case.reference(**inputs))
    return runner.verdict(SAMPLE, ("sample",))


def test_a_unit_drawing_from_its_generator_passes_and_leaves_the_global_state_alone():
    np.random.seed(3)
    before = np.random.get_state()[1].copy()
    verdict = verdict_of("def sample(size, rng):\n    return rng.normal(size=size)")
    assert verdict.passed and verdict.status is Status.PASSED, verdict.message
    assert np.array_equal(np.random.get_state()[1], before)  # the probe restores the caller's global state


@pytest.mark.parametrize("body, why", [
    ("return np.random.default_rng(1234).normal(size=size)", "ignores `rng`: two different generators gave the "
                                                             "same sample"),
    ("return np.random.normal(size=size)", "uses numpy's global random state"),
    ("return np.random.default_rng().normal(size=size)", "does not depend on `rng` alone: the same generator state "
                                                         "gave a different sample"),
    ("return np.random.default_rng(rng.bit_generator.state['state']['state']).normal(size=size)",
     "never draws from `rng`: the generator was not advanced"),
], ids=["a seed of its own", "the global state", "fresh entropy", "seeded from the generator's state"])
def test_a_unit_that_does_not_draw_from_its_generator_fails_saying_how(body, why):
    verdict = verdict_of(f"def sample(size, rng):\n    {body}")
    assert not verdict.passed and verdict.status is Status.FAILED, verdict.message
    assert why in verdict.message, verdict.message


def test_a_unit_drawing_from_its_generator_is_then_judged_as_its_case_judges_it():
    verdict = verdict_of("def sample(size, rng):\n    return rng.normal(size=size + 1)")
    assert not verdict.passed and verdict.status is Status.FAILED
    assert verdict.message.startswith("sample: expected 5 numbers, received array("), verdict.message


def seeded_reference(size, rng):
    return {"x": np.random.default_rng(rng["__rng__"]).normal(size=size)}


EXACT = rng_probed(Case("sample", "five normals of this seed", sample_inputs, seeded_reference, ("x",)), noun="sample")


def test_the_run_judged_as_the_case_judges_it_is_the_one_with_the_cases_own_generator():
    """Run 1 (the case's seed), not run 3 (the other seed): a case comparing values with its seed's reference
    passes a correct unit."""
    namespace: dict = {}
    exec(compile("import numpy as np\ndef sample(size, rng):\n    return rng.normal(size=size)", "cell 1", "exec"),
         namespace)
    runner = CaseRunner(in_process(namespace), lambda case, inputs: case.reference(**inputs))
    verdict = runner.verdict(EXACT, ("sample",))
    assert verdict.passed, verdict.message


def test_the_second_seed_is_fixed_by_the_first_and_differs_from_it():
    assert other_seed(42) == other_seed(42) != other_seed(43)
    assert other_seed(42) != 42 and 0 <= other_seed(2**63 - 1) < 2**63


def test_same_value_is_exact_and_counts_nan_equal_to_nan():
    assert same_value({"w": np.array([1.0, np.nan])}, {"w": np.array([1.0, np.nan])})
    assert same_value([1, (2.0, "a")], (1, [2.0, "a"])) and same_value(float("nan"), float("nan"))
    assert not same_value(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-15]))
    assert not same_value(np.zeros(2), np.zeros((1, 2))) and not same_value(np.zeros(2), [0.0, 0.0])
    assert not same_value({"w": 1}, {"w": 1, "b": 2})


def test_a_trainer_passes_at_the_required_held_out_accuracy_and_fails_below_it_with_the_advice():
    assert held_out_verdict(0.9812, 0.95, "train longer") == (True, "held-out accuracy 0.981")
    assert held_out_verdict(0.95, 0.95, "train longer")[0]
    passed, message = held_out_verdict(0.5, 0.95, "train longer")
    assert not passed
    assert message.startswith("held-out accuracy 0.500, below the required 0.95 on the ten symbols drawn for this "
                              "grading (train longer; "), message
