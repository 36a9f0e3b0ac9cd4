"""What each isolation level costs: worker start-up, and grading one 01 and one 09 solution.

Both levels are measured in this one run on the same machine, with the same warm reference cache, in
interleaved rounds (bwrap then fallback, the order reversed every other round, ``_rounds.py``): ``--repeat``
rounds of worker starts, half as many of grading 01, one of grading 09 per five. The fallback figures are
printed as ratios against bubblewrap: the median of the rounds' ratios, with its spread. Prints figures,
asserts nothing.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _rounds import interleave, ratio_line, ratios  # benchmarks/ is a folder of scripts

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from dlcourse.autograder.cases import ASSIGNMENTS, COURSE  # after the TensorFlow settings
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.reference_cache import ReferenceCache
from dlcourse.autograder.engine.sandbox import Sandbox, bwrap_available
from dlcourse.autograder.engine.session import WorkerSession

ROOT = Path(__file__).resolve().parent.parent


def start_up(level: str, frameworks: bool):
    """A timer: seconds from nothing to a worker that has confined itself and answered (NumPy imported)."""
    sandbox = Sandbox(frameworks=frameworks, isolation=level)

    def once() -> float:
        with WorkerSession(sandbox, []) as session:
            started = time.perf_counter()
            session.probe()
            return time.perf_counter() - started

    once()  # the first start may assemble the runtime folder: not counted
    return once


def grading(level: str, name: str, cache: ReferenceCache):
    """A timer: seconds to grade the solution of ``name`` (full marks asserted), references warm."""
    grader = Grader(COURSE, secret="benchmark", cache=cache, isolation=level)
    notebook = ROOT / "solutions" / f"{name}.ipynb"
    grader.grade(notebook, ASSIGNMENTS[name])  # warms the reference cache

    def once() -> float:
        result = grader.grade(notebook, ASSIGNMENTS[name])
        assert result.score == result.max_score, f"{name} at {level}: {result.score}/{result.max_score}"
        return result.seconds

    return once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds of worker starts (default 5)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"Expected --repeat >= 1. Received {args.repeat}.")
    levels = ["bwrap", "fallback"] if bwrap_available() else ["fallback"]
    cache = ReferenceCache(Path(tempfile.mkdtemp(prefix="dlcourse-bench-")))
    measures = {  # measure -> (a timer for a level, rounds)
        "worker start (NumPy)": (lambda level: start_up(level, False), args.repeat),
        "worker start (Keras sandbox)": (lambda level: start_up(level, True), args.repeat),
        "grade 01_backprop": (lambda level: grading(level, "01_backprop", cache), max(1, args.repeat // 2)),
        "grade 09_gan": (lambda level: grading(level, "09_gan", cache), max(1, args.repeat // 5)),
    }
    rows = {measure: interleave({level: timer(level) for level in levels}, rounds)
            for measure, (timer, rounds) in measures.items()}
    print(f"{'measure':<30}" + "".join(f"{level:>12}" for level in levels)
          + ("  fallback/bwrap (medians; the ratio: median of the rounds')" if len(levels) == 2 else ""))
    for measure, times in rows.items():
        values = [statistics.median(times[level]) for level in levels]
        line = f"{measure:<30}" + "".join(f"{value:>11.3f}s" for value in values)
        if len(levels) == 2:
            line += f"  {statistics.median(ratios(times['fallback'], times['bwrap'])):>14.2f}x"
        print(line)
    if len(levels) == 2:
        for measure, times in rows.items():
            print(ratio_line(f"{measure}, fallback / bwrap", ratios(times["fallback"], times["bwrap"])))
    else:
        print("bubblewrap cannot create namespaces here: only the fallback level was measured", file=sys.stderr)


if __name__ == "__main__":
    main()
