"""How fast is the solution's ``lstm_forward`` next to Keras's ``LSTM``? One run prints the ratio.

    .venv/bin/python benchmarks/lstm.py [--dtype float64] [--threads 1] [--rounds 10] [--repeats 5]

Shape (32, 50, 64) -> 128 units, as in the issue. The NumPy side is timed in a child process that
never imports TensorFlow (TensorFlow slows NumPy's matrix products in the same process); the Keras
side is ``LSTM(128, return_sequences=True, return_state=True)`` called inside ``tf.function``, in
another child, with the same dtype, the same weights and the same thread count (BLAS threads for
NumPy, intra-op threads for TensorFlow). Both outputs are compared before anything is timed. The two
children take turns, ``--repeats`` calls each per round (NumPy then Keras, the order reversed every other
round, ``_rounds.py``), so that a busy machine slows both alike. Each round's ratio is the NumPy turn's
median call over the Keras turn's; the figure is the median of the rounds' ratios, with its
interquartile range and min-max (the sides' median and best calls are shown too): the goal is at most 2.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _rounds import interleave, ratio_line, ratios, spread  # benchmarks/ is a folder of scripts

ROOT = Path(__file__).resolve().parent.parent
GOAL = 2.0
SHAPE = {"batch": 32, "steps": 50, "features": 64, "units": 128}


def _inputs(dtype: str):
    import numpy as np

    rng = np.random.default_rng(0)
    n, t, d, h = SHAPE["batch"], SHAPE["steps"], SHAPE["features"], SHAPE["units"]
    bias = np.zeros(4 * h)
    bias[h:2 * h] = 1.0
    arrays = {"x": rng.normal(size=(n, t, d)), "wx": rng.normal(size=(d, 4 * h)) / np.sqrt(d),
              "wh": rng.normal(size=(h, 4 * h)) / np.sqrt(h), "b": bias}
    return {key: value.astype(dtype) for key, value in arrays.items()}


def _serve(call, ready: dict) -> None:
    """Warm up, announce ``ready``, then answer each "run K" on stdin with K call times (JSON)."""
    import time

    for _ in range(3):
        call()
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        count = int(line.split()[1])
        times = []
        for _ in range(count):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        print(json.dumps(times), flush=True)


def numpy_child(dtype: str, output: str) -> None:
    """Serve timings of the solution notebook's lstm_forward; save its hidden states for the comparison."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from dlcourse.autograder.engine.extract import read_notebook
    from dlcourse.autograder.engine.sandboxed.worker import load

    namespace = load(read_notebook(ROOT / "solutions" / "08_lstm.ipynb").cells)["namespace"]
    forward = namespace["lstm_forward"]
    a = _inputs(dtype)
    zeros = np.zeros((SHAPE["batch"], SHAPE["units"]), dtype=dtype)
    (h, _, _), _ = forward(a["x"], zeros, zeros, a["wx"], a["wh"], a["b"])
    np.save(output, np.asarray(h))
    _serve(lambda: forward(a["x"], zeros, zeros, a["wx"], a["wh"], a["b"]),
           {"dtype": str(np.asarray(h).dtype), "tensorflow_loaded": "tensorflow" in sys.modules})


def keras_child(dtype: str, threads: int, numpy_output: str) -> None:
    """Serve timings of Keras's LSTM in tf.function with the same weights; first compare with NumPy's output."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from dlcourse.references._keras import keras

    k = keras()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    a = _inputs(dtype)
    layer = k.layers.LSTM(SHAPE["units"], return_sequences=True, return_state=True, dtype=dtype)
    layer.build(a["x"].shape)
    layer.set_weights([a["wx"], a["wh"], a["b"]])
    x = tf.constant(a["x"])
    run = tf.function(lambda inputs: layer(inputs))
    difference = float(np.max(np.abs(np.asarray(run(x)[0]) - np.load(numpy_output))))
    _serve(lambda: run(x)[0].numpy(), {"max_abs_difference": difference})


class _Child:
    """A child process of this script that serves timings on request."""

    def __init__(self, args: list[str], threads: int):
        environment = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
                       "MKL_NUM_THREADS": str(threads)}
        self.process = subprocess.Popen([sys.executable, __file__, *args], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
        self.name = args[1]
        self.ready = self._reply()

    def _reply(self):
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"benchmark child {self.name} failed:\n{self.process.stderr.read()[-3000:]}")
        return json.loads(line)

    def run(self, count: int) -> list[float]:
        self.process.stdin.write(f"run {count}\n")
        self.process.stdin.flush()
        return self._reply()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for NumPy, intra-op threads for TF")
    parser.add_argument("--rounds", type=int, default=10, help="turns each side takes")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per turn")
    parser.add_argument("--child", choices=("numpy", "keras"), help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "numpy":
        numpy_child(args.dtype, args.output)
        return 0
    if args.child == "keras":
        keras_child(args.dtype, args.threads, args.output)
        return 0

    with tempfile.TemporaryDirectory() as folder:
        common = ["--dtype", args.dtype, "--threads", str(args.threads), "--output", str(Path(folder) / "h.npy")]
        mine = _Child(["--child", "numpy", *common], args.threads)       # saves h.npy before it is ready
        theirs = _Child(["--child", "keras", *common], args.threads)
        numpy_times, keras_times = [], []  # every call, for the medians and the best calls shown

        def turn(child: _Child, calls: list[float]) -> float:
            times = child.run(args.repeats)
            calls += times
            return spread(times).median

        try:
            per_round = interleave({"numpy": lambda: turn(mine, numpy_times),
                                    "keras": lambda: turn(theirs, keras_times)}, args.rounds)
        finally:
            mine.close()
            theirs.close()
    difference = theirs.ready["max_abs_difference"]
    tolerance = 1e-9 if args.dtype == "float64" else 1e-4
    if mine.ready["tensorflow_loaded"] or mine.ready["dtype"] != args.dtype or not difference <= tolerance:
        print(f"outputs disagree or the setup is wrong: {mine.ready}, max |numpy - keras| = {difference:.3g}")
        return 1
    n, t, d, h = SHAPE.values()
    numpy_median, keras_median = spread(numpy_times).median, spread(keras_times).median
    print(f"lstm_forward, x ({n}, {t}, {d}) -> {h} units, {args.dtype}, {args.threads} thread(s), "
          f"{args.rounds} rounds of {args.repeats} calls each; outputs agree to {difference:.1e}")
    print(f"  solution (NumPy):         median {numpy_median * 1e3:7.2f} ms   best {min(numpy_times) * 1e3:7.2f} ms")
    print(f"  Keras LSTM (tf.function): median {keras_median * 1e3:7.2f} ms   best {min(keras_times) * 1e3:7.2f} ms")
    print(ratio_line("ratio NumPy / Keras", ratios(per_round["numpy"], per_round["keras"]), target=GOAL))
    return 0


if __name__ == "__main__":
    sys.exit(main())
