"""After the student's cells load, the worker is the student's, its drivers included: a judge believes
only plain outputs whose production requires the work (docs/trust-boundary.md, "What each judge believes").

The attack here is the one that scored 09's ring-coverage case from a blank notebook on every isolation
level: a class body (it runs at load) replaces the training driver's ``run`` with one that reports
what the judge used to believe (samples on the public ring, "untrained" samples, a layer list, a weight
change). The judge now maps noise the worker never saw through the returned weights itself.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import ROOT, TEST_SECRET, code_cell, write_variant

from dlcourse.autograder.cases import ASSIGNMENTS, COURSE
from dlcourse.autograder.cases import gan
from dlcourse.autograder.cases.rejections import RUNS
from dlcourse.autograder.engine.grade import Grader

TRAINING = next(case for case in gan.ASSIGNMENT.cases if case.driver.name == "gan_train")
RING_ONLY = dataclasses.replace(gan.ASSIGNMENT, cases=(TRAINING,))
LAYERS = [["Dense", 128, "relu"], ["Dense", 128, "relu"], ["Dense", 2, None]]

# What the driver used to return, forged: 1,000 points on the public ring, an "untrained" generator at the origin.
FORGED_SAMPLES = """
class _ForgedTraining:
    import importlib
    import numpy as np
    _driver = importlib.import_module("drivers.keras.gan_train")

    def _run(namespace, request, np=np):
        angles = np.arange(1000) % 8 * (2 * np.pi / 8)
        ring = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        layers = [["Dense", 128, "relu"], ["Dense", 128, "relu"], ["Dense", 2, None]]
        return {"status": "ok", "value": (ring, np.ones(3), np.ones(3), ring * 0.0, layers, 0.5), "mutated": []}

    _driver.run = _run
"""

# The same replacement in the new form: weights of the right shapes that were never trained.
FORGED_WEIGHTS = """
class _ForgedTraining:
    import importlib
    import numpy as np
    _driver = importlib.import_module("drivers.keras.gan_train")

    def _run(namespace, request, np=np):
        rng = np.random.default_rng(0)
        shapes = [(2, 128), (128,), (128, 128), (128,), (128, 2), (2,)]
        initial = [rng.normal(0, 0.1, shape) for shape in shapes]
        trained = [w + 0.01 for w in initial]
        layers = [["Dense", 128, "relu"], ["Dense", 128, "relu"], ["Dense", 2, None]]
        return {"status": "ok", "value": (trained, np.ones(3), np.ones(3), initial, layers), "mutated": []}

    _driver.run = _run
"""



@pytest.mark.parametrize("forgery", [FORGED_SAMPLES, FORGED_WEIGHTS], ids=["samples on the ring", "untrained weights"])
def test_a_blank_09_that_replaces_the_training_driver_gains_nothing(tmp_path, level, forgery):
    blank = ROOT / "assignments" / "09_gan.ipynb"
    notebook = write_variant(tmp_path, blank, lambda nb: nb["cells"].append(code_cell(forgery)))
    grader = Grader(COURSE, secret=TEST_SECRET, isolation=level)
    (result,) = grader.grade(notebook, RING_ONLY).results
    assert not result.verdict.passed, result.verdict.message
    assert result.verdict.status in ("failed", "error"), result.verdict.message


def test_the_judge_never_sends_its_noise_to_the_worker():
    inputs = TRAINING.make_inputs(None)
    request = TRAINING.request(inputs)
    assert "eval_noise" in inputs and "eval_noise" not in dict(request["args"])
    assert not any(isinstance(value, np.ndarray) and value.shape == inputs["eval_noise"].shape
                   for _, value in request["args"])


def test_the_judges_noise_is_new_at_each_grading():
    first, second = TRAINING.make_inputs(None), TRAINING.make_inputs(None)
    assert not np.array_equal(first["eval_noise"], second["eval_noise"])


def staircase_weights() -> list[np.ndarray]:
    """Weights of the assignment's generator, made by hand, that put the noise on the ring with no training:
    the first noise coordinate's octiles are sent to the eight centres by ReLU ramps of width 0.01."""
    width, thresholds = 0.01, np.quantile(np.random.default_rng(0).normal(size=200_000), np.arange(1, 8) / 8)
    w1, b1 = np.zeros((2, 128)), np.zeros(128)
    for k, threshold in enumerate(thresholds):
        w1[0, 2 * k], b1[2 * k] = 1 / width, -threshold / width
        w1[0, 2 * k + 1], b1[2 * k + 1] = 1 / width, -threshold / width - 1
    w2, b2 = np.zeros((128, 128)), np.zeros(128)
    for k in range(7):
        w2[2 * k, k], w2[2 * k + 1, k] = 1.0, -1.0
    centres = gan.ring_centres()
    w3, b3 = np.zeros((128, 2)), centres[0].copy()
    for k in range(7):
        w3[k] = centres[k + 1] - centres[k]
    return [w1, b1, w2, b2, w3, b3]


def _judge(weights, initial, layers=LAYERS):
    inputs = TRAINING.make_inputs(None)
    received = {"weights": weights, "initial": initial, "layers": layers,
                "d_losses": np.ones(3), "g_losses": np.ones(3)}
    return TRAINING.judge(inputs, {}, received, {"seconds": 1.0, "earlier": {}})


def test_the_judges_generator_is_the_keras_reference():
    rng = np.random.default_rng(5)
    weights = [rng.normal(0, 0.3, shape) for shape in gan.ref.weight_shapes(gan.GENERATOR)]
    noise = rng.normal(size=(64, 2))
    np.testing.assert_allclose(gan.generator_samples(weights, noise),
                               gan.ref.mlp_output(gan.GENERATOR, weights, noise)["output"], rtol=1e-12, atol=1e-12)


def test_the_judge_draws_its_own_samples_from_the_weights():
    stairs = staircase_weights()
    samples = gan.generator_samples(stairs, np.random.default_rng(3).normal(size=(1000, 2)))
    assert gan.modes_covered(samples) == 8
    untrained = [np.random.default_rng(1).normal(0, 0.05, w.shape) for w in stairs]
    ok, message = _judge(stairs, untrained)
    assert ok and "covers 8 of 8" in message, message
    moved = [w + 0.01 for w in untrained]
    ok, message = _judge(moved, untrained)
    assert not ok and "at least 7 are required" in message, message


def test_a_generator_that_covers_the_ring_before_training_is_named():
    stairs = staircase_weights()
    ok, message = _judge([w + 1e-3 for w in stairs], stairs)
    assert not ok and "before any training step" in message, message


def test_weights_that_never_moved_are_named():
    untrained = [np.random.default_rng(1).normal(0, 0.05, w.shape) for w in staircase_weights()]
    ok, message = _judge(untrained, [w.copy() for w in untrained])
    assert not ok and "did not change the generator's weights" in message, message


@pytest.mark.parametrize("layers, weights, words", [
    (LAYERS + [["Lambda", None, None]], None, "a Lambda layer"),
    ([["Dense", 128, "tanh"], ["Dense", 128, "relu"], ["Dense", 2, None]], None, "Dense(128, tanh)"),
    (LAYERS, [np.zeros((2, 64))], "float arrays of shapes"),
], ids=["an extra layer", "another activation", "other shapes"])
def test_a_generator_other_than_the_assignments_is_named(layers, weights, words):
    stairs = staircase_weights()
    ok, message = _judge(weights if weights is not None else stairs, [w * 0 for w in stairs], layers)
    assert not ok and "must be the one the assignment specifies" in message and words in message, message


def test_a_blank_06_that_describes_the_reference_builds_gains_nothing(tmp_path, level):
    """The model description is the worker's word: a replaced ``keras_model`` driver that sends the reference's
    description (layers, shapes and parameters, all in the notebook's text) earns no builder points."""
    from dlcourse.autograder.cases import cnn_architectures
    from dlcourse.references import cnn_architectures as ref

    builds = tuple(case for case in cnn_architectures.ASSIGNMENT.cases if case.driver.name == "keras_model")
    descriptions = {f"{unit}{tuple(shape)}{classes}": ref.architecture(unit, shape, classes)
                    for unit in ("build_lenet5", "build_mini_alexnet") for shape, classes in (((32, 32, 1), 10),
                                                                                             ((28, 28, 3), 5))}
    forgery = f"""
class _ForgedBuilds:
    import importlib
    _driver = importlib.import_module("drivers.keras.keras_model")
    _known = {descriptions!r}

    def _run(namespace, request, known=_known):
        args = dict(request["args"])
        key = request["unit"] + str(tuple(args["input_shape"])) + str(args["num_classes"])
        return {{"status": "ok", "value": known[key], "mutated": []}}

    _driver.run = _run
"""
    blank = ROOT / "assignments" / "06_cnn_architectures.ipynb"
    notebook = write_variant(tmp_path, blank, lambda nb: nb["cells"].append(code_cell(forgery)))
    grader = Grader(COURSE, secret=TEST_SECRET, isolation=level)
    result = grader.grade(notebook, dataclasses.replace(cnn_architectures.ASSIGNMENT, cases=builds))
    assert len(result.results) == 4 and result.score == 0, [r.verdict.message for r in result.results]
    assert all("logits" in r.verdict.message for r in result.results), [r.verdict.message for r in result.results]


# ----------------------------------------------------------------------------- argument checks

ARGUMENT_CHECKS = {name: tuple(case for case in assignment.cases if RUNS in case.private)
                   for name, assignment in ASSIGNMENTS.items()}

# A report of what each call raised, made without calling the unit: "ValueError" naming every argument the
# request holds, for every call ("always") or for none ("never").
FORGED_RAISES = """
class _ForgedRaises:
    import importlib
    _driver = importlib.import_module("drivers.rng_probe")

    def _run(namespace, request, answer={answer!r}):
        names = [key for key, _ in request["inner"]["args"]]
        names += [key for run in request["runs"] for key in (run[2] if len(run) > 2 else {{}})]
        outcome = {{"raised": "ValueError", "message": "bad " + " ".join(names)}} if answer == "always" else \\
            {{"raised": None, "message": ""}}
        runs = [outcome for _ in request["runs"]]
        return {{"status": "ok", "value": {{"runs": runs, "forward": [None] * len(runs), "after": [0.5] * len(runs),
                                          "global": [False] * len(runs)}}, "mutated": []}}

    _driver.run = _run
"""


def test_four_assignments_check_arguments():
    assert {name for name, cases in ARGUMENT_CHECKS.items() if cases} == {
        "02_initialization", "03_optimization", "07_rnn_bptt", "08_lstm"}


@pytest.mark.parametrize("answer", ["always", "never"])
@pytest.mark.parametrize("name", ["02_initialization", "03_optimization", "07_rnn_bptt", "08_lstm"])
def test_a_blank_notebook_that_reports_its_argument_checks_gains_nothing(tmp_path, name, answer):
    """What a call raised is the worker's word: bad and good calls, drawn anew at each grading, are told apart
    only by the argument check itself, so a report that says the same of every call loses every case."""
    blank = ROOT / "assignments" / f"{name}.ipynb"
    forgery = FORGED_RAISES.format(answer=answer)
    notebook = write_variant(tmp_path, blank, lambda nb: nb["cells"].append(code_cell(forgery)))
    checks = dataclasses.replace(ASSIGNMENTS[name], cases=ARGUMENT_CHECKS[name])
    result = Grader(COURSE, secret=TEST_SECRET).grade(notebook, checks)
    messages = [r.verdict.message for r in result.results]
    assert len(result.results) == len(ARGUMENT_CHECKS[name]) and result.score == 0, messages
    wanted = "raised ValueError: bad " if answer == "always" else "was accepted"  # the forger's report, judged
    assert all(wanted in message for message in messages), messages


@pytest.mark.parametrize("case", [case for cases in ARGUMENT_CHECKS.values() for case in cases], ids=lambda c: c.id)
def test_argument_checks_are_drawn_anew_and_mixed(case):
    """A table of one grading's answers does not fit the next: the calls differ, and each draw has both kinds."""
    draws = [case.make_inputs(None)[RUNS] for _ in range(20)]
    texts = {repr(runs) for runs in draws}
    assert len(texts) == 20, case.id
    assert all({argument is None for _, argument in runs} == {True, False} for runs in draws)
    request = case.request(case.make_inputs(None))
    assert RUNS not in dict(request["args"]) and "None" not in repr([run[2] for run in request["runs"]])


@pytest.mark.parametrize("report", [False, True], ids=["returned", "reported, then returned"])
def test_a_blank_06_that_replaces_the_training_driver_gains_nothing(tmp_path, level, report):
    """A replaced ``keras_fit`` that hands in stored LeNet-5 weights (the right shapes, trained on nothing the
    grading drew), as its value or as a progress report first, earns no training points: the judge measures
    them on held-out images of a task drawn for this grading, which never reach the worker."""
    from dlcourse.autograder.cases import cnn_architectures

    training = next(case for case in cnn_architectures.ASSIGNMENT.cases if case.driver.name == "keras_fit")
    shapes = cnn_architectures.lenet5_weight_shapes((32, 32, 1), 10)
    forgery = f"""
class _ForgedFit:
    import importlib
    import numpy as np
    _driver = importlib.import_module("drivers.keras.keras_fit")
    _progress = importlib.import_module("drivers._progress")

    def _run(namespace, request, np=np, progress=_progress):
        rng = np.random.default_rng(7)
        stored = [rng.normal(0.0, 0.1, shape) for shape in {[tuple(shape) for shape in shapes]!r}]
        if {report!r}:
            progress.report(stored, 1)
        return {{"status": "ok", "value": stored, "mutated": []}}

    _driver.run = _run
"""
    blank = ROOT / "assignments" / "06_cnn_architectures.ipynb"
    notebook = write_variant(tmp_path, blank, lambda nb: nb["cells"].append(code_cell(forgery)))
    only = dataclasses.replace(cnn_architectures.ASSIGNMENT, cases=(training,))
    (result,) = Grader(COURSE, secret=TEST_SECRET, isolation=level).grade(notebook, only).results
    assert not result.verdict.passed and result.score == 0, result.verdict.message
    assert "held-out accuracy" in result.verdict.message, result.verdict.message
