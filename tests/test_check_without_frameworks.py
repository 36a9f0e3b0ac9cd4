"""After `dlcourse warm` (which `make` runs), a NumPy assignment's check() needs no Keras or TensorFlow:
every public reference comes from the cache, and held-out accuracy is a NumPy forward pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT

CHECK_EVERY_UNIT = """
import contextlib, io, json, sys, time
from pathlib import Path
from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.engine.extract import read_notebook
from dlcourse.autograder.engine.worker import load
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


def test_a_warm_cache_lets_every_numpy_check_run_without_importing_a_framework(tmp_path):
    names = ["01_backprop", "04_convolution"]
    env = {**os.environ, "DLCOURSE_CACHE": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "2"}
    warm = subprocess.run([sys.executable, "-m", "dlcourse", "warm", *names], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert "01_backprop: " in warm.stdout and "public references computed" in warm.stdout
    run = subprocess.run([sys.executable, "-c", CHECK_EVERY_UNIT, *names], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["frameworks"] == []
    assert {"dense_forward", "train_mlp", "conv2d_forward_fast"} <= set(report["seconds"])
    print({unit: round(value, 3) for unit, value in report["seconds"].items()})  # figures, not asserted
