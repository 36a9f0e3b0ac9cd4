"""Assignment 02 (initialization): references against Keras, the statistical tests, the solution.

The false-failure and detection rates over hundreds of seeds are measured by
``benchmarks/initializer_detection.py``; here a few seeds check the same things quickly.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.cases.rejections import RUNS
from dlcourse.autograder.cases import distributions
from dlcourse.autograder.cases import initialization as cases
from dlcourse.autograder.engine.case import Assignment
from conftest import SOLUTIONS, TEST_SECRET, solution_namespace, write_variant
from dlcourse.references import initialization as ref

ASSIGNMENT = ASSIGNMENTS["02_initialization"]
SAMPLER_UNITS = ("gaussian_init", "uniform_init", "truncated_normal", "xavier_uniform", "xavier_normal", "he_normal")
CONFIG_KEYS = ("mean", "stddev", "minval", "maxval")


@pytest.fixture(scope="module")
def solution():
    return solution_namespace("02_initialization")


def _sampler_cases(hidden=True):
    """The sampler cases judged by distribution: not the argument checks, nor the empty kernels (driver "call")."""
    return [case for case in ASSIGNMENT.cases if case.unit in SAMPLER_UNITS and (hidden or not case.hidden)
            and case.driver.name == "rng_probe" and RUNS not in case.private]


@pytest.fixture(scope="module")
def sampler_cases():
    """Every sampler case with its inputs (hidden ones from the test secret) and Keras's distribution."""
    rows = []
    for case in _sampler_cases():
        inputs = case.make_inputs(TEST_SECRET)
        rows.append((case, inputs, case.reference(**inputs)))
    return rows


def _config(inputs):
    return {key: inputs[key] for key in CONFIG_KEYS if key in inputs}


# ----------------------------------------------------------------------------- fans

SHAPES = [(), (7,), (256, 128), (1, 9), (3, 3, 32, 64), (5, 8, 16), (2, 3, 4, 5, 6), (1, 1, 3, 4), (0, 4)]


@pytest.mark.parametrize("shape", SHAPES)
def test_compute_fans_matches_keras(solution, shape):
    expected = ref.compute_fans(shape)
    fan_in, fan_out = solution["compute_fans"](shape)
    assert (fan_in, fan_out) == (int(expected["fan_in"]), int(expected["fan_out"]))
    assert type(fan_in) is int and type(fan_out) is int


def test_compute_fans_reference_is_kerass_own():
    from keras.src.initializers.random_initializers import compute_fans

    assert compute_fans((3, 3, 32, 64)) == (288, 576)
    assert ref.compute_fans((3, 3, 32, 64)) == {"fan_in": 288, "fan_out": 576}


@pytest.mark.parametrize("shape", [(3, -1), (2.0, 3), "3x3", None, (True, 2)])
def test_compute_fans_rejects_bad_shapes(solution, shape):
    with pytest.raises(ValueError, match="shape"):
        solution["compute_fans"](shape)


def test_fan_mistakes_are_named_on_a_conv_kernel():
    case = next(c for c in ASSIGNMENT.cases if c.unit == "compute_fans" and "conv2d" in c.name)
    from dlcourse.autograder.engine.compare import recognise_mistake

    inputs = case.make_inputs(None)
    expected = case.reference(**inputs)
    found = recognise_mistake(case, inputs, expected, {"fan_in": 32, "fan_out": 64})
    assert found and "receptive field" in found


# ----------------------------------------------------------------------------- distributions

def test_truncated_normal_constants_match_scipy():
    from scipy.stats import truncnorm

    assert math.isclose(cases.TRUNCATION_STD, truncnorm(-2, 2).std(), rel_tol=1e-12)
    kurtosis = distributions.Distribution("truncated_normal", 0.0, 1.0).kurtosis
    assert math.isclose(kurtosis, truncnorm(-2, 2).stats(moments="k") + 3, rel_tol=1e-9)
    dist = distributions.Distribution("truncated_normal", 0.5, 2.0)
    assert math.isclose(dist.variance, truncnorm(-2, 2, loc=0.5, scale=2.0).var(), rel_tol=1e-12)
    x = np.linspace(-4, 5, 11)
    assert np.allclose(dist.cdf(x), truncnorm(-2, 2, loc=0.5, scale=2.0).cdf(x), atol=1e-12)


@pytest.mark.parametrize("family", ["normal", "truncated_normal", "uniform"])
def test_kolmogorov_smirnov_equals_scipys(family):
    from scipy.stats import kstest

    dist = distributions.Distribution(family, 0.3, 1.5)
    for stretch in (1.0, 1.02, 1.1):
        stretched = distributions.Distribution(family, 0.3, 1.5 * stretch)
        values = np.sort(stretched.sample(np.random.default_rng(0), 20000))
        distance, pvalue = distributions.kolmogorov_smirnov(values, dist)
        expected = kstest(values, dist.cdf)
        assert math.isclose(distance, expected.statistic, rel_tol=1e-12)
        if expected.pvalue > 1e-20:
            assert math.isclose(pvalue, expected.pvalue, rel_tol=1e-9)
        else:  # the asymptotic value stands in where p is far below any level
            assert pvalue < 1e-15


def test_distribution_of_every_keras_initializer():
    """The reference's description of each initializer, by Keras's documented formulas."""
    glorot = ref.initializer_distribution("GlorotUniform", (256, 128))
    assert glorot["family"] == "uniform" and math.isclose(glorot["high"], math.sqrt(6 / 384))
    normal = ref.initializer_distribution("GlorotNormal", (3, 3, 32, 64))
    assert normal["family"] == "truncated_normal"
    assert math.isclose(normal["scale"], math.sqrt(2 / (288 + 576)) / 0.87962566103423978)
    he = ref.initializer_distribution("HeNormal", (3, 3, 32, 64))
    assert math.isclose(he["scale"], math.sqrt(2 / 288) / 0.87962566103423978)
    random_normal = ref.initializer_distribution("RandomNormal", (4, 4))
    assert (random_normal["family"], random_normal["loc"], random_normal["scale"]) == ("normal", 0.0, 0.05)


@pytest.mark.parametrize("index", range(len(_sampler_cases())))
def test_kerass_own_samples_pass_the_test(sampler_cases, index):
    """The graded distribution is the one Keras draws from: Keras's samples pass, for several seeds."""
    case, inputs, expected = sampler_cases[index]
    name = ref.KERAS_NAMES[case.unit]
    for seed in (1, 2):
        sample = ref.keras_sample(name, inputs["shape"], seed=seed, **_config(inputs))
        ok, message = case.judge(inputs, expected, {"w": sample}, {})
        assert ok, f"Keras's own {name} (seed {seed}) fails {case.id}: {message}"


def test_keras_truncated_normal_cuts_at_two_stddev():
    dist = ref.initializer_distribution("HeNormal", (256, 128))
    sample = ref.keras_sample("HeNormal", (256, 128), seed=0)
    assert np.abs(sample).max() <= dist["high"] * (1 + 1e-6)
    assert np.abs(sample).max() > 0.99 * dist["high"]  # the cut is at 2 stddev, not further in


@pytest.mark.parametrize("index", range(len(_sampler_cases())))
def test_solution_samples_pass_and_every_mistake_is_caught_and_named(solution, sampler_cases, index):
    case, inputs, expected = sampler_cases[index]
    shape = tuple(inputs["shape"])
    for seed in (11, 12):
        sample = solution[case.unit](shape, np.random.default_rng(seed), **_config(inputs))
        ok, message = case.judge(inputs, expected, {"w": sample}, {})
        assert ok, message
    if math.prod(shape) < cases.SMALL_KERNEL:  # a small kernel checks the bounds; mistakes are caught on the large ones
        return
    for mistake in cases.SAMPLER_MISTAKES[case.unit]:
        wrong = mistake.distribution(shape, inputs, expected)
        if wrong is None:
            continue
        sample = wrong.sample(np.random.default_rng(7), shape)
        ok, message = case.judge(inputs, expected, {"w": sample}, {})
        assert not ok, f"{case.id}: the mistake {mistake.kind!r} passed"
        assert mistake.name in message, f"{case.id}: {mistake.kind!r} not named:\n{message}"


def test_every_required_mistake_applies_somewhere(sampler_cases):
    """The issue's five mistakes each change the distribution of at least one public case."""
    applied = {mistake.kind for case, inputs, expected in sampler_cases if not case.hidden
               for mistake in cases.SAMPLER_MISTAKES[case.unit]
               if mistake.distribution(tuple(inputs["shape"]), inputs, expected) is not None}
    assert {"fan_in for fan_avg", "missing sqrt", "normal for truncated", "std for limit", "wrong conv fans"} <= applied


def test_clipping_instead_of_redrawing_is_caught(sampler_cases):
    case, inputs, expected = next(row for row in sampler_cases if row[0].unit == "xavier_normal" and not row[0].hidden)
    scale = float(expected["scale"])
    clipped = np.clip(np.random.default_rng(0).normal(0, scale, size=inputs["shape"]), -2 * scale, 2 * scale)
    ok, message = case.judge(inputs, expected, {"w": clipped}, {})
    assert not ok and "Kolmogorov-Smirnov" in message


def test_sampler_judge_reports_shape_and_dtype(sampler_cases):
    case, inputs, expected = sampler_cases[0]
    ok, message = case.judge(inputs, expected, {"w": np.zeros((2, 2))}, {})
    assert not ok and "wrong shape" in message
    ok, message = case.judge(inputs, expected, {"w": np.zeros(inputs["shape"], dtype=int)}, {})
    assert not ok and "floating point" in message


def test_samplers_use_only_their_generator(solution):
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    for unit in SAMPLER_UNITS:
        first = solution[unit]((30, 20), np.random.default_rng(5))
        again = solution[unit]((30, 20), np.random.default_rng(5))
        assert np.array_equal(first, again) and first.dtype == np.float64 and first.shape == (30, 20)
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("call, word", [
    (lambda s: s["gaussian_init"]((3, 3), np.random.default_rng(0), stddev=0.0), "stddev"),
    (lambda s: s["truncated_normal"]((3, 3), np.random.default_rng(0), stddev=-1.0), "stddev"),
    (lambda s: s["uniform_init"]((3, 3), np.random.default_rng(0), minval=1.0, maxval=0.0), "minval"),
    (lambda s: s["xavier_uniform"]((3, -3), np.random.default_rng(0)), "shape"),
    (lambda s: s["activation_stats"]("glorot", 3, 8, "tanh", np.random.default_rng(0)), "init"),
    (lambda s: s["activation_stats"]("he_normal", 0, 8, "tanh", np.random.default_rng(0)), "depth"),
])
def test_bad_arguments_raise_value_error_naming_them(solution, call, word):
    with pytest.raises(ValueError, match=word):
        call(solution)


# ----------------------------------------------------------------------------- the depth experiment

@pytest.fixture(scope="module")
def stats_cases():
    rows = []
    for case in ASSIGNMENT.cases:
        if case.unit == "activation_stats" and RUNS not in case.private:
            inputs = case.make_inputs(TEST_SECRET)
            rows.append((case, inputs, case.reference(**inputs)))
    return rows


def _stats(solution, inputs, seed, init=None, activation=None):
    return solution["activation_stats"](init or inputs["init"], inputs["depth"], inputs["width"],
                                        activation or inputs["activation"], np.random.default_rng(seed),
                                        inputs["batch_size"])


def test_solution_activation_stats_match_keras(solution, stats_cases):
    for case, inputs, expected in stats_cases:
        for seed in (1, 2):
            means, stds = _stats(solution, inputs, seed)
            ok, message = case.judge(inputs, expected, {"means": means, "stds": stds}, {})
            assert ok, f"{case.id}: {message}"


def test_activation_stats_show_vanishing_and_exploding(stats_cases):
    """The Keras reference itself: a fixed small scale vanishes under tanh, He explodes without an activation."""
    by_name = {case.name: expected for case, _, expected in stats_cases}
    vanishing = by_name["gaussian_init, tanh, 10 layers of 256 (vanishing)"]["stds"]
    exploding = by_name["he_normal, linear, 8 layers of 128 (exploding)"]["stds"]
    stable = by_name["he_normal, relu, 10 layers of 256 (stable)"]["stds"]
    assert vanishing[-1] < 0.15 * vanishing[0]
    assert exploding[-1] > 8 * exploding[0]
    assert 0.5 < stable[-1] / stable[0] < 2


def test_wrong_activation_stats_are_caught(solution, stats_cases):
    wrong_init = {"gaussian_init": "xavier_normal", "he_normal": "xavier_normal", "xavier_uniform": "gaussian_init"}
    for case, inputs, expected in stats_cases:
        means, stds = _stats(solution, inputs, 3, init=wrong_init.get(inputs["init"], "gaussian_init"))
        assert not case.judge(inputs, expected, {"means": means, "stds": stds}, {})[0], case.id
        means, stds = _stats(solution, inputs, 3, activation="linear" if inputs["activation"] != "linear" else "tanh")
        assert not case.judge(inputs, expected, {"means": means, "stds": stds}, {})[0], case.id


# ----------------------------------------------------------------------------- end to end

def test_grading_names_an_untruncated_xavier_normal(grader, tmp_path):
    """A submission with the textbook (untruncated) Glorot normal loses exactly those cases, with the mistake named."""
    def edit(notebook):
        for cell in notebook["cells"]:
            source = "".join(cell["source"])
            if "def xavier_normal" in source:
                source = source.replace("return truncated_normal(shape, rng, 0.0, stddev)",
                                        "return rng.normal(0.0, stddev * 0.87962566103423978, size=tuple(shape))", 1)
                cell["source"] = source
    path = write_variant(tmp_path, SOLUTIONS / "02_initialization.ipynb", edit)
    assert "rng.normal(0.0, stddev * 0.8796" in json.dumps(json.loads(path.read_text()))
    # the cases judged by distribution (an empty kernel draws nothing: any sampler that returns one passes it)
    subset = Assignment("02_initialization", "subset", tuple(c for c in _sampler_cases() if c.unit == "xavier_normal"))
    result = grader.grade(path, subset)
    assert result.score == 0
    for row in result.results:
        assert "untruncated normal with stddev sqrt(2 / (fan_in + fan_out)) (the textbook form)" in \
            row.verdict.message, row.verdict.message


# ----------------------------------------------------------------------------- cases the mutation audit asked for (issue 28)

def _public_verdicts(namespace, unit, source=""):
    """``unit``'s public verdicts by case name, run as ``check()`` runs them, with ``source`` executed over ``namespace``."""
    from dlcourse.autograder.engine.runner import CaseRunner, in_process

    changed = dict(namespace)
    exec(compile(source, "cell 99", "exec"), changed)
    runner = CaseRunner(in_process(changed), lambda case, inputs: case.reference(**inputs))
    return {case.name: runner.verdict(case) for case in ASSIGNMENT.public_cases() if case.unit == unit}


def test_the_new_public_cases_pass_on_the_solution(solution):
    names = {"compute_fans": ["a kernel with a zero axis (3, 0, 4)", "shapes with a negative or a fractional axis are rejected, others accepted"],
             "gaussian_init": ["a negative shape or a stddev of 0 or below is rejected, others accepted"],
             "truncated_normal": ["a small kernel (6, 8)"],
             "he_normal": ["an empty kernel (0, 0): fans of 0", "dense kernel (1, 16384): fan_in 1"],
             "activation_stats": ["an unknown init name or a width of 0 or below is rejected, others accepted"]}
    for unit, wanted in names.items():
        verdicts = _public_verdicts(solution, unit)
        for name in wanted:
            assert verdicts[name].passed, (unit, name, verdicts[name].message)


def test_a_sampler_without_its_checks_fails_the_argument_case(solution):
    """numpy's own "negative dimensions are not allowed" names no argument; stddev 0 draws zeros without a word.
    The calls are drawn anew at each grading, so either one can be the first the message names."""
    source = "def gaussian_init(shape, rng, mean=0.0, stddev=0.05):\n    return rng.normal(mean, stddev, size=tuple(shape))\n"
    verdict = _public_verdicts(solution, "gaussian_init", source)["a negative shape or a stddev of 0 or below is rejected, others accepted"]
    assert not verdict.passed, verdict.message
    assert ("raise ValueError with a message that names shape" in verdict.message
            or "was accepted; raise ValueError when stddev is invalid" in verdict.message), verdict.message


def test_a_first_pass_cut_wider_than_two_stddev_is_caught(solution):
    """Redrawing at first only what lies beyond 3 stddev leaves values between 2 and 3 stddev when none lies beyond
    3: large kernels always have one beyond 3 (the loop then fixes everything), the small case's draw has none."""
    source = ("import numpy as np\ndef truncated_normal(shape, rng, mean=0.0, stddev=0.05):\n"
              "    compute_fans(shape)\n    if not stddev > 0:\n        raise ValueError(f'Expected stddev > 0. Received stddev={stddev!r}.')\n"
              "    z = rng.standard_normal(size=tuple(shape))\n    outside = np.abs(z) > 3.0\n"
              "    while outside.any():\n        z[outside] = rng.standard_normal(size=int(outside.sum()))\n"
              "        outside = np.abs(z) > 2.0\n    return mean + stddev * z\n")
    verdicts = _public_verdicts(solution, "truncated_normal", source)
    failing = [name for name, verdict in verdicts.items() if not verdict.passed]
    assert failing == ["a small kernel (6, 8)"], failing
    assert "outside" in verdicts["a small kernel (6, 8)"].message


def test_he_normal_dividing_by_zero_or_by_max_two_fails(solution):
    zero = ("import numpy as np\ndef he_normal(shape, rng):\n    fan_in, _ = compute_fans(shape)\n"
            "    return truncated_normal(shape, rng, 0.0, np.sqrt(2.0 / float(fan_in)) / 0.87962566103423978)\n")
    assert not _public_verdicts(solution, "he_normal", zero)["an empty kernel (0, 0): fans of 0"].passed
    two = ("import numpy as np\ndef he_normal(shape, rng):\n    fan_in, _ = compute_fans(shape)\n"
           "    return truncated_normal(shape, rng, 0.0, np.sqrt(2.0 / max(2.0, fan_in)) / 0.87962566103423978)\n")
    verdict = _public_verdicts(solution, "he_normal", two)["dense kernel (1, 16384): fan_in 1"]
    assert not verdict.passed and "standard deviation" in verdict.message, verdict.message


def test_activation_stats_must_accept_a_single_layer(solution):
    source = ("_stats = activation_stats\ndef activation_stats(init, depth, width, activation, rng, batch_size=256):\n"
              "    if depth < 2:\n        raise ValueError(f'Expected depth >= 2. Received depth={depth}.')\n"
              "    return _stats(init, depth, width, activation, rng, batch_size)\n")
    name = "an unknown init name or a width of 0 or below is rejected, others accepted"
    verdict = _public_verdicts(solution, "activation_stats", source)[name]
    assert not verdict.passed and "depth=1, width=" in verdict.message and "raised ValueError" in verdict.message, \
        verdict.message


def test_a_small_kernel_is_not_judged_by_the_z_tests():
    """On 48 values the normal approximation of the variance's z-test fails a correct truncated normal about
    1.5e-5 of the time (30 of 2 million draws): this draw is one of those, and the small case passes it."""
    from scipy import stats

    case = next(c for c in ASSIGNMENT.cases if c.name == "a small kernel (6, 8)")
    inputs = case.make_inputs(None)
    expected = case.reference(**inputs)
    dist = distributions.Distribution.of(expected)
    z = stats.truncnorm(-2, 2).rvs(size=(1000, 48), random_state=np.random.default_rng(246))[670]
    assert distributions.sample_problems(z * dist.scale + dist.loc, dist)  # the z-test rejects it
    assert not cases._small_sample_problems(z.reshape(6, 8) * dist.scale + dist.loc, dist)
    ok, message = cases._sampler_judge("truncated_normal")(inputs, expected, {"w": z.reshape(6, 8) * dist.scale}, {})
    assert ok, message
    ok, message = cases._sampler_judge("truncated_normal")(inputs, expected, {"w": np.full((6, 8), 0.15)}, {})
    assert not ok and "outside" in message
