"""Batch grading: seconds per submission with 1 and 2 workers, parallel efficiency, and serial nbgrader autograde.

Generates COUNT submissions of 01 (a third complete, a third with realistic bugs, a third broken:
malformed JSON, a deleted cell, or a crashing unit), grades them with ``dlcourse grade-batch`` using
1 and then 2 worker processes (references cached beforehand, as in a real batch after the first
submission), then runs ``nbgrader autograde`` on the same submissions, serially, in the same run.
Prints figures; asserts nothing.

    .venv/bin/python benchmarks/batch.py [--count 200] [--nbgrader-count N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SOLUTION = ROOT / "solutions" / "01_backprop.ipynb"
BUGGY = ROOT / "examples" / "submissions" / "buggy" / "01_backprop.ipynb"


def broken_variants() -> list[str]:
    notebook = json.loads(SOLUTION.read_text())
    deleted = dict(notebook, cells=[c for c in notebook["cells"] if "def mlp_loss_and_grads" not in "".join(c["source"])])
    crashing = dict(notebook, cells=notebook["cells"] + [{"cell_type": "code", "metadata": {}, "outputs": [],
                                                          "execution_count": None,
                                                          "source": "def dense_forward(x, w, b):\n    return x[99], None\n"}])
    return ["{ not json", json.dumps(deleted), json.dumps(crashing)]


def make_submissions(folder: Path, count: int) -> None:
    broken = broken_variants()
    for index in range(count):
        target = folder / f"student{index:03d}" / "01_backprop"
        target.mkdir(parents=True)
        kind = index % 3
        if kind == 0:
            shutil.copy(SOLUTION, target / "01_backprop.ipynb")
        elif kind == 1:
            shutil.copy(BUGGY, target / "01_backprop.ipynb")
        else:
            (target / "01_backprop.ipynb").write_text(broken[(index // 3) % len(broken)])


def run(command: list[str], env: dict, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--nbgrader-count", type=int, help="submissions for nbgrader autograde (default: --count)")
    args = parser.parse_args()
    nbgrader_count = args.nbgrader_count or args.count
    with tempfile.TemporaryDirectory(prefix="dlcourse-batch-") as folder:
        scratch = Path(folder)
        submitted = scratch / "submitted"
        make_submissions(submitted, args.count)
        env = {**os.environ, "DLCOURSE_SECRET": "benchmark", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
               "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
        cache = scratch / "warm"
        run([str(BIN / "dlcourse"), "grade-batch", str(submitted), "--out", str(cache), "--no-figures"], env)
        seconds = {}
        for workers in (1, 2):
            out = scratch / f"out-{workers}"
            shutil.copytree(cache / "references", out / "references")
            seconds[workers] = run([str(BIN / "dlcourse"), "grade-batch", str(submitted), "--out", str(out),
                                    "--workers", str(workers), "--no-figures"], env)
        course = scratch / "course"
        (course / "source" / "ps1").mkdir(parents=True)
        shutil.copy(SOLUTION, course / "source" / "ps1" / "01_backprop.ipynb")
        students = [f"student{index:03d}" for index in range(nbgrader_count)]
        (course / "nbgrader_config.py").write_text(
            "c = get_config()\nc.CourseDirectory.root = '.'\nc.CourseDirectory.db_assignments = [dict(name='ps1')]\n"
            f"c.CourseDirectory.db_students = {[dict(id=s) for s in students]!r}\nc.Execute.timeout = 600\n")
        run([str(BIN / "nbgrader"), "generate_assignment", "ps1", "--force"], env, cwd=course)
        for student in students:
            target = course / "submitted" / student / "ps1"
            target.mkdir(parents=True)
            shutil.copy(submitted / student / "01_backprop" / "01_backprop.ipynb", target / "01_backprop.ipynb")
        started = time.perf_counter()
        subprocess.run([str(BIN / "nbgrader"), "autograde", "ps1", "--force"], env=env, cwd=course,
                       capture_output=True, text=True)  # broken notebooks make it exit non-zero; it goes on
        nbgrader_seconds = time.perf_counter() - started
    one, two = seconds[1] / args.count, seconds[2] / args.count
    print(f"{args.count} submissions of 01 (complete / buggy / broken in equal parts), references cached, "
          f"{os.cpu_count()} CPUs:")
    print(f"  dlcourse grade-batch --workers 1: {seconds[1]:7.1f} s  = {one:.2f} s per submission")
    print(f"  dlcourse grade-batch --workers 2: {seconds[2]:7.1f} s  = {two:.2f} s per submission")
    print(f"  parallel efficiency with 2 workers: {seconds[1] / (2 * seconds[2]):.2f}")
    print(f"  nbgrader autograde, serial, {nbgrader_count} submissions: {nbgrader_seconds:7.1f} s  = "
          f"{nbgrader_seconds / nbgrader_count:.2f} s per submission")
    print(f"  nbgrader / dlcourse (1 worker), per submission: {(nbgrader_seconds / nbgrader_count) / one:.1f}x")


if __name__ == "__main__":
    main()
