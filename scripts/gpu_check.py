"""Check the Keras references on a GPU: the device used, agreement with the CPU, time per call, and grading.

Run through ``scripts/gpu_check.sh`` on a machine with an NVIDIA GPU and JAX or PyTorch with CUDA.
The CPU figures come from a subprocess of the same script with ``CUDA_VISIBLE_DEVICES=""``.

    python scripts/gpu_check.py --backend jax            # GPU run, CPU comparison, grading of solutions
    python scripts/gpu_check.py --backend jax --dump F   # (internal) compute every reference into F
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "gpu-check"


def dump(path: Path) -> None:
    """Compute every case's reference on this process's device; write values and seconds per call."""
    import numpy as np

    from dlcourse.autograder.cases import ASSIGNMENTS
    from dlcourse.autograder.engine.sandboxed import wire
    from dlcourse.autograder.engine.reference_cache import ReferenceCache, cache_dir

    cache = ReferenceCache(cache_dir())  # $DLCOURSE_CACHE: the grading below reuses these values
    values, seconds = {}, {}
    for assignment in ASSIGNMENTS.values():
        for case in assignment.cases:
            if case.judge is not None or case.driver.name == "keras_model":
                continue
            inputs = case.make_inputs(SECRET)
            cache.expected(case, inputs)  # warm-up (tracing, compilation) that also fills the cache for grading
            started = time.perf_counter()
            values[case.id] = case.reference(**inputs)
            seconds[case.id] = np.float64(time.perf_counter() - started)
    path.write_bytes(wire.encode({"values": values, "seconds": seconds, "device": describe_device()}))


def describe_device() -> str:
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "jax":
        import jax

        return ", ".join(str(device) for device in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    return ", ".join(device.name for device in tf.config.list_logical_devices())


def compare(gpu: dict, cpu: dict) -> tuple[int, list[str]]:
    """How many cases agree within their tolerance, and the others' worst differences."""

    from dlcourse.autograder.cases import ASSIGNMENTS

    cases = {case.id: case for assignment in ASSIGNMENTS.values() for case in assignment.cases}
    agree, problems = 0, []
    for case_id, want in cpu["values"].items():
        got = gpu["values"][case_id]
        case = cases[case_id]
        worst = _worst(got, want, case.rtol, case.atol)
        if worst is None:
            agree += 1
        else:
            problems.append(f"{case_id}: {worst}")
    return agree, problems


def _worst(got, want, rtol, atol):
    import numpy as np

    if isinstance(want, dict):
        return next((w for k in want if (w := _worst(got[k], want[k], rtol, atol))), None)
    if isinstance(want, (list, tuple)):
        return next((w for g, v in zip(got, want) if (w := _worst(g, v, rtol, atol))), None)
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    error = np.abs(got - want)
    if np.all(error <= atol + rtol * np.abs(want)):
        return None
    return f"max abs difference {error.max():.3g} (rtol={rtol:g}, atol={atol:g})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("jax", "torch", "tensorflow"), required=True)
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--allow-cpu", action="store_true", help="run even where no GPU is visible (a dry run)")
    args = parser.parse_args()
    os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("JAX_ENABLE_X64", "1")
    if args.dump:
        dump(args.dump)
        return 0

    from dlcourse.autograder.engine.sandboxed import wire

    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="dlcourse-gpu-check-"))
    processes = {}
    for name, visible in (("gpu", os.environ.get("CUDA_VISIBLE_DEVICES", "0")), ("cpu", "")):
        # both at once: the CPU run uses the host's cores while the GPU run uses the device
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": visible, "DLCOURSE_CACHE": str(folder / name)}
        processes[name] = subprocess.Popen([sys.executable, __file__, "--backend", args.backend, "--dump",
                                            str(folder / f"{name}.npz")], env=env, cwd=ROOT)
    if any(process.wait() != 0 for process in processes.values()):
        print("computing the references failed (see above)")
        return 1
    runs = {name: wire.decode((folder / f"{name}.npz").read_bytes()) for name in processes}
    gpu, cpu = runs["gpu"], runs["cpu"]
    print(f"backend: {args.backend}")
    print(f"device used: {gpu['device']}   (CPU run: {cpu['device']})")
    if "cuda" not in gpu["device"].lower() and "gpu" not in gpu["device"].lower() and not args.allow_cpu:
        print("no GPU was visible: install the CUDA build of JAX or PyTorch (see README, 'On a GPU')")
        return 1
    agree, problems = compare(gpu, cpu)
    print(f"agreement with CPU: {agree} of {len(cpu['values'])} cases within their tolerance")
    for problem in problems[:20]:
        print(f"  differs: {problem}")
    gpu_times, cpu_times = list(gpu["seconds"].values()), list(cpu["seconds"].values())
    print(f"time per reference call: GPU median {1000 * statistics.median(gpu_times):.1f} ms "
          f"(total {sum(gpu_times):.2f} s), CPU median {1000 * statistics.median(cpu_times):.1f} ms "
          f"(total {sum(cpu_times):.2f} s)")

    from dlcourse.autograder.cases import ASSIGNMENTS
    from dlcourse.autograder.cases import COURSE
    from dlcourse.autograder.engine.grade import Grader
    from dlcourse.autograder.engine.reference_cache import ReferenceCache

    grader = Grader(COURSE, secret=SECRET, cache=ReferenceCache(folder / "gpu" / "references"))
    tensorflow_installed = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True).returncode == 0
    for name, assignment in ASSIGNMENTS.items():
        if assignment.frameworks and not tensorflow_installed:
            print(f"grading {name}: skipped (its students write TensorFlow-backed Keras; TensorFlow is not installed)")
            continue
        result = grader.grade(ROOT / "solutions" / f"{name}.ipynb")
        print(f"grading {name}: {result.score:g} / {result.max_score:g} in {result.seconds:.1f} s")
    print(f"total: {time.perf_counter() - started:.0f} s")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
