"""Assignment 03 (optimization): Keras references, the solution against them, and the named variants."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.engine.sandboxed import wire, worker
from dlcourse.autograder.engine.compare import judge
from dlcourse.autograder.engine.runner import CaseRunner, in_process
from conftest import TEST_SECRET, solution_namespace
from dlcourse.references import optimization as ref

ASSIGNMENT = ASSIGNMENTS["03_optimization"]
OPTIMIZERS = ("sgd", "sgd_momentum", "rmsprop", "adadelta", "adam")


@pytest.fixture(scope="module")
def solution():
    return solution_namespace("03_optimization")


def _run_solution(solution, unit, w, dws, config):
    """The solution stepped as the grader's "steps" driver steps it, through the plain-data wire."""
    request = {"op": "run", "unit": unit, "driver": "steps", "args": [["w", w], ["dws", dws], ["config", config]]}
    reply = wire.decode(wire.encode(worker.run_case(solution, wire.decode(wire.encode(request)))))
    assert reply["status"] == "ok", reply
    return reply["value"]


# ----------------------------------------------------------------------------- schedules

SCHEDULE_ARGS = [
    (np.arange(0, 3000, 13), 0.1, 100, 0.96, False),
    (np.arange(0, 3000, 13), 0.1, 100, 0.96, True),
    (np.arange(0, 50), 1, 10, 2, False),  # ints everywhere
    (np.arange(0, 50), 3, 7, 1, True),
    (17, 0.5, 4, 0.5, False),  # a scalar step
    (np.array([[0, 5], [10, 15]]), 2.0, 5, 0.25, True),  # any shape of steps
]


@pytest.mark.parametrize("unit", ["inverse_time_decay", "exponential_decay"])
@pytest.mark.parametrize("args", SCHEDULE_ARGS)
def test_schedules_match_keras(solution, unit, args):
    step, lr0, decay_steps, rate, staircase = args
    expected = ref.schedule(unit, step, lr0, decay_steps, rate, staircase)["learning_rate"]
    received = solution[unit](step, lr0, decay_steps, rate, staircase)
    assert np.shape(received) == np.shape(step)
    assert np.asarray(received).dtype == np.float64
    np.testing.assert_allclose(received, expected, rtol=1e-12)


def test_schedule_reference_is_kerass_maths_in_float64():
    """Given float32-exact values, the float64 reference equals Keras used as a user would (float32)."""
    from dlcourse.references._keras import keras

    steps = np.arange(0, 400, 3)
    plain = keras().optimizers.schedules.ExponentialDecay(0.5, 64, 0.75, staircase=False)
    ours = ref.schedule("exponential_decay", steps, 0.5, 64, 0.75)["learning_rate"]
    np.testing.assert_allclose(ours, np.asarray(plain(steps), dtype=np.float64), rtol=1e-6)
    # With an int initial rate Keras computes in integers (0.5 becomes 0); the reference does not.
    assert float(keras().optimizers.schedules.ExponentialDecay(1, 10, 0.5)(10)) == 0.0
    assert ref.schedule("exponential_decay", 10, 1, 10, 0.5)["learning_rate"] == 0.5


@pytest.mark.parametrize("unit", ["inverse_time_decay", "exponential_decay"])
def test_schedule_arguments_are_checked(solution, unit):
    with pytest.raises(ValueError, match="decay_steps"):
        solution[unit](3, 0.1, 0, 0.5)
    with pytest.raises(ValueError, match="step"):
        solution[unit](np.array([-1, 2]), 0.1, 10, 0.5)


def test_schedule_mistakes_are_named():
    case = next(c for c in ASSIGNMENT.cases if c.unit == "exponential_decay" and "staircase=True" in c.name)
    inputs = case.make_inputs(None)
    ignored = 0.1 * 0.96 ** (inputs["step"] / 100)  # staircase ignored
    reply = {"status": "ok", "value": ignored, "mutated": []}
    verdict = judge(case, inputs, lambda: case.reference(**inputs), reply)
    assert not verdict.passed and "staircase is ignored" in verdict.message


# ----------------------------------------------------------------------------- the references

@pytest.mark.parametrize("unit, config", [
    ("sgd_momentum", {"learning_rate": 0.5, "momentum": 0.875, "nesterov": True}),
    ("rmsprop", {"learning_rate": 0.5, "rho": 0.75, "epsilon": 1e-3}),
    ("adadelta", {"learning_rate": 0.5, "rho": 0.875, "epsilon": 1e-3}),
    ("adam", {"learning_rate": 0.5, "beta_1": 0.75, "beta_2": 0.875, "epsilon": 1e-3}),
])
def test_reference_equals_plain_keras_for_float32_exact_values(unit, config):
    """The reference's float64 care changes nothing where Keras's float32 passage is exact."""
    rng = np.random.default_rng(0)
    w, dws = rng.normal(size=(3, 4)), rng.normal(size=(10, 3, 4))
    ours = ref.optimizer_steps(unit, w, dws, config)["result"]
    plain = ref.optimizer_steps(unit, w, dws, config, exact=False)["result"]
    np.testing.assert_array_equal(ours["weights"], plain["weights"])


def test_plain_keras_defaults_pass_through_float32():
    """Why the reference gives Keras float64 values: with Python floats, beta_1 = 0.9 is 0.8999999762."""
    rng = np.random.default_rng(0)
    w, dws = rng.normal(size=(3, 4)), rng.normal(size=(10, 3, 4))
    ours = ref.optimizer_steps("adam", w, dws, {})["result"]["weights"]
    plain = ref.optimizer_steps("adam", w, dws, {}, exact=False)["result"]["weights"]
    relative = np.max(np.abs(ours - plain) / np.abs(ours - w))
    assert 1e-8 < relative < 1e-4


def test_reference_reports_every_slot():
    rng = np.random.default_rng(0)
    w, dws = rng.normal(size=(2,)), rng.normal(size=(3, 2))
    expected_keys = {"sgd": set(), "sgd_momentum": {"velocity"}, "rmsprop": {"velocity"},
                     "adadelta": {"accumulated_grad", "accumulated_delta_var"}, "adam": {"m", "v", "t"}}
    for unit, keys in expected_keys.items():
        result = ref.optimizer_steps(unit, w, dws, {})["result"]
        assert result["weights"].shape == (3, 2)
        assert [set(config) for config in result["configs"]] == [keys] * 3
    assert [int(config["t"]) for config in ref.optimizer_steps("adam", w, dws, {})["result"]["configs"]] == [1, 2, 3]


# ----------------------------------------------------------------------------- the solution

def _random_config(unit, rng):
    config = {"learning_rate": float(rng.choice([0.001, 0.1, 0.7]))}
    if unit == "sgd_momentum":
        config.update(momentum=float(rng.uniform(0, 0.99)), nesterov=bool(rng.integers(2)))
    if unit in ("rmsprop", "adadelta"):
        config.update(rho=float(rng.uniform(0.5, 0.99)), epsilon=float(rng.choice([1e-7, 1e-3])))
    if unit == "adam":
        config.update(beta_1=float(rng.uniform(0, 0.95)), beta_2=float(rng.uniform(0.5, 0.9999)),
                      epsilon=float(rng.choice([1e-7, 1e-3])))
    return config


@pytest.mark.parametrize("unit", OPTIMIZERS)
def test_solution_matches_keras_weights_and_slots(solution, unit):
    rng = np.random.default_rng(sum(map(ord, unit)))
    for config in [{}, _random_config(unit, rng), _random_config(unit, rng)]:
        w = rng.normal(size=(3, 4))
        dws = rng.normal(size=(16, 3, 4)) * 10.0 ** rng.uniform(-3, 1, size=(3, 4))
        expected = ref.optimizer_steps(unit, w, dws, config)["result"]
        received = _run_solution(solution, unit, w, dws, config)
        np.testing.assert_allclose(received["weights"], expected["weights"], rtol=1e-12, atol=1e-15)
        for got, want in zip(received["configs"], expected["configs"]):
            for key, value in want.items():
                np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-15, err_msg=f"{unit} {config} {key}")


@pytest.mark.parametrize("unit", OPTIMIZERS)
def test_optimizers_change_nothing_in_place(solution, unit):
    rng = np.random.default_rng(1)
    w, dw = rng.normal(size=(4,)), rng.normal(size=(4,))
    config = {"learning_rate": 0.1}
    w_copy, dw_copy = w.copy(), dw.copy()
    _, state = solution[unit](w, dw, config)
    assert config == {"learning_rate": 0.1}
    snapshot = {key: np.copy(value) for key, value in state.items()}
    solution[unit](w, dw, state)
    assert np.array_equal(w, w_copy) and np.array_equal(dw, dw_copy)
    for key, value in snapshot.items():
        assert np.array_equal(state[key], value), f"{unit} changed config[{key!r}] in place"


@pytest.mark.parametrize("config, word", [({"learning_rate": 0.0}, "learning_rate"), ({"momentum": 1.0}, "momentum"),
                                          ({"nesterov": "yes"}, "nesterov"),
                                          ({"learning_rate": "0.1"}, "learning_rate")])
def test_bad_hyperparameters_raise_value_error(solution, config, word):
    with pytest.raises(ValueError, match=word):
        solution["sgd_momentum"](np.zeros(2), np.ones(2), config)


# ----------------------------------------------------------------------------- textbook variants, written here

def textbook_adam(w, dws, lr, b1, b2, eps):
    m, v, out = np.zeros_like(w), np.zeros_like(w), []
    for t, g in enumerate(dws, start=1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        out.append((w, {"m": m, "v": v, "t": t}))
    return out


def textbook_rmsprop(w, dws, lr, rho, eps):
    v, out = np.zeros_like(w), []
    for g in dws:
        v = rho * v + (1 - rho) * g * g
        w = w - lr * g / (np.sqrt(v) + eps)
        out.append((w, {"velocity": v}))
    return out


def pytorch_nesterov(w, dws, lr, mu):
    buf, out = np.zeros_like(w), []
    for g in dws:
        buf = mu * buf + g
        w = w - lr * (g + mu * buf)
        out.append((w, {"velocity": buf}))
    return out


def uncorrected_adam(w, dws, lr, b1, b2, eps):
    m, v, out = np.zeros_like(w), np.zeros_like(w), []
    for t, g in enumerate(dws, start=1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        w = w - lr * m / (np.sqrt(v) + eps)
        out.append((w, {"m": m, "v": v, "t": t}))
    return out


def _case(unit, fragment):
    return next(c for c in ASSIGNMENT.cases if c.unit == unit and fragment in c.name and not c.hidden)


@pytest.mark.parametrize("unit, fragment, variant, words", [
    ("adam", "epsilon 1e-3", lambda i, h: textbook_adam(i["w"], i["dws"], h["learning_rate"], h["beta_1"], h["beta_2"],
                                                        h["epsilon"]), "textbook Adam"),
    ("adam", "defaults", lambda i, h: textbook_adam(i["w"], i["dws"], 0.001, 0.9, 0.999, 1e-7), "textbook Adam"),
    ("adam", "epsilon 1e-3", lambda i, h: uncorrected_adam(i["w"], i["dws"], h["learning_rate"], h["beta_1"],
                                                           h["beta_2"], h["epsilon"]), "bias correction is missing"),
    ("rmsprop", "epsilon 1e-3", lambda i, h: textbook_rmsprop(i["w"], i["dws"], h["learning_rate"], h["rho"],
                                                              h["epsilon"]), "epsilon outside the square root"),
    ("sgd_momentum", "0.875, nesterov=True", lambda i, h: pytorch_nesterov(i["w"], i["dws"], h["learning_rate"],
                                                                            h["momentum"]), "PyTorch-style"),
])
def test_textbook_variants_fail_with_the_variant_named(unit, fragment, variant, words):
    case = _case(unit, fragment)
    inputs = case.make_inputs(None)
    hyper = {**ref.OPTIMIZERS[unit][1], **inputs["config"]}
    steps = variant(inputs, hyper)
    reply = {"status": "ok", "mutated": [],
             "value": {"weights": np.stack([w for w, _ in steps]), "configs": [c for _, c in steps]}}
    verdict = judge(case, inputs, lambda: case.reference(**inputs), reply)
    assert not verdict.passed
    assert words in verdict.message and "This matches a known variant" in verdict.message, verdict.message


def test_hidden_cases_step_at_least_ten_times():
    for case in ASSIGNMENT.cases:
        if case.driver.name == "steps":
            assert len(case.make_inputs(TEST_SECRET if case.hidden else None)["dws"]) >= 10


# ----------------------------------------------------------------------------- bad arguments (issue 28's audit)

REJECTIONS = "a negative step or decay_steps of 0 or below is rejected, others accepted"


def _public_verdicts(namespace, unit, source=""):
    """``unit``'s public verdicts by case name, run as ``check()`` runs them, with ``source`` executed over ``namespace``."""
    changed = dict(namespace)
    exec(compile(source, "cell 99", "exec"), changed)
    runner = CaseRunner(in_process(changed), lambda case, inputs: case.reference(**inputs))
    return {case.name: runner.verdict(case) for case in ASSIGNMENT.public_cases() if case.unit == unit}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # decay_steps = 0 divides by zero in the unchecked schedule
@pytest.mark.parametrize("unit", ["inverse_time_decay", "exponential_decay"])
def test_schedules_reject_bad_arguments_and_accept_decay_steps_one(solution, unit):
    assert _public_verdicts(solution, unit)[REJECTIONS].passed
    unchecked = (f"import numpy as np\ndef {unit}(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):\n"
                 "    return initial_learning_rate / (1.0 + decay_rate * np.asarray(step, dtype=float) / decay_steps)\n")
    verdict = _public_verdicts(solution, unit, unchecked)[REJECTIONS]
    assert not verdict.passed and re.search("was accepted; raise ValueError when (step|decay_steps) is invalid",
                                            verdict.message), verdict.message
    too_strict = (f"_checked = {unit}\ndef {unit}(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):\n"
                  "    if decay_steps <= 1:\n        raise ValueError(f'Expected decay_steps > 1. Received {decay_steps}.')\n"
                  "    return _checked(step, initial_learning_rate, decay_steps, decay_rate, staircase)\n")
    verdict = _public_verdicts(solution, unit, too_strict)[REJECTIONS]
    assert not verdict.passed and "decay_steps=1) raised ValueError" in verdict.message, verdict.message
    assert "these arguments are valid" in verdict.message
