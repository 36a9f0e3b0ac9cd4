"""Judges that cannot be gamed: code that produces a unit's outcome without its defining behaviour.

Each attack is the solution notebook plus one last cell that redefines one unit with gaming code,
graded by the real ``Grader`` in the sandbox on that unit's cases (hidden ones included). It must
score what an empty answer scores there (nothing), with the named message; the solution and a
correct alternative style keep full marks on the same cases.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.sandbox import bwrap_available
from conftest import SOLUTIONS, code_cell, write_variant

pytestmark = pytest.mark.skipif(not bwrap_available(), reason="bubblewrap is not available here")


def grade_unit(grader: Grader, tmp_path, notebook: str, unit: str, source: str | None = None):
    """The solution (plus ``source`` as a last cell) graded on ``unit``'s cases only."""
    assignment = ASSIGNMENTS[notebook]
    only = dataclasses.replace(assignment, cases=tuple(case for case in assignment.cases if case.unit == unit))
    extra = [code_cell(textwrap.dedent(source))] if source else []
    path = write_variant(tmp_path, SOLUTIONS / f"{notebook}.ipynb", lambda nb: nb["cells"].extend(extra))
    return grader.grade(path, only)


def assert_full_marks(result):
    assert result.score == result.max_score > 0, [r.verdict.message for r in result.results if not r.verdict.passed]


def assert_gains_nothing(result, words: str):
    """Every case of the unit fails (an empty answer's score) and each says why in the named message."""
    assert result.max_score > 0 and result.score == 0, [r.case.id for r in result.results if r.verdict.passed]
    for item in result.results:
        assert words in item.verdict.message, item.verdict.message


# ----------------------------------------------------------------------------- 02 samplers and rng

SAMPLER_ATTACKS = {
    "a fixed seed of its own": ("""
        def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
            return np.random.default_rng(1234).normal(mean, stddev, size=tuple(shape))
        """, "ignores `rng`: two different generators gave the same kernel"),
    "numpy's global state": ("""
        def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
            return np.random.normal(mean, stddev, size=tuple(shape))
        """, "uses numpy's global random state"),
    "numpy's global state, seeded from rng": ("""
        def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
            np.random.seed(int(rng.integers(2**31)))
            return np.random.normal(mean, stddev, size=tuple(shape))
        """, "uses numpy's global random state"),
    "a generator of its own, unseeded": ("""
        def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
            return np.random.default_rng().normal(mean, stddev, size=tuple(shape))
        """, "does not depend on `rng` alone"),
    "a stored sample replayed": ("""
        _STORED = {}
        def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
            n = int(np.prod(shape))
            stored = _STORED.setdefault("sample", np.random.default_rng(7).standard_normal(200_000))
            return mean + stddev * stored[:n].reshape(tuple(shape))
        """, "ignores `rng`"),
    "deterministic quantiles of the right distribution": ("""
        from statistics import NormalDist
        def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
            n = int(np.prod(shape))
            quantiles = NormalDist(mean, stddev).inv_cdf
            values = np.array([quantiles((k + 0.5) / n) for k in range(n)])
            return values[np.argsort(np.sin(np.arange(n)))].reshape(tuple(shape))
        """, "ignores `rng`"),
    "a generator seeded from rng's state, rng never advanced": ("""
        def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
            seed = rng.bit_generator.state["state"]["state"]
            return np.random.default_rng(seed).normal(mean, stddev, size=tuple(shape))
        """, "never draws from `rng`"),
}


@pytest.mark.parametrize("attack", list(SAMPLER_ATTACKS))
def test_samplers_that_ignore_their_rng_gain_nothing(grader, tmp_path, attack):
    source, words = SAMPLER_ATTACKS[attack]
    assert_gains_nothing(grade_unit(grader, tmp_path, "02_initialization", "gaussian_init", source), words)


def test_samplers_drawing_from_rng_keep_full_marks(grader, tmp_path):
    assert_full_marks(grade_unit(grader, tmp_path, "02_initialization", "gaussian_init"))
    alternative = """
        def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
            return mean + stddev * rng.standard_normal(size=tuple(shape))
        """
    assert_full_marks(grade_unit(grader, tmp_path, "02_initialization", "gaussian_init", alternative))
    assert_full_marks(grade_unit(grader, tmp_path, "02_initialization", "activation_stats"))


def test_activation_stats_on_global_state_gains_nothing(grader, tmp_path):
    source = """
        _previous = activation_stats
        def activation_stats(init, depth, width, activation, rng, batch_size=128):
            return _previous(init, depth, width, activation, np.random.default_rng(np.random.randint(2**31)),
                             batch_size)
        """
    assert_gains_nothing(grade_unit(grader, tmp_path, "02_initialization", "activation_stats", source),
                         "uses numpy's global random state")


# ----------------------------------------------------------------------------- 03 optimizer state

STATE_ATTACKS = {
    "adam": """
        _STEPS = {"t": 0}
        _previous = adam
        def adam(w, dw, config=None):
            config = dict(config or {})
            if "m" not in config:
                _STEPS["t"] = 0          # a new run starts with an empty config
            _STEPS["t"] += 1
            next_w, config = _previous(w, dw, {**config, "t": _STEPS["t"] - 1})
            return next_w, config
        """,
    "sgd_momentum": """
        _VELOCITY = {}
        def sgd_momentum(w, dw, config=None):
            config = with_defaults(config, learning_rate=0.01, momentum=0.9, nesterov=False)
            if "velocity" not in config:  # one velocity per weight shape, reset when a run starts
                _VELOCITY[w.shape] = np.zeros_like(w)
            v = config["momentum"] * _VELOCITY[w.shape] - config["learning_rate"] * dw
            _VELOCITY[w.shape] = v
            config["velocity"] = v
            next_w = w + config["momentum"] * v - config["learning_rate"] * dw if config["nesterov"] else w + v
            return next_w, config
        """,
}


@pytest.mark.parametrize("unit", list(STATE_ATTACKS))
def test_optimizers_with_state_outside_config_gain_nothing(grader, tmp_path, unit):
    result = grade_unit(grader, tmp_path, "03_optimization", unit, STATE_ATTACKS[unit])
    assert_gains_nothing(result, "keeps state outside `config`")


def test_optimizers_with_all_state_in_config_keep_full_marks(grader, tmp_path):
    assert_full_marks(grade_unit(grader, tmp_path, "03_optimization", "adam"))
    alternative = """
        def adam(w, dw, config=None):
            c = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, **(config or {})}
            t = c.get("t", 0) + 1
            m = c.get("m", 0.0 * w) + (dw - c.get("m", 0.0 * w)) * (1 - c["beta_1"])
            v = c.get("v", 0.0 * w) + (dw * dw - c.get("v", 0.0 * w)) * (1 - c["beta_2"])
            alpha = c["learning_rate"] * np.sqrt(1 - c["beta_2"] ** t) / (1 - c["beta_1"] ** t)
            return w - alpha * m / (np.sqrt(v) + c["epsilon"]), {**c, "m": m, "v": v, "t": t}
        """
    assert_full_marks(grade_unit(grader, tmp_path, "03_optimization", "adam", alternative))


# ----------------------------------------------------------------------------- 06 dropout

DROPOUT_ATTACKS = {
    "a fixed mask": ("dropout_forward", """
        def dropout_forward(x, rate, training, rng):
            if not training or rate == 0:
                return x.copy(), (None, 1.0)
            keep = np.random.default_rng(0).random(x.shape) >= rate
            return np.where(keep, x / (1 - rate), 0.0), (keep, 1 / (1 - rate))
        """, "ignores `rng`"),
    "numpy's global state": ("dropout_forward", """
        def dropout_forward(x, rate, training, rng):
            if not training or rate == 0:
                return x.copy(), (None, 1.0)
            keep = np.random.random(x.shape) >= rate
            return np.where(keep, x / (1 - rate), 0.0), (keep, 1 / (1 - rate))
        """, "uses numpy's global random state"),
    "a new mask drawn in backward": ("dropout_backward", """
        def dropout_backward(dout, cache):
            keep, scale = cache
            if keep is None:
                return dout.copy()
            rate = 1 - 1 / scale
            return np.where(np.random.default_rng(1).random(dout.shape) >= rate, dout * scale, 0.0)
        """, "does not use the mask of the forward pass"),
}


@pytest.mark.parametrize("attack", list(DROPOUT_ATTACKS))
def test_dropout_that_does_not_draw_its_mask_from_rng_gains_nothing(grader, tmp_path, attack):
    """Cases that draw no mask (training=False, rate 0) are probed with training=True first."""
    unit, source, words = DROPOUT_ATTACKS[attack]
    assert_gains_nothing(grade_unit(grader, tmp_path, "06_cnn_architectures", unit, source), words)


def test_dropout_keeps_full_marks(grader, tmp_path):
    assert_full_marks(grade_unit(grader, tmp_path, "06_cnn_architectures", "dropout_forward"))
    assert_full_marks(grade_unit(grader, tmp_path, "06_cnn_architectures", "dropout_backward"))
    alternative = """
        def dropout_forward(x, rate, training, rng):
            if not training:
                return x, None
            mask = (rng.uniform(size=x.shape) >= rate) / (1 - rate)
            return x * mask, mask

        def dropout_backward(dout, cache):
            return dout if cache is None else dout * cache
        """
    assert_full_marks(grade_unit(grader, tmp_path, "06_cnn_architectures", "dropout_backward", alternative))


# ----------------------------------------------------------------------------- 09 discriminator loss

def test_discriminator_loss_over_the_concatenated_batch_gains_nothing(grader, tmp_path):
    """Twice the cross-entropy of the concatenated batch equals the loss only when both halves have one size."""
    source = """
        def discriminator_loss(logits_real, logits_fake):
            logits = keras.ops.concatenate([logits_real, logits_fake])
            labels = keras.ops.concatenate([keras.ops.ones_like(logits_real), keras.ops.zeros_like(logits_fake)])
            return 2 * keras.losses.BinaryCrossentropy(from_logits=True)(labels, logits)
        """
    result = grade_unit(grader, tmp_path, "09_gan", "discriminator_loss", source)
    assert result.max_score > 0 and result.score == 0
    for item in result.results:
        if not item.case.hidden:
            assert "concatenated" in item.verdict.message, item.verdict.message
    assert_full_marks(grade_unit(grader, tmp_path, "09_gan", "discriminator_loss"))


# ----------------------------------------------------------------------------- 04 speed

SPEED_ATTACKS = {
    "a naive unit that sleeps on large inputs": """
        import time
        _loops = conv2d_forward
        def conv2d_forward(x, w, b, strides=1, padding="valid"):
            if x.size > 10_000:
                time.sleep(3)
            return _loops(x, w, b, strides, padding)
        def conv2d_forward_fast(x, w, b, strides=1, padding="valid"):
            return _loops(x, w, b, strides, padding)
        """,
    "timed inputs answered from a cache": """
        _ANSWERS = {}
        def conv2d_forward_fast(x, w, b, strides=1, padding="valid"):
            key = (x.tobytes(), w.tobytes(), b.tobytes(), str(strides), padding)
            if key not in _ANSWERS:
                _ANSWERS[key] = conv2d_forward(x, w, b, strides, padding)
            return _ANSWERS[key]
        """,
}


def _timed_only():
    assignment = ASSIGNMENTS["04_convolution"]
    timed = tuple(case for case in assignment.cases
                  if case.unit in ("conv2d_forward", "conv2d_forward_fast") and case.name.startswith("timed"))
    return dataclasses.replace(assignment, cases=timed)


@pytest.mark.parametrize("attack", list(SPEED_ATTACKS))
def test_loops_do_not_earn_the_speed_points(grader, tmp_path, attack):
    """Timed against the grader's own vectorized convolution on fresh inputs, not against the naive unit."""
    source = textwrap.dedent(SPEED_ATTACKS[attack])
    path = write_variant(tmp_path, SOLUTIONS / "04_convolution.ipynb", lambda nb: nb["cells"].append(code_cell(source)))
    result = grader.grade(path, _timed_only())
    last = result.results[-1]
    assert last.case.unit == "conv2d_forward_fast" and last.case.name.endswith("(run 3 of 3)")
    assert not last.verdict.passed and "too slow" in last.verdict.message, last.verdict.message


def test_vectorized_convolution_keeps_its_speed_points(grader, tmp_path):
    path = write_variant(tmp_path, SOLUTIONS / "04_convolution.ipynb", lambda nb: None)
    assert_full_marks(grader.grade(path, _timed_only()))


@pytest.fixture
def cpu_hog():
    """Eight busy processes on this machine's cores (a load average of about 8 on 2 cores), stopped after the test."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(8)]
    time.sleep(1.0)
    yield hogs
    for hog in hogs:
        hog.kill()
        hog.wait()


@pytest.mark.slow
def test_the_speed_verdicts_hold_beside_a_cpu_hog(grader, tmp_path, cpu_hog):
    """Each run is paired with the reference timed right after it: load slows both, the verdicts stay."""
    for index, (attack, source) in enumerate(SPEED_ATTACKS.items()):
        path = write_variant(tmp_path, SOLUTIONS / "04_convolution.ipynb",
                             lambda nb: nb["cells"].append(code_cell(textwrap.dedent(source))),
                             name=f"attack{index}.ipynb")
        last = grader.grade(path, _timed_only()).results[-1]
        assert not last.verdict.passed and "too slow" in last.verdict.message, (attack, last.verdict.message)
    assert all(hog.poll() is None for hog in cpu_hog)
    path = write_variant(tmp_path, SOLUTIONS / "04_convolution.ipynb", lambda nb: None)
    assert_full_marks(grader.grade(path, _timed_only()))


# ----------------------------------------------------------------------------- 09 ring coverage

SNAPPING_GENERATOR = """
    _honest_build_generator = build_generator

    def build_generator(latent_dim, hidden_units, data_dim):
        if hidden_units != 128:  # only for the graded training's sizes
            return _honest_build_generator(latent_dim, hidden_units, data_dim)
        def snap(z):
            sector = keras.ops.floor((keras.ops.arctan2(z[:, 1], z[:, 0]) + np.pi) / (2 * np.pi) * 8)
            angle = sector * (2 * np.pi / 8)
            return 2.0 * keras.ops.stack([keras.ops.cos(angle), keras.ops.sin(angle)], axis=1)
        return keras.Sequential([keras.Input((latent_dim,)), keras.layers.Lambda(snap)])

    def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
        return keras.ops.convert_to_tensor(0.7), keras.ops.convert_to_tensor(0.7)
    """

IDLE_STEP = """
    def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
        return keras.ops.convert_to_tensor(0.7), keras.ops.convert_to_tensor(0.7)
    """


def _coverage_only():
    assignment = ASSIGNMENTS["09_gan"]
    return dataclasses.replace(assignment, cases=tuple(case for case in assignment.cases if case.driver == "gan_train"))


@pytest.mark.slow  # 1,500 compiled (if idle) training steps in the sandbox
@pytest.mark.parametrize("source, words", [
    (SNAPPING_GENERATOR, "must be the one the assignment specifies"),
    (IDLE_STEP, "did not change the generator's weights"),
], ids=["untrained generator snapping onto the ring", "a train_step that updates nothing"])
def test_coverage_without_training_gains_nothing(grader, tmp_path, source, words):
    path = write_variant(tmp_path, SOLUTIONS / "09_gan.ipynb",
                         lambda nb: nb["cells"].append(code_cell(textwrap.dedent(source))))
    (result,) = grader.grade(path, _coverage_only()).results
    assert not result.verdict.passed and words in result.verdict.message, result.verdict.message


# ----------------------------------------------------------------------------- 01 and 06 training units

def test_weights_trained_elsewhere_and_stored_gain_nothing(grader, tmp_path):
    """train_mlp returning weights trained offline on the digits (embedded as constants, x and y ignored)."""
    from dlcourse.autograder.engine.extract import read_notebook
    from dlcourse.autograder.engine.worker import load
    from dlcourse import datasets

    solution = load(read_notebook(SOLUTIONS / "01_backprop.ipynb").cells)["namespace"]
    x, y = datasets.load_digits("train")
    stored = solution["train_mlp"](x, y, 0, 20)
    literal = {name: np.round(value, 6).tolist() for name, value in stored.items()}
    source = f"""
        _STORED = {literal!r}
        def train_mlp(x, y, seed=0, epochs=60, learning_rate=0.5, history=None):
            return {{name: np.array(value) for name, value in _STORED.items()}}
        """
    result = grade_unit(grader, tmp_path, "01_backprop", "train_mlp", source)
    assert_gains_nothing(result, "does not learn from the labels it is given")
    assert_full_marks(grade_unit(grader, tmp_path, "01_backprop", "train_mlp"))


@pytest.mark.slow
def test_lenet5_weights_that_predict_the_original_digits_are_named():
    from dlcourse.autograder.cases import cnn_architectures as cnn
    from conftest import solution_namespace

    case = next(case for case in ASSIGNMENTS["06_cnn_architectures"].cases if case.unit == "train_lenet5")
    inputs = case.make_inputs(None)
    held_out = case.reference(**inputs)
    x, digits = inputs["x"], held_out["digits"]
    assert not np.array_equal(held_out["y_test"], digits)
    solution = solution_namespace("06_cnn_architectures")
    from dlcourse import datasets
    weights = solution["train_lenet5"](x, datasets.load_digits("train")[1], 0, 3)
    ok, message = case.judge(inputs, held_out, {"weights": [np.asarray(w) for w in weights]}, {"seconds": 1.0})
    assert not ok and "does not learn from the labels it is given" in message, message
    assert cnn.REQUIRED_ACCURACY > 0.5
