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
from dlcourse.autograder.cases.rejections import RUNS
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.sandbox import bwrap_available
from conftest import SOLUTIONS, code_cell, write_variant

pytestmark = pytest.mark.skipif(not bwrap_available(), reason="bubblewrap is not available here")


def grade_unit(grader: Grader, tmp_path, notebook: str, unit: str, source: str | None = None, keep=None):
    """The solution (plus ``source`` as a last cell) graded on ``unit``'s cases only (those ``keep`` keeps)."""
    assignment = ASSIGNMENTS[notebook]
    only = dataclasses.replace(assignment, cases=tuple(case for case in assignment.cases if case.unit == unit
                                                       and (keep is None or keep(case))))
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


def _judges_randomness(case) -> bool:
    """Not an argument check (``cases/rejections.py``): those judge what calls raise, not the values drawn; an
    attack that keeps the notebook's checks passes them as every submission with those checks does."""
    return RUNS not in case.private


@pytest.mark.parametrize("attack", list(SAMPLER_ATTACKS))
def test_samplers_that_ignore_their_rng_gain_nothing(grader, tmp_path, attack):
    source, words = SAMPLER_ATTACKS[attack]
    assert_gains_nothing(grade_unit(grader, tmp_path, "02_initialization", "gaussian_init", source,
                                    keep=_judges_randomness), words)


def test_samplers_drawing_from_rng_keep_full_marks(grader, tmp_path):
    assert_full_marks(grade_unit(grader, tmp_path, "02_initialization", "gaussian_init"))
    alternative = """
        def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
            compute_fans(shape)
            if not stddev > 0:
                raise ValueError(f"Expected stddev > 0. Received stddev={stddev!r}.")
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
    assert_gains_nothing(grade_unit(grader, tmp_path, "02_initialization", "activation_stats", source,
                                    keep=_judges_randomness), "uses numpy's global random state")


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
    return dataclasses.replace(assignment, cases=tuple(case for case in assignment.cases if case.driver.name == "gan_train"))


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

# A forger's trainer: weights trained on the digits before grading, stored in the cell, adapted to the
# data it is given by the cheap transformations that beat a renaming of the digits' classes. Each
# adapter returns ``(x, adapt)``: the images as the stored weights should see them, and how to map the
# stored weights' predicted digit to a label (the label most often given for that prediction).
STORED_TRAINER = """
    _STORED = {stored!r}
    _DIGIT_PIXEL_MEANS = np.array({means!r})

    def _logits(params, x):
        h = x @ np.array(params["W1"]) + np.array(params["b1"])
        return (1 / (1 + np.exp(-h))) @ np.array(params["W2"]) + np.array(params["b2"])

    def _adapted(x, y):
        # the renaming recovered from the labels: predicted digit -> the label most often given for it
        predicted = np.argmax(_logits(_STORED, x), axis=1)
        columns = np.array([np.bincount(y[predicted == d], minlength=10).argmax() if np.any(predicted == d) else d
                            for d in range(10)])
        params = {{name: np.array(value) for name, value in _STORED.items()}}
        order = np.argsort(columns, kind="stable")  # output column of each label
        params["W2"], params["b2"] = params["W2"][:, order], params["b2"][order]
        return params, np.mean(np.argmax(_logits(params, x), axis=1) == y)

    def _as_given(x, y):
        return x, None

    def _pixels_matched(x, y):
        # a pixel permutation recovered from image statistics: pixels matched by their rank of mean intensity
        order = np.empty(64, int)
        order[np.argsort(_DIGIT_PIXEL_MEANS, kind="stable")] = np.argsort(x.mean(axis=0), kind="stable")
        return x[:, order], order

    def _best_flip_or_rotation(x, y):
        pixels = np.arange(64).reshape(8, 8)
        orders = [pixels, pixels[::-1], pixels[:, ::-1], np.rot90(pixels, 1), np.rot90(pixels, 3), pixels.T]
        order = max((o.ravel() for o in orders), key=lambda o: _adapted(x[:, o], y)[1])
        return x[:, order], order

    def train_mlp(x, y, seed=0, epochs=60, learning_rate=0.5, history=None):
        view, order = {adapt}(x, y)
        params, _ = _adapted(view, y)
        if order is not None:  # the stored first layer reads pixel order[i] as digit pixel i
            w1 = np.zeros_like(params["W1"])
            w1[order] = params["W1"]
            params["W1"] = w1
        return params
    """
ADAPTERS = {"relabelled": "_as_given", "a recovered pixel permutation": "_pixels_matched",
            "the best of flips and rotations": "_best_flip_or_rotation"}

SECOND_STYLE_TRAINER = """
    def train_mlp(x, y, seed=0, epochs=40, learning_rate=0.1, history=None):
        # another honest style: 100 sigmoid units, momentum, batches of 64, its own forward and backward
        rng = np.random.default_rng(seed)
        sizes = [x.shape[1], 100, 10]
        params = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]), start=1):
            params[f"W{i}"] = rng.normal(0, np.sqrt(2 / (fan_in + fan_out)), (fan_in, fan_out))
            params[f"b{i}"] = np.zeros(fan_out)
        velocity = {k: np.zeros_like(v) for k, v in params.items()}
        targets = np.eye(10)[y]
        for _ in range(epochs):
            for batch in np.array_split(rng.permutation(len(x)), max(1, len(x) // 64)):
                a = 1 / (1 + np.exp(-(x[batch] @ params["W1"] + params["b1"])))
                z = a @ params["W2"] + params["b2"]
                p = np.exp(z - z.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
                dz = (p - targets[batch]) / len(batch)
                da = dz @ params["W2"].T * a * (1 - a)
                grads = {"W2": a.T @ dz, "b2": dz.sum(0), "W1": x[batch].T @ da, "b1": da.sum(0)}
                for k in params:
                    velocity[k] = 0.9 * velocity[k] - learning_rate * grads[k]
                    params[k] = params[k] + velocity[k]
        return params
    """


@pytest.fixture(scope="module")
def stored_digit_weights():
    """What a forger stores: the solution's MLP trained on the digits, and the digits' pixel means."""
    from conftest import solution_namespace
    from dlcourse import datasets

    x, y = datasets.load_digits("train")
    stored = solution_namespace("01_backprop")["train_mlp"](x, y, 0, 30)
    return {name: np.round(value, 6).tolist() for name, value in stored.items()}, np.round(x.mean(0), 6).tolist()


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_stored_weights_adapted_to_the_data_gain_nothing(grader, tmp_path, stored_digit_weights, adapter):
    """train_mlp returning weights trained on the digits before grading, adapted to the task it is given
    (the issue's forger: relabelled from the labels, a pixel permutation recovered, flips and rotations).
    The task is ten symbols drawn at this grading, so there is nothing for the stored weights to know."""
    stored, means = stored_digit_weights
    source = STORED_TRAINER.format(stored=stored, means=means, adapt=ADAPTERS[adapter])
    result = grade_unit(grader, tmp_path, "01_backprop", "train_mlp", source)
    assert_gains_nothing(result, "know nothing of these symbols")


def test_stored_weights_recognise_the_digits_they_were_trained_on(stored_digit_weights):
    """The forgers are real ones: on the digits renamed, pixel-permuted or flipped (the defences a task
    made of the digits could use) each scores what a trained network scores; only a task drawn at grading
    defeats them."""
    from dlcourse import datasets
    from dlcourse.references.backprop import mlp_accuracy

    stored, means = stored_digit_weights
    x, y = datasets.load_digits("train")
    x_test, y_test = datasets.load_digits("test")
    renaming, pixels = np.roll(np.arange(10), 3), np.random.default_rng(1).permutation(64)
    disguises = {"relabelled": lambda images: images,
                 "a recovered pixel permutation": lambda images: images[:, pixels],
                 "the best of flips and rotations": lambda images: images.reshape(-1, 8, 8)[:, :, ::-1].reshape(-1, 64)}
    for adapter, disguise in disguises.items():
        namespace = {"np": np}
        exec(textwrap.dedent(STORED_TRAINER.format(stored=stored, means=means, adapt=ADAPTERS[adapter])), namespace)
        params = namespace["train_mlp"](disguise(x), renaming[y])
        assert mlp_accuracy(params, disguise(x_test), renaming[y_test]) > 0.9, adapter


def test_a_second_honest_style_keeps_full_marks(grader, tmp_path):
    assert_full_marks(grade_unit(grader, tmp_path, "01_backprop", "train_mlp", SECOND_STYLE_TRAINER))
    assert_full_marks(grade_unit(grader, tmp_path, "01_backprop", "train_mlp"))


def _relabelled_lenet5(weights, x, y):
    """The forger's adaptation of stored LeNet-5 weights: predict the training images, map each predicted
    class to the label most often given for it, and reorder the output layer to match."""
    from dlcourse.references.cnn_architectures import lenet5_logits

    predicted = np.argmax(lenet5_logits(x, weights)["logits"], axis=1)
    columns = np.array([np.bincount(y[predicted == d], minlength=10).argmax() if np.any(predicted == d) else d
                        for d in range(10)])
    order = np.argsort(columns, kind="stable")
    return [*weights[:-2], weights[-2][:, order], weights[-1][order]]


@pytest.mark.slow  # trains LeNet-5 on the digits (3 epochs) in the test process
def test_stored_lenet5_weights_relabelled_to_the_data_gain_nothing():
    """The issue's 06 forger: weights trained on the digits before grading, relabelled from the labels
    it is given. On a renaming of the digits' classes that scores like a trained network; on the task
    drawn at grading it earns nothing."""
    from conftest import solution_namespace
    from dlcourse import datasets
    from dlcourse.autograder.cases import cnn_architectures as cnn
    from dlcourse.references.cnn_architectures import lenet5_accuracy

    x, y = datasets.load_digits("train", flatten=False)
    x_test, y_test = datasets.load_digits("test", flatten=False)
    x, x_test = cnn.upsample_digits(x), cnn.upsample_digits(x_test)
    stored = [np.asarray(w, np.float64) for w in solution_namespace("06_cnn_architectures")["train_lenet5"](x, y, 0, 3)]
    renaming = np.roll(np.arange(10), 3)
    assert lenet5_accuracy(_relabelled_lenet5(stored, x, renaming[y]), x_test, renaming[y_test]) >= cnn.REQUIRED_ACCURACY

    case = next(case for case in ASSIGNMENTS["06_cnn_architectures"].cases if case.unit == "train_lenet5")
    inputs = case.make_inputs(None)
    held_out = case.reference(**inputs)
    forged = _relabelled_lenet5(stored, inputs["x"], inputs["y"])
    ok, message = case.judge(inputs, held_out, {"weights": forged}, {"seconds": 1.0})
    assert not ok and "know nothing of these symbols" in message, message
    assert "x_test" not in dict(case.request(inputs)["args"])  # the held-out images never reach the worker
