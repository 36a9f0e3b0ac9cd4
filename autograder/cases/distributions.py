"""Whether a sample is a draw from a distribution: the statistics that grade random initializers.

A ``Distribution`` names one of the three families ``keras.initializers`` draw from and is backed by
the matching ``scipy.stats`` distribution (``norm``, ``truncnorm`` cut at 2 standard deviations,
``uniform``). ``sample_problems`` tests a sample against it: every value inside the bounds, then
z-tests of the sample mean and the sample variance and a Kolmogorov-Smirnov test
(``scipy.stats.ks_1samp``), each at level ``ALPHA``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

# Each of the three statistical tests (mean, variance, Kolmogorov-Smirnov) rejects a correct sampler
# with probability ALPHA, so a correct sampler fails a case with probability below 3 * ALPHA (the
# bounds check never fails one). The mistakes graded in assignment 02 shift the variance by 20% or
# more on samples of 16k-33k values, tens of standard errors, so so small an ALPHA costs no power
# (``benchmarks/initializer_detection.py`` measures both).
ALPHA = 1e-6


def _stats():
    """``scipy.stats``, imported on first use: it takes a second, and ``import autograder`` must stay fast."""
    from scipy import stats

    return stats


@functools.cache
def z_critical(alpha: float = ALPHA) -> float:
    """The two-sided critical value of a z-test at level ``alpha`` (4.89 for ``ALPHA``)."""
    return float(_stats().norm.isf(alpha / 2))


FAMILIES = ("normal", "truncated_normal", "uniform")


@functools.cache
def _standard(family: str):
    """The family in standard form (loc 0, scale 1): a Distribution is ``loc + scale * z`` for z drawn from it."""
    stats = _stats()
    return {"normal": stats.norm(), "truncated_normal": stats.truncnorm(-2.0, 2.0),
            "uniform": stats.uniform(-1.0, 2.0)}[family]


@functools.cache
def _moments(family: str) -> tuple[float, float]:
    """Variance and kurtosis (the fourth central moment over the variance squared) of the standard form."""
    standard = _standard(family)
    return float(standard.var()), float(standard.stats(moments="k")) + 3.0


@dataclass(frozen=True)
class Distribution:
    """A normal, a normal truncated at ``loc -+ 2 scale``, or a uniform on ``loc -+ scale``.

    Equal when family, ``loc`` and ``scale`` are equal (mistakes that draw from the same
    distribution are told apart by comparing them).
    """

    family: str  # "normal", "truncated_normal" or "uniform"
    loc: float
    scale: float

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"Expected a family among {FAMILIES}. Received {self.family!r}.")

    @classmethod
    def of(cls, expected: dict) -> Distribution:
        """From a reference's ``{"family", "loc", "scale"}`` (``dlcourse.references.initialization``)."""
        return cls(str(expected["family"]), float(expected["loc"]), float(expected["scale"]))

    @property
    def bounds(self) -> tuple[float, float]:
        low, high = _standard(self.family).support()
        return self.loc + self.scale * float(low), self.loc + self.scale * float(high)

    @property
    def variance(self) -> float:
        return _moments(self.family)[0] * self.scale ** 2

    @property
    def kurtosis(self) -> float:
        """The fourth central moment over the variance squared (3 for a normal)."""
        return _moments(self.family)[1]

    def cdf(self, x) -> np.ndarray:
        z = (np.asarray(x, dtype=np.float64) - self.loc) / self.scale
        if self.family == "truncated_normal":
            # The unit normal's cdf rescaled to the cut: truncnorm's cdf to 1e-12 (the tests check),
            # about 15 times faster on a sample (truncnorm works in log space, for cuts far in the tail).
            low, high = _stats().norm.cdf([-2.0, 2.0])
            return np.clip((_stats().norm.cdf(z) - low) / (high - low), 0.0, 1.0)
        return _standard(self.family).cdf(z)

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        """Draws from this distribution (what a sampler with this behaviour returns)."""
        return self.loc + self.scale * _standard(self.family).rvs(size=shape, random_state=rng)

    def describe(self) -> str:
        if self.family == "uniform":
            low, high = self.bounds
            return f"uniform on [{low:.6g}, {high:.6g})"
        if self.family == "truncated_normal":
            return (f"normal with mean {self.loc:.6g} and stddev {self.scale:.6g}, truncated at 2 stddev "
                    f"(so its std is {math.sqrt(self.variance):.6g})")
        return f"normal with mean {self.loc:.6g} and stddev {self.scale:.6g}"


def flat_sorted(sample) -> np.ndarray:
    """The sample as sorted float64 values: sort once, then test against several distributions."""
    return np.sort(np.asarray(sample, dtype=np.float64).reshape(-1))


def kolmogorov_smirnov(values: np.ndarray, dist: Distribution) -> tuple[float, float]:
    """One-sample Kolmogorov-Smirnov distance of ``values`` from ``dist`` and its exact p-value.

    Those of ``scipy.stats.ks_1samp``, except that where the asymptotic p-value is below 1e-20 (far
    beyond any level used here) it is returned instead of the exact one, which costs 10-30 ms more
    for a large distance.
    """
    stats = _stats()
    result = stats.ks_1samp(values, dist.cdf, method="asymp")
    distance = float(result.statistic)
    if result.pvalue < 1e-20:
        return distance, float(result.pvalue)
    return distance, float(stats.kstwo.sf(distance, values.size))  # what method="exact" computes


# Each statistic of a sorted sample, as a function of (values, dist).

def _outside(values: np.ndarray, dist: Distribution) -> int:
    """Values outside the bounds, with a margin of 1e-6 of the scale (for float32 samples)."""
    low, high = dist.bounds
    margin = 1e-6 * dist.scale
    return int(np.sum(values < low - margin) + np.sum(values > high + margin))


def _mean_z(values: np.ndarray, dist: Distribution) -> float:
    return float((values.mean() - dist.loc) / math.sqrt(dist.variance / values.size))


def _variance_z(values: np.ndarray, dist: Distribution) -> float:
    """z-score of the sample variance; its standard error uses the distribution's kurtosis."""
    standard_error = dist.variance * math.sqrt((dist.kurtosis - 1) / values.size)
    return float((values.var(ddof=1) - dist.variance) / standard_error)


def sample_statistics(sample, dist: Distribution) -> dict:
    """The statistics a sample is judged by (the benchmark reads them to check calibration).

    Returns:
        ``{"outside": values outside the bounds, "mean_z": z-score of the sample mean,
        "variance_z": z-score of the sample variance, "ks": Kolmogorov-Smirnov distance,
        "ks_p": its p-value}``.
    """
    values = flat_sorted(sample)
    distance, pvalue = kolmogorov_smirnov(values, dist)
    return {"outside": _outside(values, dist), "mean_z": _mean_z(values, dist),
            "variance_z": _variance_z(values, dist), "ks": distance, "ks_p": pvalue}


def _bounds_problem(values, dist, alpha):
    outside = _outside(values, dist)
    if outside:
        low, high = dist.bounds
        return (f"{outside} of {values.size} values lie outside [{low:.6g}, {high:.6g}] "
                f"(min {values[0]:.6g}, max {values[-1]:.6g})")
    return None


def _mean_problem(values, dist, alpha):
    z = _mean_z(values, dist)
    if abs(z) > z_critical(alpha):
        return f"the mean is {values.mean():.6g}, expected {dist.loc:.6g} (z = {z:.1f})"
    return None


def _variance_problem(values, dist, alpha):
    z = _variance_z(values, dist)
    if abs(z) > z_critical(alpha):
        variance = values.var(ddof=1)
        return (f"the standard deviation is {math.sqrt(variance):.6g}, expected {math.sqrt(dist.variance):.6g} "
                f"(variance ratio {variance / dist.variance:.3g}, z = {z:.1f})")
    return None


def _ks_problem(values, dist, alpha):
    distance, pvalue = kolmogorov_smirnov(values, dist)
    if pvalue < alpha:
        return f"the Kolmogorov-Smirnov distance to that distribution is {distance:.3g} (p = {pvalue:.2g})"
    return None


# Cheapest first, for stop_early.
_CHECKS = (_bounds_problem, _mean_problem, _variance_problem, _ks_problem)


def sample_problems(sample, dist: Distribution, alpha: float = ALPHA, stop_early: bool = False) -> list[str]:
    """Why ``sample`` is not a draw from ``dist`` (empty: it passes).

    Four checks: all values inside the distribution's bounds (with a margin of 1e-6 of the scale,
    for float32 samples), then two-sided z-tests of the mean and the variance and a one-sample
    Kolmogorov-Smirnov test, each at level ``alpha``. ``stop_early`` returns at the first problem
    (the cheap checks come first).
    """
    values = flat_sorted(sample)
    problems = []
    for check in _CHECKS:
        problem = check(values, dist, alpha)
        if problem is not None:
            problems.append(problem)
            if stop_early:
                break
    return problems
