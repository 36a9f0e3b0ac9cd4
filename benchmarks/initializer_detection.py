"""How often the statistical grading of assignment 02 fails a correct sampler, and how often it catches mistakes.

For every sampler case of ``02_initialization`` (the public ones and the hidden ones drawn with a few
different secrets, so random shapes and parameters are covered), over ``--seeds`` generator seeds:

1. false failures: the solution notebook's samplers, and Keras's own initializers, judged exactly as
   the grader judges them; plus the calibration of the test statistics (the share of p-values under
   1% and 5% should be about 1% and 5%, which is what lets the tiny per-test level be trusted);
2. detection: samplers written with each common mistake (each a few lines of NumPy below, written
   the way a student would) judged the same way: how often the case fails, and how often the
   message names that mistake;
3. the depth experiment: false failures of the solution's ``activation_stats`` on the public cases.

Run: ``.venv/bin/python benchmarks/initializer_detection.py [--seeds 200] [--detection-seeds 100]
[--secrets 2] [--stats-seeds 200]`` (about 10 minutes on 2 cores; ``--quick`` for a 1-minute smoke run).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dlcourse.autograder.cases import ASSIGNMENTS  # noqa: E402
from dlcourse.autograder.cases import distributions  # noqa: E402
from dlcourse.autograder.cases import initialization as cases  # noqa: E402
from dlcourse.autograder.engine.extract import read_notebook  # noqa: E402
from dlcourse.autograder.engine.sandboxed.worker import load  # noqa: E402
from dlcourse.references import initialization as ref  # noqa: E402

TRUNCATION_STD = 0.87962566103423978
CONFIG_KEYS = ("mean", "stddev", "minval", "maxval")


# ----------------------------------------------------------------------------- wrong samplers, as a student writes them

def _fans(shape, receptive=True):
    if len(shape) == 2:
        return shape[0], shape[1]
    field = int(np.prod(shape[:-2])) if receptive else 1
    return shape[-2] * field, shape[-1] * field


def _truncated(rng, shape, stddev, mean=0.0):
    z = rng.standard_normal(size=shape)
    outside = np.abs(z) > 2
    while outside.any():
        z[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(z) > 2
    return mean + stddev * z


def _uniform_limit(limit):
    return lambda shape, rng, **config: rng.uniform(-limit(shape), limit(shape), size=shape)


def _truncated_std(stddev):
    return lambda shape, rng, **config: _truncated(rng, shape, stddev(shape))


def _normal_std(stddev):
    return lambda shape, rng, **config: rng.normal(0.0, stddev(shape), size=shape)


def _avg(shape, receptive=True):
    fan_in, fan_out = _fans(shape, receptive)
    return (fan_in + fan_out) / 2


# unit -> [(the mistake category, kind named in the case module, sampler, applies to conv kernels only)]
WRONG = {
    "xavier_uniform": [
        ("fan_in where fan_avg is meant", "fan_in for fan_avg",
         _uniform_limit(lambda s: math.sqrt(3 / _fans(s)[0])), False),
        ("a missing square root", "missing sqrt", _uniform_limit(lambda s: 3 / _avg(s)), False),
        ("std used where the limit is meant", "std for limit", _uniform_limit(lambda s: math.sqrt(1 / _avg(s))), False),
        ("the wrong fan for conv kernels", "wrong conv fans",
         _uniform_limit(lambda s: math.sqrt(3 / _avg(s, receptive=False))), True),
    ],
    "xavier_normal": [
        ("fan_in where fan_avg is meant", "fan_in for fan_avg",
         _truncated_std(lambda s: math.sqrt(1 / _fans(s)[0]) / TRUNCATION_STD), False),
        ("a missing square root", "missing sqrt", _truncated_std(lambda s: (1 / _avg(s)) / TRUNCATION_STD), False),
        ("normal instead of truncated normal", "normal for truncated",
         _normal_std(lambda s: math.sqrt(1 / _avg(s))), False),
        ("(extra) truncated without the 0.8796 correction", "uncorrected truncation",
         _truncated_std(lambda s: math.sqrt(1 / _avg(s))), False),
        ("the wrong fan for conv kernels", "wrong conv fans",
         _truncated_std(lambda s: math.sqrt(1 / _avg(s, receptive=False)) / TRUNCATION_STD), True),
    ],
    "he_normal": [
        ("a missing square root", "missing sqrt", _truncated_std(lambda s: (2 / _fans(s)[0]) / TRUNCATION_STD), False),
        ("normal instead of truncated normal", "normal for truncated",
         _normal_std(lambda s: math.sqrt(2 / _fans(s)[0])), False),
        ("(extra) fan_avg where fan_in is meant", "fan_avg for fan_in",
         _truncated_std(lambda s: math.sqrt(2 / _avg(s)) / TRUNCATION_STD), False),
        ("the wrong fan for conv kernels", "wrong conv fans",
         _truncated_std(lambda s: math.sqrt(2 / _fans(s, receptive=False)[0]) / TRUNCATION_STD), True),
    ],
    "truncated_normal": [
        ("normal instead of truncated normal", "normal for truncated",
         lambda shape, rng, mean=0.0, stddev=0.05: rng.normal(mean, stddev, size=shape), False),
        ("(extra) clipped at 2 stddev instead of redrawn", None,
         lambda shape, rng, mean=0.0, stddev=0.05: np.clip(rng.normal(mean, stddev, size=shape),
                                                           mean - 2 * stddev, mean + 2 * stddev), False),
    ],
    "gaussian_init": [
        ("(extra) variance passed as the stddev", "variance for std",
         lambda shape, rng, mean=0.0, stddev=0.05: rng.normal(mean, stddev**2, size=shape), False),
    ],
    "uniform_init": [
        ("(extra) a normal instead of a uniform", "normal for uniform",
         lambda shape, rng, minval=-0.05, maxval=0.05: rng.normal((minval + maxval) / 2, (maxval - minval) / 2,
                                                                   size=shape), False),
    ],
}


def _mistake_names(unit, kind):
    return [mistake.name for mistake in cases.SAMPLER_MISTAKES[unit] if mistake.kind == kind]


# ----------------------------------------------------------------------------- measurements

def instances(secrets: int):
    """(case, inputs, expected) for every sampler case: public ones once, hidden ones per secret."""
    rows = []
    for case in ASSIGNMENTS["02_initialization"].cases:
        if case.unit not in WRONG:
            continue
        for secret in ([None] if not case.hidden else [f"benchmark-{k}" for k in range(secrets)]):
            inputs = case.make_inputs(secret)
            rows.append((case, inputs, case.reference(**inputs)))
    return rows


def _judge(case, inputs, expected, sample):
    return case.judge(inputs, expected, {"w": sample}, {})


def false_failures(rows, solution, seeds):
    print(f"\n1. False failures of correct samplers ({seeds} seeds per case instance, {len(rows)} instances)")
    alpha = distributions.ALPHA
    print(f"   per-test level ALPHA = {alpha:g} (z = {distributions.z_critical(alpha):.2f}); 3 tests, so at most "
          f"{3 * alpha:.0e} per case in theory")
    totals = defaultdict(lambda: [0, 0])
    pvalues = {"mean": [], "variance": [], "ks": []}
    started = time.perf_counter()
    for index, (case, inputs, expected) in enumerate(rows):
        shape = tuple(inputs["shape"])
        config = {key: inputs[key] for key in CONFIG_KEYS if key in inputs}
        dist = distributions.Distribution.of(expected)
        for seed in range(seeds):
            # seeded by instance and seed: cases of the same shape must not share their draws
            sample = solution[case.unit](shape, np.random.default_rng([1, index, seed]), **config)
            ok, _ = _judge(case, inputs, expected, sample)
            totals[("solution", case.unit)][0] += not ok
            totals[("solution", case.unit)][1] += 1
            stats = distributions.sample_statistics(sample, dist)
            pvalues["mean"].append(math.erfc(abs(stats["mean_z"]) / math.sqrt(2)))
            pvalues["variance"].append(math.erfc(abs(stats["variance_z"]) / math.sqrt(2)))
            pvalues["ks"].append(stats["ks_p"])
    keras_seeds = max(1, seeds // 4)
    for index, (case, inputs, expected) in enumerate(rows):
        config = {key: inputs[key] for key in CONFIG_KEYS if key in inputs}
        for seed in range(keras_seeds):
            sample = ref.keras_sample(ref.KERAS_NAMES[case.unit], inputs["shape"], seed=1000 * index + seed, **config)
            ok, _ = _judge(case, inputs, expected, sample)
            totals[("keras", case.unit)][0] += not ok
            totals[("keras", case.unit)][1] += 1
    print(f"   {'sampler':40s} {'failed':>8s} {'judged':>8s}   rate")
    all_failed = all_judged = 0
    for (source, unit), (failed, judged) in sorted(totals.items()):
        label = f"{unit} ({'solution notebook' if source == 'solution' else 'keras.initializers'})"
        print(f"   {label:40s} {failed:8d} {judged:8d}   {failed / judged:.4f}")
        all_failed += failed
        all_judged += judged
    bound = 3.0 / all_judged  # the 95% upper bound when nothing fails ("rule of three")
    print(f"   all correct samplers: {all_failed} false failures in {all_judged} judged samples "
          f"(rate {all_failed / all_judged:.4f}; 95% upper bound {max(bound, all_failed / all_judged):.4f})")
    print("   calibration of the solution's statistics (share of p-values below 1% and 5%; about 0.01 and 0.05 "
          "if the tests are exact):")
    for name, values in pvalues.items():
        values = np.asarray(values)
        print(f"     {name:9s} p < 0.01: {np.mean(values < 0.01):.4f}   p < 0.05: {np.mean(values < 0.05):.4f}"
              f"   smallest p: {values.min():.2g}   (n = {len(values)})")
    print(f"   ({time.perf_counter() - started:.0f} s)")
    return all_failed, all_judged


def detection(rows, seeds):
    print(f"\n2. Detection of common mistakes ({seeds} seeds per applicable case instance)")
    table = defaultdict(lambda: [0, 0, 0, set()])  # category -> caught, named, judged, units
    started = time.perf_counter()
    for index, (case, inputs, expected) in enumerate(rows):
        shape = tuple(inputs["shape"])
        config = {key: inputs[key] for key in CONFIG_KEYS if key in inputs}
        for category, kind, sampler, conv_only in WRONG[case.unit]:
            if conv_only and len(shape) < 3:
                continue
            names = _mistake_names(case.unit, kind) if kind else []
            for seed in range(seeds):
                sample = sampler(shape, np.random.default_rng([2, index, seed]), **config)
                ok, message = _judge(case, inputs, expected, sample)
                row = table[category]
                row[0] += not ok
                row[1] += (not ok) and any(name in message for name in names)
                row[2] += 1
                row[3].add(case.unit)
    print(f"   {'mistake':50s} {'caught':>8s} {'named':>8s} {'judged':>7s}   units")
    required = True
    for category, (caught, named, judged, units) in sorted(table.items(), key=lambda item: item[0].startswith("(")):
        naming = f"{named / judged:8.4f}" if not category.endswith("redrawn") else "     n/a"
        print(f"   {category:50s} {caught / judged:8.4f} {naming} {judged:7d}   {', '.join(sorted(units))}")
        if not category.startswith("("):
            required &= caught == judged
    print(f"   ({time.perf_counter() - started:.0f} s)")
    return required


def stats_false_failures(solution, seeds):
    print(f"\n3. False failures of the solution's activation_stats ({seeds} seeds per public case)")
    started = time.perf_counter()
    failed = judged = 0
    for case in ASSIGNMENTS["02_initialization"].cases:
        if case.unit != "activation_stats" or case.hidden:
            continue
        inputs = case.make_inputs(None)
        expected = case.reference(**inputs)
        worst, fails = 0.0, 0
        for seed in range(seeds):
            means, stds = solution["activation_stats"](inputs["init"], inputs["depth"], inputs["width"],
                                                       inputs["activation"], np.random.default_rng(seed),
                                                       inputs["batch_size"])
            ok, _ = case.judge(inputs, expected, {"means": means, "stds": stds}, {})
            fails += not ok
            worst = max(worst, max(error.max() for error in cases.stats_errors(expected, means, stds)))
        print(f"   {case.name:52s} failed {fails:4d} of {seeds}; largest error {worst:.2f} of the tolerance")
        failed += fails
        judged += seeds
    print(f"   ({time.perf_counter() - started:.0f} s)")
    return failed, judged


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="seeds per case instance for false failures (200)")
    parser.add_argument("--detection-seeds", type=int, default=100, help="seeds per case instance and mistake (100)")
    parser.add_argument("--secrets", type=int, default=2, help="instances of each hidden case (2)")
    parser.add_argument("--stats-seeds", type=int, default=200, help="seeds per activation_stats case (200; 0 skips)")
    parser.add_argument("--quick", action="store_true", help="10 seeds, 1 secret, 3 activation_stats seeds")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.detection_seeds, args.secrets, args.stats_seeds = 10, 10, 1, 3
    solution = load(read_notebook(ROOT / "solutions" / "02_initialization.ipynb").cells)["namespace"]
    rows = instances(args.secrets)
    failed, judged = false_failures(rows, solution, args.seeds)
    required = detection(rows, args.detection_seeds)
    if args.stats_seeds:
        stats_failed, _ = stats_false_failures(solution, args.stats_seeds)
        failed += stats_failed
    verdict = "every required mistake caught in every sample" if required else "SOME REQUIRED MISTAKE MISSED"
    print(f"\nsummary: {verdict}; {failed} false failures")
    return 0 if required and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
