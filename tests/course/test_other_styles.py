"""Correct code in other people's styles gets full marks, in the sandbox as in grading.

Each test grades the solution notebook with some cells rewritten as real students and tutorials
write them (TensorFlow's DCGAN tutorial, a ``train_step`` deep inside a cell).
"""

from __future__ import annotations

import dataclasses

import pytest
from conftest import SOLUTIONS, code_cell, write_variant
from dlcourse.autograder.cases import gan

DCGAN_LOSSES = '''
cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_output, fake_output):
    real_loss = cross_entropy(tf.ones_like(real_output), real_output)
    fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
    total_loss = real_loss + fake_loss
    return total_loss


def generator_loss(fake_output):
    return cross_entropy(tf.ones_like(fake_output), fake_output)
'''


DEEP_TRAIN_STEP = "".join(f"# a student's note {index}\n" for index in range(36)) + '''
history = []


@tf.function
def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as disc_tape:
        generated = generator(noise, training=True)
        d_loss = discriminator_loss(discriminator(real, training=True), discriminator(generated, training=True))
    gradients = disc_tape.gradient(d_loss, discriminator.trainable_variables)
    d_optimizer.apply_gradients(zip(gradients, discriminator.trainable_variables))
    with tf.GradientTape() as gen_tape:
        generated = generator(noise, training=True)
        g_loss = generator_loss(discriminator(generated, training=True))
    gradients = gen_tape.gradient(g_loss, generator.trainable_variables)
    g_optimizer.apply_gradients(zip(gradients, generator.trainable_variables))
    return d_loss, g_loss
'''


def _replace_cell(notebook: dict, grade_id: str, source: str) -> None:
    (cell,) = [cell for cell in notebook["cells"]
               if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    cell["source"] = source


@pytest.mark.slow
def test_dcgan_tutorial_losses_and_a_train_step_forty_lines_into_its_cell_get_full_marks(grader, tmp_path):
    def edit(notebook):
        _replace_cell(notebook, "losses", DCGAN_LOSSES)
        _replace_cell(notebook, "train_step", DEEP_TRAIN_STEP)
    notebook = write_variant(tmp_path, SOLUTIONS / "09_gan.ipynb", edit)
    assert DEEP_TRAIN_STEP.splitlines().index("@tf.function") >= 39
    cases = tuple(case for case in gan.ASSIGNMENT.cases if case.unit in ("discriminator_loss", "generator_loss",
                                                                        "train_step"))
    result = grader.grade(notebook, dataclasses.replace(gan.ASSIGNMENT, cases=cases))
    failed = [(item.case.id, item.verdict.message) for item in result.results if not item.verdict.passed]
    assert not failed, failed
    assert result.score == result.max_score == sum(case.points for case in cases)


ACTIVATION_TABLE = '''
import numpy as np

ACTS = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}


def relu_forward(x):
    return ACTS["relu"](x), x


def tanh_forward(x):
    out = ACTS["tanh"](x)
    return out, out
'''


def test_a_module_level_table_of_activation_lambdas_gets_full_marks(grader, tmp_path):
    from dlcourse.autograder.cases import backprop as backprop_cases
    notebook = write_variant(tmp_path, SOLUTIONS / "01_backprop.ipynb",
                             lambda nb: nb["cells"].append(code_cell(ACTIVATION_TABLE)))
    cases = tuple(case for case in backprop_cases.ASSIGNMENT.cases if case.unit in ("relu_forward", "tanh_forward"))
    result = grader.grade(notebook, dataclasses.replace(backprop_cases.ASSIGNMENT, cases=cases))
    assert result.score == result.max_score == sum(case.points for case in cases), \
        [item.verdict.message for item in result.results if not item.verdict.passed]
