"""The solutions' convolution and pooling against Keras: time ratios from interleaved rounds, in one run.

    .venv/bin/python benchmarks/cnn.py [--rounds 200] [--calibration-rounds 10] [--naive-rounds 3] [--json FILE]

Workload (float32, channels last): x (64, 32, 32, 32) -> Conv2D(64, 3x3, same); its gradients with
respect to x, kernel and bias; MaxPooling2D(2) on the same x. Targets: the solution's fast
forward within 1.5x of Keras (``tf.function``), its backward within 2.5x of the Keras gradient, its max
pooling within 3x of ``MaxPooling2D``. The naive (loop) forward and backward are timed too, for the
naive/fast ratio, and the forward's matrix product done in one call over the whole batch (all windows
as rows, times the kernel matrix), which the solution's blocks of images, one per core, beat.

Each side runs in its own long-lived processes, which time an operation per request (JSON lines over
a pipe; the mean of as many back-to-back calls as last about 20 ms, fixed at the warm-up: one call of a
convolution, several of max pooling's few milliseconds). NumPy's matrix products slow down in a process
that has imported TensorFlow, so the NumPy processes never import it. There is one process per setting
of the machine's cores: for both sides, each library's own threads on all cores, or one thread per library call
(``OPENBLAS_NUM_THREADS=1``, what the course's notebooks and the grader set; TensorFlow's intra-op pool
set to one thread); for Keras, each with oneDNN on (TensorFlow's default on x86) and off (the course's
quiet setting ``TF_ENABLE_ONEDNN_OPTS=0``). The solution shares blocks of images among the cores
itself, so it uses both cores in either setting.

The settings are chosen once, up front, per operation and side: ``--calibration-rounds`` interleaved
rounds time every process once each, and each side keeps its setting of lowest median (printed beside
its times). The other processes then stop, and ``--rounds`` rounds alternate the two chosen processes,
solution then Keras (the order reversed every other round, ``_rounds.py``), so a burst of load hits
both sides of a round. Each round gives a ratio; the figure is the median ratio over rounds with its
interquartile range and min-max, and the verdict is the median against the target ("borderline" when
the target lies inside the interquartile range). Every process warms each operation up (``tf.function``
tracing, first-touch allocations) before it says it is ready; the naive units are not warmed (seconds
of loops, nothing to trace) and are timed against the fast ones in ``--naive-rounds`` rounds of their own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _rounds import interleave, ratio_line, ratios, spread, verdict  # benchmarks/ is a folder of scripts

ROOT = Path(__file__).resolve().parent.parent
SHAPE, FILTERS, KERNEL, POOL = (64, 32, 32, 32), 64, 3, 2
TARGETS = {"conv forward": 1.5, "conv backward": 2.5, "max pool": 3.0}  # issue 16's, on a quiet 2-core machine
ONE_PRODUCT = "one product for the batch"
NAIVE = {"conv forward": "naive conv forward", "conv backward": "naive conv backward"}
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "BENCH_ONE_THREAD": "1"}
REQUEST_SECONDS, MAX_CALLS = 0.02, 20  # a request times calls enough to last about 20 ms (at most 20 calls)
SETTINGS = {  # side -> setting -> environment of its process
    "numpy": {"all cores": {}, "1 thread/call": ONE_THREAD},
    "keras": {f"oneDNN {onednn}, {threads}": {"TF_ENABLE_ONEDNN_OPTS": flag, **extra}
              for onednn, flag in (("on", "1"), ("off", "0"))
              for threads, extra in (("all cores", {}), ("1 thread/call", ONE_THREAD))},
}


def data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=SHAPE).astype(np.float32)
    w = (rng.normal(size=(KERNEL, KERNEL, SHAPE[3], FILTERS)) / np.sqrt(KERNEL * KERNEL * SHAPE[3])).astype(np.float32)
    b = rng.normal(size=FILTERS).astype(np.float32)
    dout = rng.normal(size=(*SHAPE[:3], FILTERS)).astype(np.float32)
    return x, w, b, dout


# ----------------------------------------------------------------------------- one process per side and setting

def numpy_operations() -> dict:
    """The solution notebooks' units, loaded as the grader loads a submission; TensorFlow never imported."""
    sys.path.insert(0, str(ROOT))
    from dlcourse.autograder.engine.extract import read_notebook
    from dlcourse.autograder.engine.sandboxed.worker import load

    conv = load(read_notebook(ROOT / "solutions" / "04_convolution.ipynb").cells)["namespace"]
    pool = load(read_notebook(ROOT / "solutions" / "05_pooling.ipynb").cells)["namespace"]
    import numpy as np

    x, w, b, dout = data()
    out, cache = conv["conv2d_forward_fast"](x, w, b, 1, "same")
    assert out.dtype.name == "float32", out.dtype
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), (KERNEL, KERNEL),
                                                       axis=(1, 2))  # (N, H, W, C, kh, kw)
    rows = np.ascontiguousarray(windows.transpose(0, 1, 2, 4, 5, 3)).reshape(-1, KERNEL * KERNEL * SHAPE[3])
    kernel = w.reshape(-1, FILTERS)
    naive_cache = {}

    def naive_backward():
        if "cache" not in naive_cache:
            naive_cache["cache"] = conv["conv2d_forward"](x, w, b, 1, "same")[1]
        return conv["conv2d_backward"](dout, naive_cache["cache"])

    return {
        "conv forward": lambda: conv["conv2d_forward_fast"](x, w, b, 1, "same"),
        "conv backward": lambda: conv["conv2d_backward_fast"](dout, cache),
        "max pool": lambda: pool["max_pool2d_forward"](x, POOL),
        ONE_PRODUCT: lambda: rows @ kernel,
        NAIVE["conv forward"]: lambda: conv["conv2d_forward"](x, w, b, 1, "same"),
        NAIVE["conv backward"]: naive_backward,
    }


def keras_operations() -> dict:
    """Keras layers in ``tf.function``; the environment (oneDNN on or off) is set by the parent."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import keras
    import tensorflow as tf

    if os.environ.get("BENCH_ONE_THREAD"):
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)

    x, w, b, dout = (tf.constant(array) for array in data())
    conv = keras.layers.Conv2D(FILTERS, KERNEL, padding="same")
    conv.build(SHAPE)
    conv.set_weights([w.numpy(), b.numpy()])
    pool = keras.layers.MaxPooling2D(POOL)

    forward = tf.function(lambda x_: conv(x_))

    @tf.function
    def gradients(x_):
        with tf.GradientTape() as tape:
            tape.watch(x_)
            loss = tf.reduce_sum(conv(x_) * dout)
        return tape.gradient(loss, [x_, *conv.trainable_variables])

    pooled = tf.function(lambda x_: pool(x_))
    return {
        "conv forward": lambda: forward(x).numpy(),
        "conv backward": lambda: [g.numpy() for g in gradients(x)],
        "max pool": lambda: pooled(x).numpy(),
    }


def serve(side: str) -> None:
    """Warm every fast operation up, say ``ready``, then answer each request line (an operation's name) with the
    seconds of one call: the mean of ``calls`` back-to-back calls, ``calls`` fixed at the warm-up so that a request
    lasts about ``REQUEST_SECONDS`` (1 for a call that long, such as the convolutions; more for max pooling's few
    milliseconds, which one scheduler tick would otherwise decide)."""
    operations = numpy_operations() if side == "numpy" else keras_operations()
    calls = {}
    for name, operation in operations.items():
        calls[name] = 1
        if not name.startswith("naive"):  # seconds each, and loops with nothing to trace: not warmed
            operation()  # tf.function tracing, first-touch allocations
            started = time.perf_counter()
            operation()
            calls[name] = max(1, min(MAX_CALLS, round(REQUEST_SECONDS / (time.perf_counter() - started))))
    if side == "numpy":
        assert "tensorflow" not in sys.modules, "the NumPy side must not import TensorFlow"
    print(json.dumps({"calls": calls, "tensorflow": "tensorflow" in sys.modules}), flush=True)
    for line in sys.stdin:
        name = line.strip()
        operation = operations[name]
        started = time.perf_counter()
        for _ in range(calls[name]):
            operation()
        print(json.dumps({"seconds": (time.perf_counter() - started) / calls[name]}), flush=True)


class Server:
    """A long-lived child of this script (one side, one setting) that times one call per request."""

    def __init__(self, side: str, setting: str):
        self.side, self.setting = side, setting
        self.process = subprocess.Popen([sys.executable, __file__, "--serve", side], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                         env={**os.environ, **SETTINGS[side][setting]})

    def _reply(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.side} side ({self.setting}) failed:\n{self.process.stderr.read()[-3000:]}")
        return json.loads(line)

    def wait_ready(self) -> dict:
        return self._reply()

    def time(self, operation: str) -> float:
        self.process.stdin.write(operation + "\n")
        self.process.stdin.flush()
        return self._reply()["seconds"]  # of one call

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)


# ----------------------------------------------------------------------------- the run

def calibrate(servers: dict, rounds: int) -> tuple[dict, dict]:
    """For every operation and side, the setting of lowest median time over ``rounds`` interleaved rounds.

    Returns ``{(side, operation): setting}`` and ``{(side, operation): {setting: median seconds}}``.
    """
    chosen, medians = {}, {}
    for operation in (*TARGETS, ONE_PRODUCT):
        sides = {(side, setting): (lambda s=server, o=operation: s.time(o))
                 for (side, setting), server in servers.items() if side == "numpy" or operation in TARGETS}
        times = interleave(sides, rounds)
        for side in ("numpy", "keras"):
            found = {setting: spread(values).median for (s, setting), values in times.items() if s == side}
            if found:
                medians[side, operation] = found
                chosen[side, operation] = min(found, key=found.get)
    return chosen, medians


def run(rounds: int, calibration_rounds: int, naive_rounds: int) -> dict:
    load_before = os.getloadavg()[0]
    servers = {(side, setting): Server(side, setting) for side in SETTINGS for setting in SETTINGS[side]}
    try:
        calls = {}
        for (side, setting), server in servers.items():
            ready = server.wait_ready()
            if side == "numpy" and ready["tensorflow"]:
                raise SystemExit("the NumPy side imported TensorFlow")
            calls[f"{side}, {setting}"] = ready["calls"]
        chosen, calibration = calibrate(servers, calibration_rounds)
        for key, server in servers.items():
            if key not in {(side, setting) for (side, _), setting in chosen.items()}:
                server.close()
        sides = {}  # ("solution" | "keras", operation) -> one timed call in the chosen process
        for operation in TARGETS:
            sides["solution", operation] = lambda o=operation: servers["numpy", chosen["numpy", o]].time(o)
            sides["keras", operation] = lambda o=operation: servers["keras", chosen["keras", o]].time(o)
        sides["solution", ONE_PRODUCT] = lambda: servers["numpy", chosen["numpy", ONE_PRODUCT]].time(ONE_PRODUCT)
        times = interleave(sides, rounds)
        naive = {}
        if naive_rounds:
            naive_sides = {}
            for fast, slow in NAIVE.items():
                server = servers["numpy", chosen["numpy", fast]]
                naive_sides[slow] = lambda s=server, o=slow: s.time(o)
                naive_sides[fast] = lambda s=server, o=fast: s.time(o)
            naive = interleave(naive_sides, naive_rounds)
    finally:
        for server in servers.values():
            server.close()
    rows = []
    for operation, target in TARGETS.items():
        per_round = ratios(times["solution", operation], times["keras", operation])
        summary = spread(per_round)
        rows.append({"operation": operation, "target": target, "ratio": summary.as_dict(), "per_round": per_round,
                     "verdict": verdict(summary, target), "met": summary.median <= target,
                     "numpy_median_s": spread(times["solution", operation]).median,
                     "numpy_setting": chosen["numpy", operation],
                     "keras_median_s": spread(times["keras", operation]).median,
                     "keras_setting": chosen["keras", operation]})
    one_product = ratios(times["solution", ONE_PRODUCT], times["keras", "conv forward"])
    return {"workload": f"float32 x{SHAPE} -> Conv2D({FILTERS}, {KERNEL}x{KERNEL}, same); MaxPooling2D({POOL})",
            "cores": os.cpu_count(), "load_average": [load_before, os.getloadavg()[0]], "rounds": rounds,
            "calibration_rounds": calibration_rounds, "rows": rows, "calls_per_request": calls,
            "calibration": {f"{side}: {operation}": found for (side, operation), found in calibration.items()},
            "one_product": {"numpy_median_s": spread(times["solution", ONE_PRODUCT]).median,
                            "setting": chosen["numpy", ONE_PRODUCT], "per_round": one_product,
                            "over_keras_forward": spread(one_product).as_dict()},
            "naive": {fast: {"per_round": ratios(naive[slow], naive[fast]),
                             "naive_median_s": spread(naive[slow]).median}
                      for fast, slow in NAIVE.items()} if naive else {}}


def report(result: dict) -> str:
    before, after = result["load_average"]
    lines = [f"workload: {result['workload']}",
             f"{result['cores']} cores; load average {before:.1f} before, {after:.1f} after; settings chosen over "
             f"{result['calibration_rounds']} interleaved rounds, then {result['rounds']} rounds solution/Keras",
             f"{'operation':<15}{'solution':>10}  {'(setting)':<14}{'Keras':>9}  {'(setting)':<29}"
             f"{'ratio':>7}{'target':>8}  met   (median times; ratio: median of the rounds' ratios)"]
    for row in result["rows"]:
        lines.append(f"{row['operation']:<15}{row['numpy_median_s'] * 1e3:>8.1f}ms  {row['numpy_setting']:<14}"
                     f"{row['keras_median_s'] * 1e3:>7.1f}ms  {row['keras_setting']:<29}"
                     f"{row['ratio']['median']:>6.2f}x{row['target']:>7.1f}x  {'yes' if row['met'] else 'NO'}")
    for row in result["rows"]:
        lines.append(ratio_line(f"{row['operation']}, solution / Keras", row["per_round"], target=row["target"]))
    one = result["one_product"]
    lines.append(ratio_line(f"the forward's matrix product in one call for the whole batch "
                            f"({one['numpy_median_s'] * 1e3:.1f}ms, {one['setting']}) / Keras's whole forward",
                            one["per_round"]) + " (the solution: blocks of images, one per core)")
    for operation, naive in result["naive"].items():
        lines.append(ratio_line(f"naive/fast {operation} ({naive['naive_median_s']:.2f} s with loops over output "
                                f"positions)", naive["per_round"]))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200,
                        help="rounds solution/Keras, one request each (default 200)")
    parser.add_argument("--calibration-rounds", type=int, default=10,
                        help="rounds over every setting that choose each side's setting (default 10)")
    parser.add_argument("--naive-rounds", type=int, default=3,
                        help="rounds naive/fast, seconds each (default 3; 0 leaves the naive units out)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--serve", choices=["numpy", "keras"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    for option in ("rounds", "calibration_rounds"):
        if getattr(args, option) < 1:
            parser.error(f"Expected --{option.replace('_', '-')} >= 1. Received {getattr(args, option)}.")
    if args.naive_rounds < 0:
        parser.error(f"Expected --naive-rounds >= 0. Received {args.naive_rounds}.")
    result = run(args.rounds, args.calibration_rounds, args.naive_rounds)
    print(report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0  # figures to read, not a verdict: the "met" column says which targets hold


if __name__ == "__main__":
    sys.exit(main())
