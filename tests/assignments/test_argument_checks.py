"""The argument checks (``cases/rejections.py``) judge a submission the same way at every grading: every kind of
bad and good argument is in every draw, only the values and the order are drawn. A check that is off at the
boundary (accepts 0 where 0 is bad, rejects 0 where 0 is good), or that forgets one kind, fails every time."""

from __future__ import annotations

import pytest
from conftest import solution_namespace

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.cases.rejections import RUNS
from dlcourse.autograder.engine.runner import CaseRunner, in_process

NEAR_MISSES = {
    "compute_fans rejects an axis of 0": ("02_initialization", "compute_fans", """
_fans = compute_fans
def compute_fans(shape):
    if 0 in tuple(shape):
        raise ValueError(f"Expected positive axes. Received shape={shape!r}.")
    return _fans(shape)
"""),
    "gaussian_init accepts stddev 0": ("02_initialization", "gaussian_init", """
def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
    compute_fans(shape)
    if stddev < 0:
        raise ValueError(f"Expected stddev >= 0. Received stddev={stddev!r}.")
    return rng.normal(mean, stddev, size=tuple(shape))
"""),
    "uniform_init accepts minval = maxval": ("02_initialization", "uniform_init", """
def uniform_init(shape, rng, minval=-0.05, maxval=0.05):
    compute_fans(shape)
    if minval > maxval:
        raise ValueError(f"Expected minval <= maxval. Received minval={minval!r}, maxval={maxval!r}.")
    return rng.uniform(minval, maxval, size=tuple(shape))
"""),
    "activation_stats knows four of the five sampler names": ("02_initialization", "activation_stats", """
_stats = activation_stats
def activation_stats(init, depth, width, activation, rng, batch_size=256):
    if init == "xavier_normal":
        raise ValueError(f"Expected init to be one of four names. Received init={init!r}.")
    return _stats(init, depth, width, activation, rng, batch_size)
"""),
    "exponential_decay accepts decay_steps 0": ("03_optimization", "exponential_decay", """
import numpy as np
def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    step = np.asarray(step, dtype=np.float64)
    if (step < 0).any():
        raise ValueError(f"Expected step >= 0. Received step={step.min()!r}.")
    if decay_steps < 0:
        raise ValueError(f"Expected decay_steps >= 0. Received decay_steps={decay_steps!r}.")
    p = step / float(decay_steps) if decay_steps else np.inf * step
    return float(initial_learning_rate) * np.power(float(decay_rate), np.floor(p) if staircase else p)
"""),
    "exponential_decay accepts a step of -1": ("03_optimization", "exponential_decay", """
_decay = exponential_decay
def exponential_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    if (np.asarray(step) < -1).any():
        raise ValueError(f"Expected step >= -1. Received step={step!r}.")
    return _decay(np.maximum(step, 0), initial_learning_rate, decay_steps, decay_rate, staircase)
"""),
    "compute_fans accepts an axis of -1": ("02_initialization", "compute_fans", """
_fans = compute_fans
def compute_fans(shape):
    if isinstance(shape, (tuple, list)) and -1 in tuple(shape):
        return 1, 1
    return _fans(shape)
"""),
    "rnn_forward lets a 1-D h0 broadcast": ("07_rnn_bptt", "rnn_forward", """
_forward = rnn_forward
def rnn_forward(x, h0, wx, wh, b):
    if np.ndim(h0) == 2 and np.shape(h0) != (np.shape(x)[0], np.shape(wh)[0]):
        raise ValueError(f"Expected h0 of shape (N, H). Received h0.shape={np.shape(h0)}.")
    if np.ndim(h0) == 1:
        h0 = np.broadcast_to(h0, (np.shape(x)[0], np.shape(wh)[0]))
    return _forward(x, h0, wx, wh, b)
"""),
    "clip_by_global_norm accepts an int 0": ("07_rnn_bptt", "clip_by_global_norm", """
_clip = clip_by_global_norm
def clip_by_global_norm(grads, clip_norm):
    if isinstance(clip_norm, float) and clip_norm <= 0:
        raise ValueError(f"Expected clip_norm > 0. Received clip_norm={clip_norm!r}.")
    return _clip(grads, clip_norm if clip_norm else 1.0)
"""),
}


@pytest.mark.parametrize("variant", list(NEAR_MISSES))
def test_a_near_miss_fails_at_every_grading_and_the_solution_passes(variant):
    name, unit, source = NEAR_MISSES[variant]
    (case,) = [c for c in ASSIGNMENTS[name].cases if c.unit == unit and RUNS in c.private
               and not (unit == "rnn_forward" and c.name.startswith("x "))]
    solution = solution_namespace(name)
    changed = dict(solution)
    exec(compile(source, "cell 99", "exec"), changed)
    expected = lambda case, inputs: case.reference(**inputs)  # noqa: E731
    right, near = CaseRunner(in_process(solution), expected), CaseRunner(in_process(changed), expected)
    for _ in range(15):
        assert right.verdict(case).passed
        verdict = near.verdict(case)
        assert not verdict.passed, f"{variant} passed a draw: {verdict.message}"
