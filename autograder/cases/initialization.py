"""Grading cases of assignment 02 (initialization), against ``dlcourse.references.initialization``.

Fans are compared exactly. A sampler cannot be compared draw by draw (Keras's random stream is not
NumPy's), so its sample is tested against the distribution the matching ``keras.initializers``
object draws from: every value inside Keras's bounds, then the sample mean, the sample variance and
a Kolmogorov-Smirnov test (``dlcourse.autograder.cases.distributions``). When a sample fails, it is tested the same way
against each known mistake's distribution, and the message names the first one it fits. Samplers
and ``activation_stats`` are first probed for using their ``rng`` and nothing else
(``dlcourse.autograder.engine.probes.rng_probed``): a fixed seed, a stored sample or numpy's global state
passes every distribution test, but not that.

``benchmarks/initializer_detection.py`` measures how often a correct sampler fails (over hundreds of
seeds) and how often each mistake is caught and named.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from dlcourse.autograder.cases.distributions import Distribution, flat_sorted, kolmogorov_smirnov, sample_problems
from dlcourse.autograder.cases.rejections import mixed, rejections_case
from dlcourse.autograder.engine.case import Assignment, Case, Mistake
from dlcourse.autograder.engine.probes import rng_probed
from dlcourse.references import initialization as ref

TRUNCATION_STD = ref.TRUNCATION_STD  # std of a unit normal cut at +-2 (Keras's constant)


# ----------------------------------------------------------------------------- known mistakes

@dataclass(frozen=True)
class SamplerMistake:
    """A wrong sampler, by the distribution it draws from.

    ``distribution(shape, inputs, expected)`` returns that distribution, or None where the mistake
    makes no difference for this case (a square kernel, a dense shape for a conv-only mistake).
    """

    name: str
    kind: str  # the category: "fan_in for fan_avg", "missing sqrt", "normal for truncated", ...
    distribution: Callable[[tuple, dict, dict], Distribution | None]


def _conv_fans(shape) -> dict[str, tuple[int, int]]:
    """Wrong (fan_in, fan_out) of a kernel (..., in, out) of 3 or more axes."""
    if len(shape) < 3:
        return {}
    receptive = int(np.prod(shape[:-2]))
    return {
        "the receptive field is left out of the fans: fan_in = in, fan_out = out; Keras multiplies both "
        "by the kernel's spatial size (kh * kw for a conv2d kernel)": (shape[-2], shape[-1]),
        "the dense rule was applied to the first two axes (fan_in = shape[0], fan_out = shape[1]); for a "
        "conv kernel (..., in, out) Keras uses fan_in = receptive field * in, fan_out = receptive field * out":
            (shape[0], shape[1]),
        "fan_out = out without the receptive field; Keras uses receptive field * out":
            (receptive * shape[-2], shape[-1]),
        "PyTorch's kernel layout (out, in, kh, kw) was assumed; Keras kernels are (kh, kw, in, out)":
            (shape[1] * int(np.prod(shape[2:])), shape[0] * int(np.prod(shape[2:]))),
    }


def _variance_scaling(scale: float, mode: str, family: str):
    """Keras's VarianceScaling distribution for given fans, optionally distorted, as a function."""
    def make(fan_in, fan_out, root=True, truncate=True, correct=True, limit_factor=3.0):
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / max(1.0, fan)
        spread = math.sqrt(variance) if root else variance
        if family == "uniform":  # limit sqrt(3 variance), or 3 variance without the root
            return Distribution("uniform", 0.0, math.sqrt(limit_factor * variance) if root else limit_factor * variance)
        if not truncate:
            return Distribution("normal", 0.0, spread / (TRUNCATION_STD if correct else 1.0))
        return Distribution("truncated_normal", 0.0, spread / (TRUNCATION_STD if correct else 1.0))
    return make


def _fans(expected):
    return int(expected["fan_in"]), int(expected["fan_out"])


def _unless_same(make):
    """Wrap a mistake so that it is skipped where it gives the correct distribution."""
    def distribution(shape, inputs, expected):
        wrong = make(shape, inputs, expected)
        if wrong is None or wrong == Distribution.of(expected):
            return None
        return wrong
    return distribution


def _variance_scaling_mistakes(scale: float, mode: str, family: str) -> tuple[SamplerMistake, ...]:
    keras_form = _variance_scaling(scale, mode, family)
    numerator = scale * (2 if mode == "fan_avg" else 1)
    denominator = "(fan_in + fan_out)" if mode == "fan_avg" else "fan_in"
    variance = f"{numerator:g} / {denominator}"  # "2 / (fan_in + fan_out)", "2 / fan_in"
    limit = f"sqrt({3 * numerator:g} / {denominator})"
    mistakes = []
    if mode == "fan_avg":
        mistakes.append(SamplerMistake(
            "fan_in was used where the average of the fans is meant (Glorot/Xavier uses (fan_in + fan_out) / 2)",
            "fan_in for fan_avg", _unless_same(lambda s, i, e: _variance_scaling(scale, "fan_in", family)(*_fans(e)))))
        mistakes.append(SamplerMistake(
            "fan_out was used where the average of the fans is meant", "fan_out for fan_avg",
            _unless_same(lambda s, i, e: _variance_scaling(scale, "fan_out", family)(*_fans(e)))))
        mistakes.append(SamplerMistake(
            f"He's variance 2 / fan_in (for uniform, the limit sqrt(6 / fan_in)); Glorot's is {variance}",
            "fan_in for fan_avg", _unless_same(lambda s, i, e: _variance_scaling(2.0, "fan_in", family)(*_fans(e)))))
    else:
        mistakes.append(SamplerMistake(
            "the average of the fans was used; He initialization uses fan_in only", "fan_avg for fan_in",
            _unless_same(lambda s, i, e: _variance_scaling(scale, "fan_avg", family)(*_fans(e)))))
        mistakes.append(SamplerMistake(
            "the variance is 1 / fan_in (LeCun); He initialization uses 2 / fan_in", "scale 1 for 2",
            _unless_same(lambda s, i, e: _variance_scaling(1.0, mode, family)(*_fans(e)))))
    if family == "uniform":
        mistakes.append(SamplerMistake(
            f"the square root is missing: the limit is {limit}, not {3 * numerator:g} / {denominator}", "missing sqrt",
            _unless_same(lambda s, i, e: keras_form(*_fans(e), root=False))))
        mistakes.append(SamplerMistake(
            f"the standard deviation sqrt({variance}) was used as the limit; a uniform on [-limit, limit) has "
            f"std limit / sqrt(3), so the limit is {limit}", "std for limit",
            _unless_same(lambda s, i, e: keras_form(*_fans(e), limit_factor=1.0))))
    else:
        mistakes.append(SamplerMistake(
            f"the square root is missing: the stddev is sqrt({variance}) / 0.8796, not ({variance}) / 0.8796",
            "missing sqrt", _unless_same(lambda s, i, e: keras_form(*_fans(e), root=False))))
        mistakes.append(SamplerMistake(
            f"an untruncated normal with stddev sqrt({variance}) (the textbook form); Keras draws a truncated "
            f"normal (cut at 2 stddev) with the stddev divided by 0.8796 so that the variance stays {variance}",
            "normal for truncated", _unless_same(lambda s, i, e: keras_form(*_fans(e), truncate=False, correct=False))))
        mistakes.append(SamplerMistake(
            f"an untruncated normal with Keras's stddev sqrt({variance}) / 0.8796; Keras cuts it at 2 stddev",
            "normal for truncated", _unless_same(lambda s, i, e: keras_form(*_fans(e), truncate=False))))
        mistakes.append(SamplerMistake(
            f"truncated at 2 stddev without the correction: Keras divides the stddev sqrt({variance}) by "
            "0.87962566103423978, the std of a unit normal cut at +-2", "uncorrected truncation",
            _unless_same(lambda s, i, e: keras_form(*_fans(e), correct=False))))
    for index in range(4):
        def wrong_conv(s, i, e, index=index):
            fans = list(_conv_fans(tuple(s)).values())
            return keras_form(*fans[index]) if fans else None
        name = list(_conv_fans((3, 3, 1, 1)).keys())[index]
        mistakes.append(SamplerMistake(f"the wrong fans for a conv kernel: {name}", "wrong conv fans",
                                       _unless_same(wrong_conv)))
    return tuple(mistakes)


SAMPLER_MISTAKES: dict[str, tuple[SamplerMistake, ...]] = {
    "gaussian_init": (
        SamplerMistake("the variance stddev**2 was passed where the standard deviation is meant "
                       "(rng.normal takes the stddev)", "variance for std",
                       _unless_same(lambda s, i, e: Distribution("normal", float(e["loc"]), float(e["scale"]) ** 2))),
        SamplerMistake("the mean is ignored", "mean ignored",
                       _unless_same(lambda s, i, e: Distribution("normal", 0.0, float(e["scale"])))),
        SamplerMistake("a truncated normal; keras.initializers.RandomNormal is not truncated", "truncated for normal",
                       _unless_same(lambda s, i, e: Distribution("truncated_normal", float(e["loc"]),
                                                                 float(e["scale"])))),
    ),
    "uniform_init": (
        SamplerMistake("the interval is [-maxval, maxval]; it is [minval, maxval)", "symmetric interval",
                       _unless_same(lambda s, i, e: Distribution("uniform", 0.0, float(e["high"]))
                                    if float(e["high"]) > 0 else None)),
        SamplerMistake("a normal distribution; RandomUniform draws uniformly from [minval, maxval)",
                       "normal for uniform",
                       _unless_same(lambda s, i, e: Distribution("normal", float(e["loc"]), float(e["scale"])))),
    ),
    "truncated_normal": (
        SamplerMistake("an untruncated normal: values beyond 2 stddev from the mean must be redrawn",
                       "normal for truncated",
                       _unless_same(lambda s, i, e: Distribution("normal", float(e["loc"]), float(e["scale"])))),
        SamplerMistake("the stddev was divided by 0.8796: keras.initializers.TruncatedNormal uses stddev as given "
                       "(only the variance-scaling initializers correct it)", "corrected stddev",
                       _unless_same(lambda s, i, e: Distribution("truncated_normal", float(e["loc"]),
                                                                 float(e["scale"]) / TRUNCATION_STD))),
    ),
    "xavier_uniform": _variance_scaling_mistakes(1.0, "fan_avg", "uniform"),
    "xavier_normal": _variance_scaling_mistakes(1.0, "fan_avg", "truncated_normal"),
    "he_normal": _variance_scaling_mistakes(2.0, "fan_in", "truncated_normal"),
}

SAMPLER_HINTS = {
    "gaussian_init": "rng.normal(mean, stddev, size=shape): Keras's RandomNormal is not truncated",
    "uniform_init": "rng.uniform(minval, maxval, size=shape)",
    "truncated_normal": ("draw rng.normal(mean, stddev, size=shape), then redraw every value with |value - mean| > "
                         "2 stddev until none is left (do not clip: clipping piles values up at the bounds)"),
    "xavier_uniform": ("limit = sqrt(6 / (fan_in + fan_out)) with Keras's fans (compute_fans), then uniform on "
                       "[-limit, limit)"),
    "xavier_normal": ("stddev = sqrt(2 / (fan_in + fan_out)) / 0.87962566103423978, normal redrawn wherever "
                      "|value| > 2 stddev"),
    "he_normal": "stddev = sqrt(2 / fan_in) / 0.87962566103423978, normal redrawn wherever |value| > 2 stddev",
}


def named_mistake(unit: str, sample: np.ndarray, shape, inputs: dict, expected: dict) -> SamplerMistake | None:
    """The first known mistake of ``unit`` whose distribution ``sample`` fits."""
    sample = flat_sorted(sample)  # once for all candidates
    candidates = [(mistake, mistake.distribution(tuple(shape), inputs, expected)) for mistake in SAMPLER_MISTAKES[unit]]
    # Bounded distributions first: a truncated sample also fits an untruncated normal of the same
    # variance (only the bounds tell them apart), never the other way round.
    candidates.sort(key=lambda pair: pair[1] is not None and pair[1].family == "normal")
    for mistake, wrong in candidates:
        if wrong is not None and not sample_problems(sample, wrong, stop_early=True):
            twins = [other.name for other, same in candidates if other is not mistake and same == wrong]
            if twins:  # the same distribution on this shape: name them all
                names = "; or ".join([mistake.name, *twins])
                return dataclasses.replace(mistake, name=f"{names} (this case's shape cannot tell these apart)")
            return mistake
    return None


# A kernel too small for the z-tests of the mean and the variance (their normal approximation fails a correct
# sampler of 48 values about 1.5e-5 of the time) is judged by its bounds, which a correct sampler never leaves,
# and by the Kolmogorov-Smirnov test with its exact p-value at SMALL_ALPHA (so it fails a correct sampler with
# probability SMALL_ALPHA, whatever the size).
SMALL_KERNEL = 1000
SMALL_ALPHA = 1e-7


def _small_sample_problems(sample: np.ndarray, dist: Distribution) -> list[str]:
    values = flat_sorted(sample)
    low, high = dist.bounds
    margin = 1e-6 * dist.scale
    outside = int(np.sum(values < low - margin) + np.sum(values > high + margin))
    problems = []
    if outside:
        problems.append(f"{outside} of {values.size} values lie outside [{low:.6g}, {high:.6g}] "
                        f"(min {values[0]:.6g}, max {values[-1]:.6g})")
    distance, pvalue = kolmogorov_smirnov(values, dist)
    if pvalue < SMALL_ALPHA:
        problems.append(f"the Kolmogorov-Smirnov distance to that distribution is {distance:.3g} (p = {pvalue:.2g})")
    return problems


def _sampler_judge(unit: str):
    def judge(inputs, expected, received, timing):
        shape = tuple(int(dim) for dim in inputs["shape"])
        sample = received["w"]
        if not isinstance(sample, np.ndarray):
            return False, f"expected a NumPy array of shape {shape}, received {type(sample).__name__}"
        if sample.shape != shape:
            return False, f"wrong shape: expected {shape}, received {sample.shape}"
        if sample.dtype.kind != "f":
            return False, f"expected floating point values, received dtype {sample.dtype}"
        if not np.isfinite(sample).all():
            return False, "the sample contains NaN or inf"
        dist = Distribution.of(expected)
        small = sample.size < SMALL_KERNEL
        problems = _small_sample_problems(sample, dist) if small else sample_problems(sample, dist)
        keras_name = ref.KERAS_NAMES[unit]
        if not problems:
            return True, f"fits keras.initializers.{keras_name}"
        message = (f"the sample does not fit keras.initializers.{keras_name} for shape {shape} "
                   f"(fans {int(expected['fan_in'])}, {int(expected['fan_out'])}): a {dist.describe()}.\n  "
                   + "\n  ".join(problems))
        mistake = None if small else named_mistake(unit, sample, shape, inputs, expected)  # too few values to name one
        if mistake is not None:
            return False, message + f"\nThis matches a known mistake: {mistake.name}."
        return False, message + f"\nHint: {SAMPLER_HINTS[unit]}"
    return judge


# ----------------------------------------------------------------------------- compute_fans

def _shape_inputs(shape):
    return lambda rng: {"shape": tuple(shape)}


def _good_shape(rng, smallest=1):
    """A shape of 1-4 axes, each an int from ``smallest`` to 6 (valid for every unit of this notebook)."""
    return tuple(int(dim) for dim in rng.integers(smallest, 7, size=int(rng.integers(1, 5))))


def _with_zero(rng):
    """A valid shape of 1-4 axes with one axis of 0 (``compute_fans``'s docstring: non-negative ints)."""
    dims = list(_good_shape(rng))
    dims[int(rng.integers(len(dims)))] = 0
    return tuple(dims)


def _bad_shape(rng, kind):
    """A shape of 1-4 positive axes but one: ``negative`` (-1, the boundary), ``more negative`` (-2 to -4), or
    ``fractional`` (an axis plus 0.5)."""
    dims = list(_good_shape(rng))
    at = int(rng.integers(len(dims)))
    dims[at] = {"negative": -1, "more negative": -int(rng.integers(2, 5))}.get(kind, dims[at] + 0.5)
    return tuple(dims)


def _fans_checks(rng):
    """Bad: an axis of -1, of -2 to -4, a fractional axis; good: an axis of 0, positive axes."""
    return mixed(rng, [({"shape": _bad_shape(rng, "negative")}, "shape"), ({"shape": _bad_shape(rng, "more negative")}, "shape"),
                       ({"shape": _bad_shape(rng, "fractional")}, "shape")],
                 [{"shape": _with_zero(rng)}, {"shape": _good_shape(rng)}])


def _stddev_checks(rng):
    """Bad: a negative shape, a stddev of 0, a negative stddev; good: a positive stddev with any mean, a positive shape."""
    return mixed(rng, [({"shape": _bad_shape(rng, "negative")}, "shape"), ({"stddev": 0.0}, "stddev"),
                       ({"stddev": -float(rng.uniform(0.01, 1.0))}, "stddev")],
                 [{"mean": float(rng.normal()), "stddev": float(rng.uniform(0.01, 2.0))}, {"shape": _good_shape(rng)}])


def _interval_checks(rng):
    """Bad: a negative shape, minval = maxval, minval > maxval; good: minval < maxval, a positive shape."""
    low, high = sorted(float(v) for v in rng.normal(0.0, 1.0, 2))
    return mixed(rng, [({"shape": _bad_shape(rng, "negative")}, "shape"), ({"minval": low, "maxval": low}, "minval"),
                       ({"minval": high, "maxval": low}, "minval")],
                 [{"minval": low, "maxval": high}, {"shape": _good_shape(rng)}])


NOT_SAMPLERS = ("lecun_normal", "glorot_uniform", "he_uniform", "orthogonal", "zeros")  # names this notebook lacks
SAMPLER_NAMES = ("gaussian_init", "uniform_init", "xavier_uniform", "xavier_normal", "he_normal")  # the notebook's


def _stats_checks(rng):
    """Bad: an init name that is not one of the notebook's samplers, a width of 0, a negative width; good: each of
    the notebook's sampler names, a single layer and 2-3 layers, with a width of 1-16."""
    return mixed(rng, [({"init": str(rng.choice(NOT_SAMPLERS))}, "init"), ({"width": 0}, "width"),
                       ({"width": -int(rng.integers(1, 4))}, "width")],
                 [*({"init": name} for name in SAMPLER_NAMES), {"depth": 1, "width": int(rng.integers(1, 17))},
                  {"depth": int(rng.integers(2, 4)), "width": int(rng.integers(1, 17))}])


def _random_conv_shape(rng):
    spatial = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    return {"shape": spatial + (int(rng.integers(1, 65)), int(rng.integers(1, 129)))}


def _wrong_fans(index):
    def outputs(inputs, expected):
        fans = list(_conv_fans(tuple(inputs["shape"])).values())
        if not fans:
            return {"fan_in": -1, "fan_out": -1}  # matches nothing
        return {"fan_in": fans[index][0], "fan_out": fans[index][1]}
    return outputs


FAN_MISTAKES = tuple(Mistake(name, _wrong_fans(index)) for index, name in enumerate(_conv_fans((3, 3, 1, 1))))
FANS_HINT = ("a dense kernel (in, out) has fan_in = in, fan_out = out; a conv kernel (..., in, out) multiplies both "
             "by the receptive field (the product of the leading axes); a vector (n,) has n and n; a scalar 1 and 1")

FANS = [
    Case("compute_fans", "dense kernel (256, 128)", _shape_inputs((256, 128)), ref.compute_fans, ("fan_in", "fan_out"),
         rtol=0.0, atol=0.0, hint=FANS_HINT, points=0.5),
    Case("compute_fans", "conv2d kernel (3, 3, 32, 64)", _shape_inputs((3, 3, 32, 64)), ref.compute_fans,
         ("fan_in", "fan_out"), rtol=0.0, atol=0.0, mistakes=FAN_MISTAKES, hint=FANS_HINT),
    Case("compute_fans", "conv1d kernel (5, 8, 16) and bias (10,)", _shape_inputs((5, 8, 16)), ref.compute_fans,
         ("fan_in", "fan_out"), rtol=0.0, atol=0.0, mistakes=FAN_MISTAKES, hint=FANS_HINT),
    Case("compute_fans", "vector (10,)", _shape_inputs((10,)), ref.compute_fans, ("fan_in", "fan_out"),
         rtol=0.0, atol=0.0, hint=FANS_HINT, points=0.5),
    # a zero-size axis is a non-negative int like any other: Keras's fans are (0, 3 * 4)
    Case("compute_fans", "a kernel with a zero axis (3, 0, 4)", _shape_inputs((3, 0, 4)), ref.compute_fans,
         ("fan_in", "fan_out"), rtol=0.0, atol=0.0, hint=FANS_HINT, points=0.5),
    rejections_case("compute_fans", "shapes with a negative or a fractional axis are rejected, others accepted",
                    _shape_inputs((3, 4)), _fans_checks),
    Case("compute_fans", "random conv kernel", _random_conv_shape, ref.compute_fans, ("fan_in", "fan_out"),
         rtol=0.0, atol=0.0, hidden=True, points=0.5),
    Case("compute_fans", "a scalar's shape ()", _shape_inputs(()), ref.compute_fans, ("fan_in", "fan_out"),
         rtol=0.0, atol=0.0, hidden=True, points=0.5),
]


# ----------------------------------------------------------------------------- samplers

def _sampler_inputs(shape, **config):
    def make(rng):
        return {"shape": tuple(shape), "rng": {"__rng__": int(rng.integers(2**63))}, **config}
    return make


def _random_dense_shape(rng):
    """A dense kernel of 18k-100k values whose fans differ by a factor of 2-4 (so fan mistakes show)."""
    small = int(rng.integers(96, 161))
    large = small * int(rng.choice([2, 3, 4]))
    return (small, large) if rng.random() < 0.5 else (large, small)


def _random_kernel_shape(rng):
    """A conv2d kernel (kh, kw, in, out) of at least 8k values, kh * kw > 1, in != out."""
    kh, kw = [(3, 3), (5, 5), (3, 5), (2, 2)][int(rng.integers(4))]
    channels = int(rng.choice([16, 24, 32, 48]))
    pair = (channels, 2 * channels) if rng.random() < 0.5 else (2 * channels, channels)
    return (kh, kw) + pair


def _random_sampler_inputs(shape_maker, config_maker=None):
    def make(rng):
        inputs = {"shape": shape_maker(rng), "rng": {"__rng__": int(rng.integers(2**63))}}
        if config_maker is not None:
            inputs.update(config_maker(rng))
        return inputs
    return make


def _sampler_case(unit, name, inputs, hidden=False, points=1.0):
    config_keys = {"gaussian_init": ("mean", "stddev"), "truncated_normal": ("mean", "stddev"),
                   "uniform_init": ("minval", "maxval")}.get(unit, ())

    def reference(shape, rng, **config):
        return ref.sampler_reference(unit, shape, **{key: config[key] for key in config_keys if key in config})
    return rng_probed(Case(unit, name, inputs, reference, ("w",), hidden=hidden, points=points,
                           judge=_sampler_judge(unit)), noun="kernel")


SAMPLERS = [
    _sampler_case("gaussian_init", "defaults, shape (256, 128)", _sampler_inputs((256, 128))),
    _sampler_case("gaussian_init", "mean 0.5, stddev 2, shape (200, 150)",
                  _sampler_inputs((200, 150), mean=0.5, stddev=2.0)),
    _sampler_case("gaussian_init", "random mean and stddev", _random_sampler_inputs(
        _random_dense_shape, lambda rng: {"mean": float(rng.normal()), "stddev": float(rng.uniform(0.1, 3.0))}),
        hidden=True, points=0.5),
    rejections_case("gaussian_init", "a negative shape or a stddev of 0 or below is rejected, others accepted",
                    _sampler_inputs((4, 5), mean=0.0, stddev=0.05), _stddev_checks),
    _sampler_case("uniform_init", "defaults, shape (256, 128)", _sampler_inputs((256, 128))),
    _sampler_case("uniform_init", "minval -1, maxval 3, shape (200, 150)",
                  _sampler_inputs((200, 150), minval=-1.0, maxval=3.0)),
    _sampler_case("uniform_init", "random interval", _random_sampler_inputs(
        _random_dense_shape,
        lambda rng: dict(zip(("minval", "maxval"), sorted(float(v) for v in rng.normal(0, 2, 2))))),
        hidden=True, points=0.5),
    rejections_case("uniform_init", "a negative shape or minval >= maxval is rejected, others accepted",
                    _sampler_inputs((4, 5), minval=-0.05, maxval=0.05), _interval_checks),
    _sampler_case("truncated_normal", "defaults, shape (256, 128)", _sampler_inputs((256, 128))),
    _sampler_case("truncated_normal", "mean -1, stddev 0.5, shape (200, 150)",
                  _sampler_inputs((200, 150), mean=-1.0, stddev=0.5), points=0.5),
    _sampler_case("truncated_normal", "random mean and stddev", _random_sampler_inputs(
        _random_dense_shape, lambda rng: {"mean": float(rng.normal()), "stddev": float(rng.uniform(0.1, 3.0))}),
        hidden=True, points=0.5),
    # 48 values: every one must be redrawn until it lies within 2 stddev. The draw this case's seed gives has
    # values beyond 2 stddev and none beyond 3 (so does about 80% of draws this size): a sampler whose first
    # pass redraws only what lies beyond some wider cut returns values outside the bounds. Judged by its bounds
    # and the exact Kolmogorov-Smirnov test alone (SMALL_KERNEL): a correct sampler fails it with probability 1e-7.
    _sampler_case("truncated_normal", "a small kernel (6, 8)", _sampler_inputs((6, 8)), points=0.5),
    rejections_case("truncated_normal", "a negative shape or a stddev of 0 or below is rejected, others accepted",
                    _sampler_inputs((4, 5), mean=0.0, stddev=0.05), _stddev_checks),
]
def _empty_kernel_case(unit: str, shape: tuple) -> Case:
    """A kernel with no values and zero fans: Keras's variance scale / max(1, fan) keeps it finite, and the
    initializer returns an empty array (compared with Keras's own, drawn with seed 0). Not probed for its rng:
    an empty kernel draws nothing."""
    def reference(shape, rng):
        return {"w": ref.keras_sample(ref.KERAS_NAMES[unit], shape, seed=0)}
    return Case(unit, f"an empty kernel {shape}: fans of 0", _sampler_inputs(shape), reference, ("w",), points=0.5,
                hint="Keras divides the variance scale by max(1, fan): a fan of 0 must not divide by zero")


for _unit in ("xavier_uniform", "xavier_normal", "he_normal"):
    SAMPLERS += [
        _sampler_case(_unit, "dense kernel (256, 128)", _sampler_inputs((256, 128))),
        _sampler_case(_unit, "conv2d kernel (3, 3, 32, 64)", _sampler_inputs((3, 3, 32, 64))),
        _sampler_case(_unit, "random dense kernel", _random_sampler_inputs(_random_dense_shape), hidden=True,
                      points=0.5),
        _sampler_case(_unit, "random conv2d kernel", _random_sampler_inputs(_random_kernel_shape), hidden=True,
                      points=0.5 if _unit == "he_normal" else 1.0),
        _empty_kernel_case(_unit, (0, 0)),
    ]
    if _unit == "he_normal":  # a fan_in of 1, where max(1, fan_in) is 1 and the stddev is sqrt(2) / 0.8796
        SAMPLERS.append(_sampler_case(_unit, "dense kernel (1, 16384): fan_in 1", _sampler_inputs((1, 16384)),
                                      points=0.5))


# ----------------------------------------------------------------------------- the depth experiment

# How far a student's per-layer statistic may be from the reference, in units of its spread across
# the reference's own runs (sd * sqrt(1 + 1/repeats), since both are random); the floors keep a small
# spread measured on few runs from making the test brittle.
STATS_SPREADS = 6.0
LOG_STD_FLOOR = 0.1  # the std may always be off by 10%
RATIO_FLOOR = 0.05  # and the mean by 5% of the std


def _stats_inputs(init, depth, width, activation, batch_size=128):
    def make(rng):
        return {"init": init, "depth": depth, "width": width, "activation": activation,
                "rng": {"__rng__": int(rng.integers(2**63))}, "batch_size": batch_size}
    return make


def _random_stats(rng):
    init, activation = [("gaussian_init", "tanh"), ("xavier_uniform", "tanh"), ("xavier_normal", "sigmoid"),
                        ("he_normal", "relu"), ("uniform_init", "relu"), ("xavier_normal", "relu"),
                        ("he_normal", "linear")][int(rng.integers(7))]
    return _stats_inputs(init, int(rng.integers(4, 11)), int(rng.choice([128, 192, 256])), activation,
                         int(rng.choice([64, 128])))(rng)


def _stats_tolerances(expected: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer tolerances for log(std) and mean / std: the running maximum of the measured spread
    (spreads grow with depth; the maximum smooths the noise of a spread measured on few runs)."""
    repeats = len(np.asarray(expected["runs_stds"]))
    factor = STATS_SPREADS * math.sqrt(1 + 1 / repeats)
    log_tol = np.maximum(factor * np.maximum.accumulate(np.asarray(expected["log_std_spread"])), LOG_STD_FLOOR)
    ratio_tol = np.maximum(factor * np.maximum.accumulate(np.asarray(expected["ratio_spread"])), RATIO_FLOOR)
    return log_tol, ratio_tol


def stats_errors(expected: dict, means: np.ndarray, stds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer errors in units of their tolerance (above 1: too far), for log(std) and mean / std."""
    log_tol, ratio_tol = _stats_tolerances(expected)
    log_error = np.abs(np.log(stds) - np.log(np.asarray(expected["stds"]))) / log_tol
    ratio_error = np.abs(means / stds - np.asarray(expected["ratios"])) / ratio_tol
    return log_error, ratio_error


def _judge_stats(inputs, expected, received, timing):
    depth = int(inputs["depth"])
    arrays = {}
    for name in ("means", "stds"):
        value = received[name]
        if isinstance(value, (list, tuple)) and all(type(v) in (int, float) for v in value):
            value = np.asarray(value, dtype=np.float64)
        if not isinstance(value, np.ndarray) or value.shape != (depth,) or value.dtype.kind not in "fi":
            shown = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__
            return False, f"{name} should be a float array of shape ({depth},), one value per layer; received {shown}"
        arrays[name] = value.astype(np.float64)
    means, stds = arrays["means"], arrays["stds"]
    if not (np.isfinite(means).all() and np.isfinite(stds).all()) or (stds <= 0).any():
        return False, "means and stds should be finite, and stds positive"
    log_tol, ratio_tol = _stats_tolerances(expected)
    log_error, ratio_error = stats_errors(expected, means, stds)
    want_std, want_mean = np.asarray(expected["stds"]), np.asarray(expected["means"])
    problems = []
    for layer in range(depth):
        if log_error[layer] > 1:
            problems.append(f"layer {layer + 1}: std {stds[layer]:.4g}, Keras's network gives "
                            f"{want_std[layer]:.4g} (allowed: within a factor {math.exp(log_tol[layer]):.3g})")
        if ratio_error[layer] > 1:
            problems.append(f"layer {layer + 1}: mean {means[layer]:.4g} = {means[layer] / stds[layer]:.3g} std, "
                            f"Keras's network gives {want_mean[layer]:.4g} = {expected['ratios'][layer]:.3g} std "
                            f"(allowed: +-{ratio_tol[layer]:.3g} std)")
    if not problems:
        return True, "per-layer statistics match Keras's network"
    shown = problems[:4] + ([f"... and {len(problems) - 4} more"] if len(problems) > 4 else [])
    return False, ("per-layer statistics differ from a Keras network of the same depth, width, initializer and "
                   "activation:\n  " + "\n  ".join(shown) + "\nHint: x = rng.standard_normal((batch_size, width)); "
                   "for each layer draw W = init((width, width), rng), set x = activation(x @ W) (zero bias), and "
                   "record x.mean() and x.std() over the whole batch")


def _stats_case(name, inputs, hidden=False, points=1.0):
    return rng_probed(Case("activation_stats", name, inputs, ref.activation_stats, ("means", "stds"), hidden=hidden,
                           judge=_judge_stats, timeout=30.0, points=points), noun="statistics")


STATS = [
    _stats_case("gaussian_init, tanh, 10 layers of 256 (vanishing)", _stats_inputs("gaussian_init", 10, 256, "tanh")),
    _stats_case("he_normal, relu, 10 layers of 256 (stable)", _stats_inputs("he_normal", 10, 256, "relu")),
    _stats_case("he_normal, linear, 8 layers of 128 (exploding)", _stats_inputs("he_normal", 8, 128, "linear")),
    _stats_case("xavier_uniform, sigmoid, 6 layers of 192", _stats_inputs("xavier_uniform", 6, 192, "sigmoid", 64)),
    _stats_case("random initializer, activation and size", _random_stats, hidden=True, points=0.5),
    rejections_case("activation_stats", "an unknown init name or a width of 0 or below is rejected, others accepted",
                    _stats_inputs("he_normal", 3, 16, "relu", 8), _stats_checks),
]


ASSIGNMENT = Assignment(
    name="02_initialization",
    title="Parameter initialization",
    cases=tuple(FANS + SAMPLERS + STATS),
)
