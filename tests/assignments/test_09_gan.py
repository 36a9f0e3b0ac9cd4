"""Assignment 09 (gan): the grader catches and names the mistakes it promises to, against the real references.

Most tests run a case the way ``check()`` does (the worker's driver in this process, replies through
the plain-data wire, the grader's judge), on the solution with one unit replaced by a wrong one.
The end-to-end coverage test runs in the sandbox and is marked slow.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dlcourse.autograder.cases import gan
from dlcourse.autograder.engine.sandboxed import wire, worker
from dlcourse.autograder.engine.compare import judge
from conftest import SOLUTIONS, code_cell, ring_training_drawn_from, solution_namespace, write_variant
from dlcourse.references import gan as ref

(TRAINING,) = [case for case in gan.ASSIGNMENT.cases if case.driver.name == "gan_train"]


def cases_of(unit, *, hidden=False, training=False):
    return [case for case in gan.ASSIGNMENT.cases if case.unit == unit and (hidden or not case.hidden)
            and (training or case.driver.name != "gan_train")]


def case_named(unit, start):
    (case,) = [case for case in gan.ASSIGNMENT.cases if case.unit == unit and case.name.startswith(start)]
    return case


@pytest.fixture(scope="module")
def solution():
    return solution_namespace("09_gan")


@pytest.fixture(scope="module")
def run(reference_cache):
    def run_case(namespace, case, secret=None):
        inputs = case.make_inputs(secret)
        request = wire.decode(wire.encode(case.request(inputs)))
        reply = wire.decode(wire.encode(worker.run_case(namespace, request)))
        return judge(case, inputs, lambda: reference_cache.expected(case, inputs), reply)
    return run_case


def variant(namespace, source):
    """The solution's namespace with some units redefined by ``source``."""
    changed = dict(namespace)
    exec(compile(source, "cell 99", "exec"), changed)  # the test's own wrong answers
    return changed


# ----------------------------------------------------------------------------- the notebook and the grader agree

def test_notebook_defines_coverage_and_settings_as_the_grader(solution):
    for name in ("RING_MODES", "RING_RADIUS", "RING_STD", "ON_MODE_RADIUS", "LATENT_DIM", "HIDDEN_UNITS", "DATA_DIM"):
        assert solution[name] == getattr(gan, name), name
    assert (solution["TRAIN_STEPS"], solution["BATCH_SIZE"]) == (gan.TRAIN_STEPS, gan.BATCH_SIZE)
    assert gan.TRAIN_OPTIMIZER == {"class": "Adam", "learning_rate": solution["LEARNING_RATE"],
                                   "beta_1": solution["BETA_1"]}
    np.testing.assert_array_equal(solution["sample_ring"](500, np.random.default_rng(3)),
                                  gan.sample_ring(500, np.random.default_rng(3)))
    rng = np.random.default_rng(4)
    for samples in (gan.sample_ring(1000, rng), rng.normal(0, 2, (1000, 2)), rng.normal(0, 0.1, (1000, 2)) + [2, 0]):
        np.testing.assert_array_equal(solution["mode_counts"](samples), gan.mode_counts(samples))
        assert solution["modes_covered"](samples) == gan.modes_covered(samples)

# ----------------------------------------------------------------------------- losses

def test_solution_losses_pass_hidden_cases_for_several_secrets(solution, run):
    for unit in ("discriminator_loss", "generator_loss"):
        for secret in ("a", "b", "c"):
            for case in cases_of(unit, hidden=True):
                verdict = run(solution, case, secret)
                assert verdict.passed, verdict.message


MODERATE = {"discriminator_loss": "8 real and 5 generated", "generator_loss": "8 moderate"}

NAIVE_LOSSES = """
def discriminator_loss(logits_real, logits_fake):
    return -keras.ops.mean(keras.ops.log(keras.ops.sigmoid(logits_real))) - keras.ops.mean(
        keras.ops.log(1 - keras.ops.sigmoid(logits_fake)))


def generator_loss(logits_fake):
    return -keras.ops.mean(keras.ops.log(keras.ops.sigmoid(logits_fake)))
"""


def test_log_of_sigmoid_passes_moderate_logits_and_fails_at_100_without_crashing(solution, run):
    naive = variant(solution, NAIVE_LOSSES)
    for unit in ("discriminator_loss", "generator_loss"):
        assert run(naive, case_named(unit, MODERATE[unit])).passed
        verdict = run(naive, case_named(unit, "logits of +-100"))
        assert not verdict.passed and verdict.status == "failed"
        assert "from_logits=True" in verdict.message
    assert "contains inf" in run(naive, case_named("discriminator_loss", "logits of +-100")).message


@pytest.mark.parametrize("source, unit, named", [
    ("def generator_loss(logits_fake):\n"
     "    return -keras.losses.BinaryCrossentropy(from_logits=True)(keras.ops.zeros_like(logits_fake), logits_fake)",
     "generator_loss", "saturating loss"),
    ("def generator_loss(logits_fake):\n"
     "    return keras.losses.BinaryCrossentropy(from_logits=True)(keras.ops.zeros_like(logits_fake), logits_fake)",
     "generator_loss", "label 0"),
    ("def generator_loss(logits_fake):\n"
     "    probabilities = 1 / (1 + keras.ops.exp(-logits_fake))\n"
     "    return keras.losses.BinaryCrossentropy()(keras.ops.ones_like(logits_fake), probabilities)",
     "generator_loss", "from_logits=False"),
    ("def discriminator_loss(logits_real, logits_fake):\n"
     "    bce = keras.losses.BinaryCrossentropy(from_logits=True)\n"
     "    return (bce(keras.ops.zeros_like(logits_real), logits_real)\n"
     "            + bce(keras.ops.ones_like(logits_fake), logits_fake))",
     "discriminator_loss", "labels are swapped"),
    ("def discriminator_loss(logits_real, logits_fake):\n"
     "    logits = keras.ops.concatenate([logits_real, logits_fake])\n"
     "    labels = keras.ops.concatenate([keras.ops.ones_like(logits_real), keras.ops.zeros_like(logits_fake)])\n"
     "    return keras.losses.BinaryCrossentropy(from_logits=True)(labels, logits)",
     "discriminator_loss", "one cross-entropy over the concatenated"),
    ("def discriminator_loss(logits_real, logits_fake):\n"
     "    logits = keras.ops.concatenate([logits_real, logits_fake])\n"
     "    labels = keras.ops.concatenate([keras.ops.ones_like(logits_real), keras.ops.zeros_like(logits_fake)])\n"
     "    return 2 * keras.losses.BinaryCrossentropy(from_logits=True)(labels, logits)",
     "discriminator_loss", "twice one cross-entropy"),
    ("def discriminator_loss(logits_real, logits_fake):\n"
     "    bce = keras.losses.BinaryCrossentropy(from_logits=True)\n"
     "    return 0.5 * (bce(keras.ops.ones_like(logits_real), logits_real)\n"
     "                  + bce(keras.ops.zeros_like(logits_fake), logits_fake))",
     "discriminator_loss", "halves are averaged"),
    ("def discriminator_loss(logits_real, logits_fake):\n"
     "    bce = keras.losses.BinaryCrossentropy()\n"
     "    sigmoid = lambda z: 1 / (1 + keras.ops.exp(-z))\n"
     "    return (bce(keras.ops.ones_like(logits_real), sigmoid(logits_real))\n"
     "            + bce(keras.ops.zeros_like(logits_fake), sigmoid(logits_fake)))",
     "discriminator_loss", "from_logits=False"),
])
def test_loss_mistakes_are_named(solution, run, source, unit, named):
    case = case_named(unit, "logits of +-100" if "from_logits=False" in named else MODERATE[unit])
    verdict = run(variant(solution, source), case)
    assert not verdict.passed
    assert "known mistake" in verdict.message and named in verdict.message, verdict.message



@pytest.mark.parametrize("source, unit, kind", [
    ("def generator_loss(logits_fake):\n"
     "    bce = keras.losses.BinaryCrossentropy(from_logits=True)\n"
     "    return float(bce(keras.ops.ones_like(logits_fake), logits_fake))", "generator_loss", "Python float"),
    ("def discriminator_loss(logits_real, logits_fake):\n"
     "    bce = keras.losses.BinaryCrossentropy(from_logits=True)\n"
     "    return float(bce(keras.ops.ones_like(logits_real), logits_real)) + float(\n"
     "        bce(keras.ops.zeros_like(logits_fake), logits_fake))", "discriminator_loss", "Python float"),
    ("def generator_loss(logits_fake):\n"
     "    z = np.asarray(logits_fake, np.float64)\n"
     "    return np.mean(np.maximum(z, 0) - z + np.log1p(np.exp(-np.abs(z))))", "generator_loss", "NumPy float64"),
])
def test_a_loss_returned_as_a_number_fails_a_public_case(solution, run, source, unit, kind):
    """Right value, wrong type: it passes the value cases, and one public case tells it to return a tensor
    (train_step's GradientTape cannot differentiate a Python or NumPy number)."""
    wrong = variant(solution, source)
    assert run(wrong, case_named(unit, MODERATE[unit])).passed
    verdict = run(wrong, case_named(unit, "returns a tensor"))
    assert not verdict.passed and f"returned a {kind}" in verdict.message, verdict.message
    assert "return the loss as a tensor" in verdict.message and "keras.ops" in verdict.message
    assert run(solution, case_named(unit, "returns a tensor")).passed


# ----------------------------------------------------------------------------- the networks

def test_solution_builders_pass_hidden_cases_for_several_secrets(solution, run):
    for unit in ("build_generator", "build_discriminator"):
        for secret in ("a", "b"):
            for case in cases_of(unit, hidden=True):
                verdict = run(solution, case, secret)
                assert verdict.passed, verdict.message


@pytest.mark.parametrize("source, unit, expected", [
    ("def build_discriminator(data_dim, hidden_units):\n"
     "    return keras.Sequential([keras.Input((data_dim,)), keras.layers.Dense(hidden_units, activation='relu'),\n"
     "                             keras.layers.Dense(hidden_units, activation='relu'),\n"
     "                             keras.layers.Dense(1, activation='sigmoid')])",
     "build_discriminator", "goes through a sigmoid"),
    ("def build_generator(latent_dim, hidden_units, data_dim):\n"
     "    return keras.Sequential([keras.Input((latent_dim,)), keras.layers.Dense(hidden_units, activation='relu'),\n"
     "                             keras.layers.Dense(hidden_units, activation='relu'),\n"
     "                             keras.layers.Dense(data_dim, activation='tanh')])",
     "build_generator", "could never reach"),
    ("def build_generator(latent_dim, hidden_units, data_dim):\n"
     "    return keras.Sequential([keras.Input((latent_dim,)), keras.layers.Dense(hidden_units, activation='tanh'),\n"
     "                             keras.layers.Dense(hidden_units, activation='tanh'), keras.layers.Dense(data_dim)])",
     "build_generator", "hidden layers use tanh"),
])
def test_wrong_activations_are_named(solution, run, source, unit, expected):
    verdict = run(variant(solution, source), case_named(unit, "same weights"))
    assert not verdict.passed and expected in verdict.message, verdict.message


def test_a_missing_hidden_layer_is_reported_by_weight_shapes(solution, run):
    source = ("def build_generator(latent_dim, hidden_units, data_dim):\n"
              "    return keras.Sequential([keras.Input((latent_dim,)),\n"
              "                             keras.layers.Dense(hidden_units, activation='relu'),\n"
              "                             keras.layers.Dense(data_dim)])")
    verdict = run(variant(solution, source), case_named("build_generator", "architecture"))
    assert not verdict.passed and "weight shapes [[2, 128], [128], [128, 2], [2]]" in verdict.message


def test_builders_judges_credit_outputs_not_the_description(solution, run):
    """Every builder case predicts on weights drawn afresh at each grading: the same weight shapes with
    another function (or outputs kept from another grading) earn nothing."""
    for unit in ("build_generator", "build_discriminator"):
        for case in cases_of(unit, hidden=True):
            assert case.fresh and case.driver.name == "keras_model"
            inputs = case.make_inputs("a")
            expected = case.reference(**inputs)
            forged = {"model": {"weight_shapes": expected["weight_shapes"],
                                "output": case.reference(**case.make_inputs("a"))["output"]}}
            ok, message = case.judge(inputs, expected, forged, {})
            assert not ok and "output" in message, message


# ----------------------------------------------------------------------------- one training step

def test_solution_step_matches_the_reference_well_inside_the_tolerance(solution, run):
    for secret in ("a", "b", "c", "d"):
        verdict = run(solution, case_named("train_step", "random sizes"), secret)
        assert verdict.passed, verdict.message
    for case in cases_of("train_step"):
        assert run(solution, case).passed


def test_the_stated_tolerance_is_a_hundred_times_the_float32_error(solution):
    """Float32 Keras against the float64 reference: ~1e-7, against atol = rtol = 1e-5."""
    case = case_named("train_step", "one step, Adam")
    inputs = case.make_inputs(None)
    reply = worker.run_case(solution, case.request(inputs))
    d_loss, g_loss, generator, discriminator = reply["value"]
    expected = case.reference(**inputs)
    errors = [abs(d_loss - expected["d_loss"]), abs(g_loss - expected["g_loss"])]
    errors += [np.abs(a - b).max()
               for a, b in zip(generator + discriminator, expected["generator"] + expected["discriminator"])]
    assert max(errors) < gan.STEP_TOLERANCE["atol"] / 20


def test_reference_step_is_consistent_with_the_reference_losses():
    inputs = gan._step_inputs(2, 5, 8, gan.FROZEN, gan.FROZEN)(np.random.default_rng(0))
    step = gan._reference_step(inputs)
    for key, network in (("g_weights", "generator"), ("d_weights", "discriminator")):
        for before, after in zip(inputs[key].values(), step[network]):
            np.testing.assert_array_equal(before, after)
    g = ref.mlp_output(inputs["generator"], list(inputs["g_weights"].values()), inputs["noise"])["output"]
    logits_real = ref.mlp_output(inputs["discriminator"], list(inputs["d_weights"].values()), inputs["real"])["output"]
    logits_fake = ref.mlp_output(inputs["discriminator"], list(inputs["d_weights"].values()), g)["output"]
    np.testing.assert_allclose(step["d_loss"], ref.discriminator_loss(logits_real, logits_fake)["loss"], rtol=1e-12)
    np.testing.assert_allclose(step["g_loss"], ref.generator_loss(logits_fake)["loss"], rtol=1e-12)


D_MOVES_G = """
def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    variables = discriminator.trainable_variables + generator.trainable_variables
    with tf.GradientTape() as tape:
        d_loss = discriminator_loss(discriminator(real), discriminator(generator(noise)))
    d_optimizer.apply_gradients(zip(tape.gradient(d_loss, variables), variables))
    with tf.GradientTape() as tape:
        g_loss = generator_loss(discriminator(generator(noise)))
    grads = tape.gradient(g_loss, generator.trainable_variables)
    g_optimizer.apply_gradients(zip(grads, generator.trainable_variables))
    return d_loss, g_loss
"""

G_MOVES_D = """
def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as tape:
        d_loss = discriminator_loss(discriminator(real), discriminator(generator(noise)))
    grads = tape.gradient(d_loss, discriminator.trainable_variables)
    d_optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
    variables = generator.trainable_variables + discriminator.trainable_variables
    with tf.GradientTape() as tape:
        g_loss = generator_loss(discriminator(generator(noise)))
    g_optimizer.apply_gradients(zip(tape.gradient(g_loss, variables), variables))
    return d_loss, g_loss
"""

SWAPPED_OPTIMIZERS = """
def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as tape:
        d_loss = discriminator_loss(discriminator(real), discriminator(generator(noise)))
    grads = tape.gradient(d_loss, discriminator.trainable_variables)
    g_optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
    with tf.GradientTape() as tape:
        g_loss = generator_loss(discriminator(generator(noise)))
    grads = tape.gradient(g_loss, generator.trainable_variables)
    d_optimizer.apply_gradients(zip(grads, generator.trainable_variables))
    return d_loss, g_loss
"""

SIMULTANEOUS = """
def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
        fake = generator(noise)
        logits_fake = discriminator(fake)
        d_loss = discriminator_loss(discriminator(real), logits_fake)
        g_loss = generator_loss(logits_fake)
    d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
    g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return d_loss, g_loss
"""

NO_GENERATOR_UPDATE = """
def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as tape:
        d_loss = discriminator_loss(discriminator(real), discriminator(generator(noise)))
    grads = tape.gradient(d_loss, discriminator.trainable_variables)
    d_optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
    return d_loss, generator_loss(discriminator(generator(noise)))
"""


def test_discriminator_update_moving_the_generator_is_named(solution, run):
    wrong = variant(solution, D_MOVES_G)
    verdict = run(wrong, case_named("train_step", "one step, SGD"))
    assert not verdict.passed
    assert "known mistake: the discriminator's update also moved the generator" in verdict.message, verdict.message
    verdict = run(wrong, case_named("train_step", "g_optimizer at learning rate 0"))
    assert not verdict.passed
    assert ("the generator's weights changed although g_optimizer had learning rate 0 in this case: "
            "the discriminator's update moved the generator") in verdict.message, verdict.message
    assert run(wrong, case_named("train_step", "d_optimizer at learning rate 0")).passed  # only G's update moves G
    verdict = run(wrong, case_named("train_step", "random sizes"), "a")
    assert not verdict.passed and "(hidden case)" in verdict.message and "expected" not in verdict.message, \
        verdict.message


def test_generator_update_moving_the_discriminator_is_named(solution, run):
    wrong = variant(solution, G_MOVES_D)
    verdict = run(wrong, case_named("train_step", "one step, SGD"))
    assert "known mistake: the generator's update also moved the discriminator" in verdict.message, verdict.message
    verdict = run(wrong, case_named("train_step", "d_optimizer at learning rate 0"))
    assert not verdict.passed
    assert "the generator's update moved the discriminator" in verdict.message, verdict.message


def test_swapped_optimizers_are_suspected(solution, run):
    verdict = run(variant(solution, SWAPPED_OPTIMIZERS), case_named("train_step", "g_optimizer at learning rate 0"))
    assert not verdict.passed and "are the optimizers swapped?" in verdict.message, verdict.message


def test_simultaneous_update_is_named(solution, run):
    verdict = run(variant(solution, SIMULTANEOUS), case_named("train_step", "one step, Adam"))
    assert not verdict.passed and "known mistake" in verdict.message and "simultaneous" in verdict.message


def test_a_generator_that_never_moves_is_reported(solution, run):
    verdict = run(variant(solution, NO_GENERATOR_UPDATE), case_named("train_step", "one step, SGD"))
    assert not verdict.passed and "the generator's weights did not change" in verdict.message, verdict.message


def test_a_step_the_student_compiled_is_graded_like_any_other(solution, run):
    compiled = variant(solution, "train_step = tf.function(train_step)")
    for case in (case_named("train_step", "one step, SGD"), case_named("train_step", "one step, Adam")):
        verdict = run(compiled, case)  # the second case's new optimizer would need new variables in the old trace
        assert verdict.passed, verdict.message


def test_a_step_that_returns_one_value_is_told_what_to_return(solution, run):
    source = D_MOVES_G.replace("return d_loss, g_loss", "return d_loss + g_loss")
    verdict = run(variant(solution, source), case_named("train_step", "one step, SGD"))
    assert not verdict.passed and "must return (d_loss, g_loss)" in verdict.message


def test_a_step_that_cannot_be_compiled_fails_training_with_a_reason(solution, run):
    source = SIMULTANEOUS.replace("return d_loss, g_loss", "return float(d_loss.numpy()), float(g_loss)")
    verdict = run(variant(solution, source), TRAINING)
    assert not verdict.passed and verdict.status == "error"
    assert "inside tf.function as the grader runs it" in verdict.message, verdict.message


# ----------------------------------------------------------------------------- mode coverage

def _coverage(samples, seconds=12.0):
    inputs = {"real": np.zeros((gan.TRAIN_STEPS, 1, 2))}
    received = {"d_losses": np.full(10, 1.3), "g_losses": np.full(10, 0.8)}
    return gan.coverage_verdict(samples, received, inputs, {"seconds": seconds, "earlier": {}})


def test_coverage_of_the_data_itself_passes():
    ok, message = _coverage(gan.sample_ring(1000, np.random.default_rng(0)))
    assert ok and message.startswith("covers 8 of 8 modes"), message


def test_a_generator_collapsed_onto_one_mode_fails_and_is_told_so():
    rng = np.random.default_rng(0)
    samples = gan.ring_centres()[3] + rng.normal(0, 0.05, (1000, 2))
    ok, message = _coverage(samples)
    assert not ok
    assert "covers 1 of 8 modes" in message and "Mode collapse" in message and "on mode 3" in message, message


def test_a_generator_that_ignores_its_noise_is_a_collapse_even_off_the_ring():
    ok, message = _coverage(np.tile([[0.3, -0.2]], (1000, 1)))
    assert not ok and "covers 0 of 8" in message and "Mode collapse" in message, message


def test_missing_modes_are_listed_and_a_blob_is_not_called_collapse():
    rng = np.random.default_rng(1)
    six = gan.ring_centres()[rng.choice([0, 1, 2, 3, 4, 7], size=1000)] + rng.normal(0, 0.05, (1000, 2))
    ok, message = _coverage(six)
    assert not ok and "covers 6 of 8" in message and "Partial mode collapse: modes [5, 6]" in message, message
    assert "A correct step ends like this in about 1 training of 50" in message and "no points" in message, message
    ok, message = _coverage(rng.normal(0, 0.5, (1000, 2)))
    assert not ok and "has not learned the ring" in message and "collapse" not in message, message


def test_nan_samples_say_training_diverged():
    samples = gan.sample_ring(1000, np.random.default_rng(2))
    samples[5] = np.nan
    ok, message = _coverage(samples)
    assert not ok and "diverged" in message


# The assignment's layers, but the first one frozen at zero: every noise vector meets the same input.
NOISE_IGNORED = """
def build_generator(latent_dim, hidden_units, data_dim):
    first = keras.layers.Dense(hidden_units, activation="relu", kernel_initializer="zeros")
    first.trainable = False
    return keras.Sequential([
        keras.Input((latent_dim,)),
        first,
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(data_dim),
    ])
"""


@pytest.mark.slow
def test_collapsed_generator_fails_coverage_in_the_sandbox(grader, tmp_path):
    """End to end: a generator whose samples all coincide trains, and fails coverage as mode collapse."""
    notebook = write_variant(tmp_path, SOLUTIONS / "09_gan.ipynb",
                             lambda nb: nb["cells"].append(code_cell(NOISE_IGNORED)))
    assignment = dataclasses.replace(gan.ASSIGNMENT, cases=(TRAINING,))
    result = grader.grade(notebook, assignment)
    (verdict,) = [r.verdict for r in result.results]
    assert not verdict.passed and verdict.status == "failed"
    assert "Mode collapse" in verdict.message and "at least 7 are required" in verdict.message, verdict.message


@pytest.mark.slow
def test_solution_covers_the_ring_for_other_seeds(solution, run):
    """The graded settings are not tuned to one draw: the solution covers >= 7 modes on another one too."""
    verdict = run(solution, ring_training_drawn_from(6))
    assert verdict.passed, verdict.message


# ----------------------------------------------------------------------------- steps in a row (the training points)

(STEPS_TOGETHER,) = gan.STEPS_TOGETHER


def test_training_points_rest_on_steps_verified_exactly_not_on_coverage():
    """Whether training happened cannot be told from returned weights (a stored generator passes coverage):
    the ring is a reported demonstration, and its 4 points are K compiled steps checked against the reference."""
    assert TRAINING.points == 0 and STEPS_TOGETHER.points == 4 and STEPS_TOGETHER.hidden
    assert sum(case.points for case in gan.ASSIGNMENT.cases if case.unit == "train_step") == 12


def test_solution_passes_steps_in_a_row_for_several_secrets(solution, run):
    for secret in ("a", "b", "c"):
        verdict = run(solution, STEPS_TOGETHER, secret)
        assert verdict.passed, verdict.message


def test_a_simultaneous_step_in_a_row_is_named(solution, run):
    verdict = run(variant(solution, SIMULTANEOUS), STEPS_TOGETHER, "a")
    assert not verdict.passed and "simultaneous update" in verdict.message, verdict.message


STORED_GENERATOR = """
def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    # trains nothing: writes weights prepared before grading into the generator
    for variable in generator.trainable_variables:
        variable.assign(tf.ones_like(variable) * 0.01)
    return tf.constant(1.3), tf.constant(0.7)
"""


def test_a_step_that_writes_stored_weights_earns_nothing(solution, run):
    verdict = run(variant(solution, STORED_GENERATOR), STEPS_TOGETHER, "a")
    assert not verdict.passed and verdict.status == "failed", verdict.message
    assert "d_losses" in verdict.message or "weights" in verdict.message, verdict.message


# ----------------------------------------------------------------------------- compiled steps: traced once

COUNTED_STEP = """
_counted = train_step
CALLS = []  # one entry each time the step's Python runs: True eagerly, False while tf.function traces it


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    CALLS.append(tf.executing_eagerly())
    return _counted(generator, discriminator, g_optimizer, d_optimizer, real, noise)
"""


def test_steps_in_a_row_run_the_first_step_eagerly_and_trace_the_compiled_step_once(solution, run):
    """Compiled from its first call, the step would be traced twice (the optimizers' variables are created in
    the first trace, and tf.function traces again without them): the first step runs eagerly instead."""
    namespace = variant(solution, COUNTED_STEP)
    verdict = run(namespace, STEPS_TOGETHER, "a")
    assert verdict.passed, verdict.message
    assert namespace["CALLS"] == [True, False], namespace["CALLS"]


def test_training_runs_the_first_step_eagerly_and_traces_the_compiled_step_once(solution):
    namespace = variant(solution, COUNTED_STEP)
    reply = worker.run_case(namespace, _training_request(4))
    assert reply["status"] == "ok", reply
    assert namespace["CALLS"] == [True, False], namespace["CALLS"]
    assert len(reply["value"][1]) == 4  # a loss per step


def _training_request(steps):
    inputs = TRAINING.make_inputs(None)
    inputs["real"], inputs["noise"] = inputs["real"][:steps], inputs["noise"][:steps]
    return wire.decode(wire.encode(TRAINING.request(inputs)))


def test_training_runs_many_steps_to_a_compiled_call_as_one_call_each_would(solution, monkeypatch):
    """The later steps run inside one tf.range loop per report; they are the same steps: after 20 of them the
    weights and losses are those of one compiled call per step (bit for bit here; float32 rounding at most)."""
    from dlcourse.autograder.engine.sandboxed.drivers.keras import gan_train

    request = _training_request(20)  # a fresh case: new inputs at each call
    looped = worker.run_case(dict(solution), request)
    monkeypatch.setattr(gan_train, "_loop", lambda *args: None)  # what a step that cannot be looped gets
    one_each = worker.run_case(dict(solution), request)
    assert looped["status"] == one_each["status"] == "ok", (looped, one_each)
    for index in (1, 2):  # d_losses, g_losses
        assert len(looped["value"][index]) == 20
        np.testing.assert_allclose(looped["value"][index], one_each["value"][index], rtol=0, atol=1e-6)
    for ours, theirs in zip(looped["value"][0], one_each["value"][0], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_training_reports_once_before_every_kth_step_with_the_losses_so_far(solution):
    from dlcourse.autograder.engine.sandboxed import drivers

    request = _training_request(4)
    request["report_every"] = 1  # the loop's runs are one step long: a report between every two steps
    seen = []
    with drivers.progress.answered_by(lambda value, at: seen.append((at, len(value[1]))) or False):
        reply = worker.run_case(dict(solution), request)
    assert reply["status"] == "ok", reply
    assert seen == [(1, 1), (2, 2), (3, 3)], seen


FAILS_AT_STEP_10 = """
_fails = train_step

def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    tf.debugging.assert_less(d_optimizer.iterations, tf.constant(9, d_optimizer.iterations.dtype),
                             message="the tenth step fails")
    return _fails(generator, discriminator, g_optimizer, d_optimizer, real, noise)
"""


def test_a_step_that_fails_inside_the_loop_names_the_steps_of_that_call(solution):
    reply = worker.run_case(variant(solution, FAILS_AT_STEP_10), _training_request(30))
    assert reply["status"] == "error" and reply["kind"] == "raised", reply
    assert reply["traceback"].startswith("In steps 2 to 30 of 30, run inside tf.function"), reply["traceback"]
    assert "assertion failed: [the tenth step fails]" in reply["traceback"], reply["traceback"]


def test_a_step_that_cannot_be_compiled_fails_steps_in_a_row_at_its_first_compiled_step(solution, run):
    source = SIMULTANEOUS.replace("return d_loss, g_loss", "return float(d_loss.numpy()), float(g_loss)")
    verdict = run(variant(solution, source), STEPS_TOGETHER, "a")
    assert not verdict.passed and verdict.status == "error", verdict.message
    assert "At step 2 of 5, run inside tf.function" in verdict.message, verdict.message


def test_builders_fresh_reference_is_the_keras_builds_output_for_every_activation():
    """The builders' cases compute their reference in NumPy (``ref.dense_output``) at every grading; it is the
    Keras build's (``ref.mlp_output``) to far inside their tolerance of 1e-5, the named wrong activations too."""
    rng = np.random.default_rng(9)
    activations = ("relu", *gan.HIDDEN_ACTIVATIONS)
    outputs = (None, *sorted({name for mistakes in gan.OUTPUT_MISTAKES.values() for _, names in mistakes for name in names}))
    for _ in range(6):
        for activation in activations:
            for output in outputs:
                sizes = (int(rng.integers(1, 9)), int(rng.integers(2, 33)), int(rng.integers(1, 5)))
                spec = gan.generator_spec(*sizes, activation=activation, output=output)
                weights = [rng.normal(0.0, 3 / np.sqrt(shape[0]) if len(shape) == 2 else 1.5, size=shape)
                           for shape in ref.weight_shapes(spec)]
                x = rng.normal(0.0, 3.0, size=(16, sizes[0]))
                np.testing.assert_allclose(ref.dense_output(spec, weights, x)["output"],
                                           ref.mlp_output(spec, weights, x)["output"], rtol=1e-12, atol=1e-12,
                                           err_msg=f"{activation}, {output}")
