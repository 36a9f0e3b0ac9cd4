"""After `dlcourse warm` (which `make` runs), a NumPy assignment's check() needs no Keras or TensorFlow:
every public reference comes from the cache, held-out accuracy is a NumPy forward pass, and the variants
that name a wrong answer's mistake are computed in NumPy. A wrong answer's check() in a fresh kernel
names the mistake without importing a framework (its time: ``benchmarks/check.py``)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT

from dlcourse.autograder.cases import ASSIGNMENTS

NUMPY_ASSIGNMENTS = ["01_backprop", "02_initialization", "03_optimization", "04_convolution", "05_pooling",
                     "07_rnn_bptt", "08_lstm"]
FRAMEWORKS = ("tensorflow", "keras", "jax", "torch")

CHECK_EVERY_UNIT = """
import contextlib, io, json, sys, time
from pathlib import Path
from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.engine.extract import read_notebook
from dlcourse.autograder.engine.sandboxed.worker import load
from dlcourse.autograder import check

seconds = {}
for name in sys.argv[1:]:
    namespace = load(read_notebook(Path("solutions") / f"{name}.ipynb").cells)["namespace"]
    for unit in ASSIGNMENTS[name].units:
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            check(unit, namespace)
        seconds[unit] = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "frameworks": sorted(m for m in ("tensorflow", "keras", "jax", "torch")
                                                          if m in sys.modules)}))
"""

# Every known mistake of every public case, computed as check() computes it (from the cached reference):
# the frameworks imported on the way, and the mistakes that imported one first.
EVERY_MISTAKE = """
import json, sys
from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.engine.reference_cache import ReferenceCache, cache_dir

frameworks = %r
cache, culprits, count, fresh = ReferenceCache(cache_dir()), [], 0, 0
for name in sys.argv[1:]:
    for case in ASSIGNMENTS[name].public_cases():
        fresh += case.fresh
        inputs = case.make_inputs(None)
        expected = cache.expected(case, inputs)
        for mistake in case.mistakes:
            before = any(module in sys.modules for module in frameworks)
            mistake.outputs(inputs, expected)
            count += 1
            if not before and any(module in sys.modules for module in frameworks):
                culprits.append(f"{case.id}: {mistake.name}")
print(json.dumps({"mistakes": count, "culprits": culprits, "misses": cache.misses, "fresh": fresh,
                  "frameworks": sorted(m for m in frameworks if m in sys.modules)}))
""" % (FRAMEWORKS,)


def _benchmark():
    """``benchmarks/check.py``: its broken units (``WRONG_ANSWERS``) and its fresh-process ``measure``."""
    spec = importlib.util.spec_from_file_location("benchmark_check", ROOT / "benchmarks" / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def warm_env(tmp_path_factory):
    """An environment whose reference cache holds every NumPy assignment's public references (`dlcourse warm`)."""
    env = {**os.environ, "DLCOURSE_CACHE": str(tmp_path_factory.mktemp("cache")), "TF_CPP_MIN_LOG_LEVEL": "2"}
    warm = subprocess.run([sys.executable, "-m", "dlcourse", "warm", *NUMPY_ASSIGNMENTS], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=900)
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert "01_backprop: " in warm.stdout and "public references computed" in warm.stdout
    return env


def test_a_warm_cache_lets_every_numpy_check_run_without_importing_a_framework(warm_env):
    names = ["01_backprop", "04_convolution"]
    run = subprocess.run([sys.executable, "-c", CHECK_EVERY_UNIT, *names], capture_output=True, text=True,
                         env=warm_env, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["frameworks"] == []
    assert {"dense_forward", "train_mlp", "conv2d_forward_fast"} <= set(report["seconds"])
    print({unit: round(value, 3) for unit, value in report["seconds"].items()})  # figures, not asserted


def test_no_known_mistake_of_a_public_case_imports_a_framework(warm_env):
    """Every variant that names a mistake in a NumPy assignment is NumPy (04's padding and flipped-kernel
    variants and 05's default-strides one went through Keras: 10-15 s and TensorFlow in the student's kernel)."""
    run = subprocess.run([sys.executable, "-c", EVERY_MISTAKE, *NUMPY_ASSIGNMENTS], capture_output=True, text=True,
                         env=warm_env, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["culprits"] == [] and report["frameworks"] == [], report
    assert report["misses"] == report["fresh"]  # only fresh cases (NumPy: 01's held-out data, 04's yardstick) computed
    assert report["mistakes"] > 100


@pytest.mark.parametrize("name", NUMPY_ASSIGNMENTS)
def test_a_wrong_answer_is_named_in_a_fresh_kernel_without_importing_a_framework(name, warm_env):
    """A unit broken as students break it: check() fails it, names the mistake, and imports no framework."""
    benchmark = _benchmark()
    assert set(benchmark.WRONG_ANSWERS) == set(NUMPY_ASSIGNMENTS)
    unit, _, named = benchmark.WRONG_ANSWERS[name]
    wrong = benchmark.measure(name, True, warm_env)
    assert not wrong["passed"], wrong["printed"]
    assert re.search(rf"This matches a known (mistake|variant): {re.escape(named)}", wrong["printed"]), wrong["printed"]
    assert wrong["frameworks"] == [], wrong
    right = benchmark.measure(name, False, warm_env)
    assert right["passed"] and right["frameworks"] == [], right
    print(f"{name} {unit}: wrong {wrong['seconds']:.3f} s, right {right['seconds']:.3f} s")  # figures, not asserted


def test_a_cold_cache_is_filled_by_dlcourse_warm_in_a_process_of_its_own(tmp_path):
    """Never warmed (or warmed by another version of the grader): check() runs `dlcourse warm` for the
    assignment in a child process and reads the cache, so the kernel still imports no framework."""
    env = {**os.environ, "DLCOURSE_CACHE": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "2"}
    benchmark = _benchmark()
    _, _, named = benchmark.WRONG_ANSWERS["05_pooling"]
    wrong = benchmark.measure("05_pooling", True, env)
    assert "(computing the Keras references of 05_pooling's public checks, once, in a process of their own; " \
           "`dlcourse warm` does it ahead)" in wrong["printed"], wrong["printed"]
    assert f"This matches a known mistake: {named}" in wrong["printed"], wrong["printed"]
    assert wrong["frameworks"] == [], wrong
    public = [case for case in ASSIGNMENTS["05_pooling"].public_cases() if not case.fresh]
    assert len(list((tmp_path / "references").glob("*.npz"))) == len(public)  # all of 05's public references
    again = benchmark.measure("05_pooling", True, env)
    assert "computing the Keras references" not in again["printed"] and again["frameworks"] == []
