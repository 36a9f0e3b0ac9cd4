"""How long a student waits for ``check()`` on a wrong answer, in a fresh kernel, in each NumPy assignment.

For each NumPy assignment one unit is broken as students break it (``WRONG_ANSWERS``: the mistake
its message must name), and ``check()`` is timed in a fresh process on the broken unit and on the
solution's, in turns (median of ``--runs`` each): the time of the first ``check()`` in the process,
as a student meets it after the notebook's cells ran (the notebook's loading is not counted). The
public references come from a cache warmed first by ``dlcourse warm``, as ``make`` does. The
README promises an answer "in a fraction of a second without importing Keras or TensorFlow"
(target: under 1 s); the table also says which frameworks the wrong answer's check imported and
whether it named the mistake. Prints figures, asserts nothing (``tests/check/test_check_without_frameworks.py``
asserts the imports and the names).

    .venv/bin/python benchmarks/check.py [--runs 5] [--cache DIR] [01_backprop 04_convolution ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("tensorflow", "keras", "jax", "torch")
TARGET_SECONDS = 1.0

# assignment -> (unit, the student's cell that breaks it, what the message must name). A cell may call the
# solution's own unit as ``solution_<unit>`` (the broken part is then the arguments it passes).
WRONG_ANSWERS = {
    "01_backprop": ("dense_forward", '''
def dense_forward(x, w, b):
    out = x @ w
    return out, (x, w)
''', "the bias `b` is not added"),
    "02_initialization": ("gaussian_init", '''
def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
    return rng.normal(0.0, stddev, size=shape)
''', "the mean is ignored"),
    "03_optimization": ("adam", '''
import numpy as np
def adam(w, dw, config=None):
    config = with_defaults(config, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    t = config.get("t", 1) + 1
    m = config["beta_1"] * config.get("m", np.zeros_like(w)) + (1 - config["beta_1"]) * dw
    v = config["beta_2"] * config.get("v", np.zeros_like(w)) + (1 - config["beta_2"]) * dw * dw
    alpha = config["learning_rate"] * np.sqrt(1 - config["beta_2"]**t) / (1 - config["beta_1"]**t)
    config["m"], config["v"], config["t"] = m, v, t
    return w - alpha * m / (np.sqrt(v) + config["epsilon"]), config
''', "the step count started at 1"),
    "04_convolution": ("conv2d_forward", '''
def conv2d_forward(x, w, b, strides=1, padding="valid"):
    w = w[::-1, ::-1]  # the textbook's convolution flips the kernel
    return solution_conv2d_forward(x, w, b, strides, padding)
''', "the kernel is flipped"),
    "05_pooling": ("max_pool2d_forward", '''
def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    if strides is None:
        strides = 1
    return solution_max_pool2d_forward(x, pool_size, strides, padding)
''', "strides=None means strides = pool_size in Keras"),
    "07_rnn_bptt": ("rnn_forward", '''
import numpy as np
def rnn_forward(x, h0, wx, wh, b):
    states, h = [], h0
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ wx + h @ wh)
        states.append(h)
    return np.stack(states, axis=1), None
''', "the bias `b` is not added"),
    "08_lstm": ("lstm_step_forward", '''
import numpy as np
def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    def as_ifoc(a):  # the gate blocks read in cs231n's order i, f, o, c
        i, f, c, o = np.split(a, 4, axis=-1)
        return np.concatenate([i, f, o, c], axis=-1)
    return solution_lstm_step_forward(x, h_prev, c_prev, as_ifoc(wx), as_ifoc(wh), as_ifoc(b))
''', "the gate blocks were read in the order i, f, o, c"),
}

# One fresh process: the solution's cells loaded as the worker loads them, the student's cell run over them,
# then one check() of the unit, timed. Prints JSON: seconds, frameworks imported, what check() printed.
CHILD = """
import contextlib, io, json, sys, time
from pathlib import Path
from dlcourse.autograder import check
from dlcourse.autograder.engine.extract import read_notebook
from dlcourse.autograder.engine.sandboxed.worker import load

name, unit, source = sys.argv[1:4]
namespace = load(read_notebook(Path("solutions") / f"{name}.ipynb").cells)["namespace"]
namespace["solution_" + unit] = namespace[unit]
if source:
    exec(compile(source, "student's cell", "exec"), namespace)
printed = io.StringIO()
started = time.perf_counter()
with contextlib.redirect_stdout(printed):
    try:
        check(unit, namespace)
        passed = True
    except AssertionError:
        passed = False
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "passed": passed, "printed": printed.getvalue(),
                  "frameworks": sorted(m for m in %r if m in sys.modules)}))
""" % (FRAMEWORKS,)


def environment(cache: Path) -> dict:
    """This process's environment with ``cache`` as the reference cache (``$DLCOURSE_CACHE``)."""
    return {**os.environ, "DLCOURSE_CACHE": str(cache), "TF_CPP_MIN_LOG_LEVEL": "2"}


def warm(names: list[str], env: dict) -> str:
    """``dlcourse warm`` for ``names`` (what ``make`` runs): the public references into the cache."""
    run = subprocess.run([sys.executable, "-m", "dlcourse", "warm", *names], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=900)
    if run.returncode != 0:
        raise SystemExit(f"dlcourse warm failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return run.stdout


def measure(name: str, wrong: bool, env: dict) -> dict:
    """One fresh process's first ``check()`` of the assignment's unit: broken (``wrong``) or the solution's."""
    unit, source, _ = WRONG_ANSWERS[name]
    run = subprocess.run([sys.executable, "-c", CHILD, name, unit, source if wrong else ""], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=600)
    if run.returncode != 0:
        raise RuntimeError(f"{name}: the check's process failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="ASSIGNMENT", help="default: every NumPy assignment")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per figure (default 5)")
    parser.add_argument("--cache", type=Path, help="reference cache folder (default: a scratch one, warmed first)")
    args = parser.parse_args()
    names = args.names or list(WRONG_ANSWERS)
    unknown = [name for name in names if name not in WRONG_ANSWERS]
    if unknown:
        parser.error(f"Expected assignments among {', '.join(WRONG_ANSWERS)}. Received {', '.join(unknown)}.")
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-check-") as scratch:
        env = environment(args.cache or Path(scratch))
        warm(names, env)
        print(f"first check() in a fresh process, median of {args.runs} runs (target for a wrong answer: "
              f"< {TARGET_SECONDS:g} s)")
        print(f"{'assignment':19} {'unit':19} {'wrong':>8} {'correct':>8}  {'frameworks (wrong)':19} mistake named")
        for name in names:
            wrong, correct = [], []
            for _ in range(args.runs):  # in turns, so that the machine's load slows both alike
                wrong.append(measure(name, True, env))
                correct.append(measure(name, False, env))
            unit, _, named = WRONG_ANSWERS[name]
            imported = sorted({module for run in wrong for module in run["frameworks"]})
            print(f"{name:19} {unit:19} {statistics.median(r['seconds'] for r in wrong):7.3f}s "
                  f"{statistics.median(r['seconds'] for r in correct):7.3f}s  {', '.join(imported) or 'none':19} "
                  f"{'yes' if all(named in run['printed'] for run in wrong) else 'NO'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
