"""Seconds to grade one 01 submission: dlcourse cold and with references cached, next to nbgrader autograde.

Each figure is a fresh process, as a user would run it; all three are measured in this one run on the
same machine, in ``--repeat`` interleaved rounds (cold, cached, nbgrader, then the other way round,
``_rounds.py``), so a burst of load hits all three of a round. Cold: an empty reference cache each
time; cached: a cache warmed once before the rounds. The ratios are the medians of the rounds' ratios,
with their spread. Prints figures, asserts nothing.

    .venv/bin/python benchmarks/grading.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _rounds import interleave, ratio_line, ratios  # benchmarks/ is a folder of scripts

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "solutions" / "01_backprop.ipynb"
BIN = Path(sys.executable).parent


def timed(command: list[str], env: dict, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")
    return seconds


def dlcourse_grade(cache: Path) -> float:
    """Seconds of ``dlcourse grade`` of the notebook with ``cache`` as the reference cache."""
    env = {**os.environ, "DLCOURSE_CACHE": str(cache), "DLCOURSE_SECRET": "benchmark"}
    return timed([str(BIN / "dlcourse"), "grade", str(NOTEBOOK)], env)


def nbgrader_autograde(course: Path) -> float:
    """``nbgrader autograde`` of the same notebook in a throw-away course (only autograde is timed)."""
    (course / "source" / "ps1").mkdir(parents=True)
    shutil.copy(NOTEBOOK, course / "source" / "ps1" / NOTEBOOK.name)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = '.'\nc.CourseDirectory.db_assignments = [dict(name='ps1')]\n"
        "c.CourseDirectory.db_students = [dict(id='student')]\nc.Execute.timeout = 600\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0",
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    timed([str(BIN / "nbgrader"), "generate_assignment", "ps1", "--force"], env, cwd=course)
    submitted = course / "submitted" / "student" / "ps1"
    submitted.mkdir(parents=True)
    shutil.copy(NOTEBOOK, submitted / NOTEBOOK.name)
    return timed([str(BIN / "nbgrader"), "autograde", "ps1", "--force"], env, cwd=course)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (default 5)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"Expected --repeat >= 1. Received {args.repeat}.")
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-") as folder:
        scratch = Path(folder)
        fresh = itertools.count()  # a new folder for each cold cache and each nbgrader course
        dlcourse_grade(scratch / "warm-cache")  # fills the cache the "cached" side uses
        times = interleave({
            "cold": lambda: dlcourse_grade(scratch / f"cache-{next(fresh)}"),
            "cached": lambda: dlcourse_grade(scratch / "warm-cache"),
            "nbgrader": lambda: nbgrader_autograde(scratch / f"course-{next(fresh)}"),
        }, args.repeat)
    median = statistics.median
    cold, cached, nbgrader = times["cold"], times["cached"], times["nbgrader"]
    print(f"grading {NOTEBOOK.relative_to(ROOT)} ({args.repeat} interleaved rounds, median seconds, "
          "fresh process each):")
    print(f"  dlcourse grade, cold (empty reference cache): {median(cold):6.2f} s   runs: {_runs(cold)}")
    print(f"  dlcourse grade, references cached:            {median(cached):6.2f} s   runs: {_runs(cached)}")
    print(f"  nbgrader autograde (runs the whole notebook): {median(nbgrader):6.2f} s   runs: {_runs(nbgrader)}")
    print("  " + ratio_line("cached / nbgrader", ratios(cached, nbgrader)))
    print("  " + ratio_line("cold / nbgrader", ratios(cold, nbgrader)))


def _runs(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    main()
