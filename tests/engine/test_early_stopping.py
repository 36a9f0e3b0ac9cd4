"""Training cases stop once the bar is reached, and what the unit returns is still what is graded.

06's ``train_lenet5`` reports its weights after each epoch ("keras_fit") and 09's ring training its
samples every 100 steps ("gan_train"); the grader judges each report as it would the final value
and tells the unit to stop at the first that passes (``drivers/_progress.py``). Real Keras training,
in-process (a student's check) and in the sandbox (the grader).
"""

from __future__ import annotations

import dataclasses

import numpy as np

import pytest

from dlcourse.autograder.cases import cnn_architectures, gan
from dlcourse.autograder.engine.runner import CaseRunner, in_process
from conftest import (SOLUTIONS, code_cell, lenet_training_drawn_from, ring_training_drawn_from,
                      solution_namespace, write_variant)

TRAIN_LENET5 = lenet_training_drawn_from(3)  # a draw the recipe reaches (a fresh one failed once in CI)
RING = ring_training_drawn_from(9)  # a draw the solution covers (a fresh draw fails 1 time in 50)


def trainer(epochs: int, learning_rate: float, returned: str = "model.get_weights()") -> str:
    """A train_lenet5 that fits for ``epochs`` and records in EPOCHS_RUN how many epochs ``fit`` ran."""
    return f"""
EPOCHS_RUN = []


def train_lenet5(x, y, seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    model = build_lenet5(x.shape[1:], 10)
    model.compile(optimizer=keras.optimizers.Adam({learning_rate}),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    fitted = model.fit(x, y, batch_size=32, epochs={epochs}, verbose=0)
    EPOCHS_RUN.append(len(fitted.history["loss"]))
    return {returned}
"""


def in_process_verdict(source: str, case=TRAIN_LENET5, name="06_cnn_architectures"):
    namespace = dict(solution_namespace(name))
    exec(compile(source, "cell 99", "exec"), namespace)  # the test's own trainer
    runner = CaseRunner(in_process(namespace), lambda case, inputs: case.reference(**inputs))
    return runner.verdict(case), namespace


def test_a_trainer_that_reaches_the_bar_stops_early_and_passes():
    verdict, namespace = in_process_verdict(trainer(epochs=30, learning_rate=1e-3))
    assert verdict.passed, verdict.message
    (ran,) = namespace["EPOCHS_RUN"]
    assert ran < 30, "fit should have stopped once the held-out bar was reached"
    assert f"training stopped after epoch {ran}, the first whose weights reached the bar" in verdict.message


def test_a_trainer_that_never_reaches_the_bar_runs_every_epoch_and_fails_clearly():
    verdict, namespace = in_process_verdict(trainer(epochs=2, learning_rate=0.0))
    assert not verdict.passed and verdict.status == "failed"
    assert namespace["EPOCHS_RUN"] == [2]
    assert "below the required 0.97 on the ten symbols drawn for this grading (train longer, or tune the learning " \
           "rate" in verdict.message, verdict.message
    assert "stopped" not in verdict.message


def test_what_the_unit_returns_is_graded_even_when_its_training_reached_the_bar():
    untrained = "build_lenet5(x.shape[1:], 10).get_weights()"
    verdict, namespace = in_process_verdict(trainer(epochs=30, learning_rate=1e-3, returned=untrained))
    assert namespace["EPOCHS_RUN"][0] < 30  # the fitted model reached the bar ...
    assert not verdict.passed and "below the required" in verdict.message  # ... but what it returned does not


def test_reports_beyond_the_case_budget_are_not_judged():
    capped = dataclasses.replace(TRAIN_LENET5, driver=dataclasses.replace(TRAIN_LENET5.driver, progress=1))
    # a slow learning rate keeps epoch 1 below the bar on any drawn task; epochs 2 to 6 are not judged
    verdict, namespace = in_process_verdict(trainer(epochs=6, learning_rate=1e-4), case=capped)
    assert namespace["EPOCHS_RUN"] == [6]
    assert "held-out accuracy" in verdict.message and "stopped" not in verdict.message, verdict.message


def test_ring_training_stops_at_the_first_check_that_covers_the_ring():
    verdict, _ = in_process_verdict("", case=RING, name="09_gan")
    assert verdict.passed, verdict.message
    assert "Training stopped after step" in verdict.message and f"of {gan.TRAIN_STEPS}" in verdict.message


@pytest.mark.slow
@pytest.mark.parametrize("returned, passes", [("model.get_weights()", True),
                                              ("build_lenet5(x.shape[1:], 10).get_weights()", False)])
def test_in_the_sandbox_training_stops_early_and_the_returned_weights_are_graded(grader, tmp_path, returned, passes):
    notebook = write_variant(tmp_path, SOLUTIONS / "06_cnn_architectures.ipynb",
                             lambda nb: nb["cells"].append(code_cell(trainer(30, 1e-3, returned))))
    assignment = dataclasses.replace(cnn_architectures.ASSIGNMENT, cases=(TRAIN_LENET5,))
    (result,) = grader.grade(notebook, assignment).results
    assert result.verdict.passed == passes, result.verdict.message
    if passes:
        assert "training stopped after epoch" in result.verdict.message
    else:
        assert "below the required" in result.verdict.message


def _variables_made_inside_a_trace(run):
    """``run()``'s value, and how many variables were created while TensorFlow traced a function."""
    import tensorflow as tf

    inside = []

    def creator(next_creator, **options):
        inside.append(tf.inside_function())
        return next_creator(**options)

    with tf.variable_creator_scope(creator):
        value = run()
    return value, sum(inside)


def test_fit_builds_the_optimizer_before_its_first_trace_and_trains_bit_for_bit_as_keras_alone():
    """Variables made inside the first trace make TensorFlow trace the step twice; the driver builds them first."""
    from dlcourse.autograder.engine.sandboxed import wire, worker

    namespace = dict(solution_namespace("06_cnn_architectures"))
    inputs = TRAIN_LENET5.make_inputs(None)
    inputs["x"], inputs["y"] = inputs["x"][:96], inputs["y"][:96]  # 3 steps an epoch, the solution's 12 epochs
    alone, traced_alone = _variables_made_inside_a_trace(lambda: namespace["train_lenet5"](inputs["x"], inputs["y"]))
    request = wire.decode(wire.encode(TRAIN_LENET5.request(inputs)))
    reply, traced_driven = _variables_made_inside_a_trace(lambda: worker.run_case(namespace, request))
    assert reply["status"] == "ok", reply
    assert traced_alone > 0 and traced_driven == 0, (traced_alone, traced_driven)
    assert all(np.array_equal(ours, theirs) for ours, theirs in zip(reply["value"], alone, strict=True))
