"""Seconds to grade one 01 submission: dlcourse cold and with references cached, next to nbgrader autograde.

Each figure is a fresh process, as a user would run it; all three are measured in this one run on the
same machine. Prints figures, asserts nothing.

    .venv/bin/python benchmarks/grading.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def dlcourse_times(scratch: Path, repeat: int) -> tuple[list[float], list[float]]:
    cold, cached = [], []
    for index in range(repeat):
        cache = scratch / f"cache-{index}"
        env = {**os.environ, "DLCOURSE_CACHE": str(cache), "DLCOURSE_SECRET": "benchmark"}
        command = [str(BIN / "dlcourse"), "grade", str(NOTEBOOK)]
        cold.append(timed(command, env))
        cached.append(timed(command, env))
    return cold, cached


def nbgrader_times(scratch: Path, repeat: int) -> list[float]:
    """``nbgrader autograde`` of the same notebook in a throw-away course (only autograde is timed)."""
    times = []
    for index in range(repeat):
        course = scratch / f"course-{index}"
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
        times.append(timed([str(BIN / "nbgrader"), "autograde", "ps1", "--force"], env, cwd=course))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-") as folder:
        scratch = Path(folder)
        cold, cached = dlcourse_times(scratch, args.repeat)
        nbgrader = nbgrader_times(scratch, args.repeat)
    median = statistics.median
    print(f"grading {NOTEBOOK.relative_to(ROOT)} ({args.repeat} runs each, median seconds, fresh process each):")
    print(f"  dlcourse grade, cold (empty reference cache): {median(cold):6.2f} s   runs: {_runs(cold)}")
    print(f"  dlcourse grade, references cached:            {median(cached):6.2f} s   runs: {_runs(cached)}")
    print(f"  nbgrader autograde (runs the whole notebook): {median(nbgrader):6.2f} s   runs: {_runs(nbgrader)}")
    print(f"  ratio cached / nbgrader: {median(cached) / median(nbgrader):.2f}; "
          f"cold / nbgrader: {median(cold) / median(nbgrader):.2f}")


def _runs(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    main()
