"""What each isolation level costs: worker start-up, and grading one 01 and one 09 solution.

Both levels are measured in this one run on the same machine, with the same warm reference cache;
the fallback figures are printed as ratios against bubblewrap. Prints figures, asserts nothing.

    .venv/bin/python benchmarks/isolation.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from dlcourse.autograder.cases import ASSIGNMENTS, COURSE  # after the TensorFlow settings
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.references import ReferenceCache
from dlcourse.autograder.engine.sandbox import Sandbox, bwrap_available
from dlcourse.autograder.engine.session import WorkerSession

ROOT = Path(__file__).resolve().parent.parent


def start_up(level: str, frameworks: bool, repeat: int) -> float:
    """Median seconds from nothing to a worker that has confined itself and answered (NumPy imported)."""
    times = []
    sandbox = Sandbox(frameworks=frameworks, isolation=level)
    for _ in range(repeat + 1):  # the first start may assemble the runtime folder: not counted
        with WorkerSession(sandbox, []) as session:
            started = time.perf_counter()
            session.probe()
            times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def grading(level: str, name: str, cache: ReferenceCache, repeat: int) -> float:
    grader = Grader(COURSE, secret="benchmark", cache=cache, isolation=level)
    notebook = ROOT / "solutions" / f"{name}.ipynb"
    grader.grade(notebook, ASSIGNMENTS[name])  # warms the reference cache
    times = []
    for _ in range(repeat):
        result = grader.grade(notebook, ASSIGNMENTS[name])
        assert result.score == result.max_score, f"{name} at {level}: {result.score}/{result.max_score}"
        times.append(result.seconds)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    levels = ["bwrap", "fallback"] if bwrap_available() else ["fallback"]
    cache = ReferenceCache(Path(tempfile.mkdtemp(prefix="dlcourse-bench-")))
    rows = {}
    for level in levels:
        rows[level] = {
            "worker start (NumPy)": start_up(level, False, args.repeat),
            "worker start (Keras sandbox)": start_up(level, True, args.repeat),
            "grade 01_backprop": grading(level, "01_backprop", cache, max(1, args.repeat // 2)),
            "grade 09_gan": grading(level, "09_gan", cache, 1),
        }
    print(f"{'measure':<30}" + "".join(f"{level:>12}" for level in levels)
          + ("  fallback/bwrap" if len(levels) == 2 else ""))
    for measure in rows[levels[0]]:
        values = [rows[level][measure] for level in levels]
        line = f"{measure:<30}" + "".join(f"{value:>11.3f}s" for value in values)
        if len(levels) == 2:
            line += f"  {values[1] / values[0]:>14.2f}x"
        print(line)
    if len(levels) == 1:
        print("bubblewrap cannot create namespaces here: only the fallback level was measured", file=sys.stderr)


if __name__ == "__main__":
    main()
