"""``dlcourse similarity`` on a synthetic class: seconds for the whole command, against a 60 s target.

Builds COUNT submissions of 01_backprop from ``tests/similarity_corpus/`` (each student takes one of the
independent implementations and disguises it: every name renamed, functions shuffled, reformatted,
comments replaced, dead statements added, each with its own seed), then times the command as an
instructor runs it, in a fresh process. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/similarity.py [--count 1000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60.0  # issue 27: 1,000 submissions on 2 cores
ASSIGNMENT = "01_backprop"
sys.path.insert(0, str(ROOT / "tests"))

from similarity_corpus.corpus import disguise, independent, stub_path, write_class  # noqa: E402

from dlcourse.autograder.cases import COURSE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    units = COURSE.assignments[ASSIGNMENT].units
    bases = list(independent(ASSIGNMENT).values())
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "submitted"
        started = time.perf_counter()
        write_class(folder, ASSIGNMENT, {f"student{number:04d}": disguise(bases[number % len(bases)], units, number)
                                         for number in range(args.count)})
        print(f"built {args.count} submissions of {ASSIGNMENT} in {time.perf_counter() - started:.1f} s")
        command = [str(Path(sys.executable).parent / "dlcourse"), "similarity", str(folder), "--assignment",
                   ASSIGNMENT, "--out", str(Path(scratch) / "out"), "--stub", str(stub_path(ASSIGNMENT))]
        started, before = time.perf_counter(), _children_cpu()
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        seconds, cpu = time.perf_counter() - started, _children_cpu() - before
    print(result.stdout.strip().splitlines()[-1])
    print(f"dlcourse similarity, {args.count} submissions: {seconds:.1f} s "
          f"({seconds / TARGET_SECONDS:.2f} of the {TARGET_SECONDS:.0f} s target); {cpu:.1f} s of CPU "
          "(on a machine shared with other work, the CPU time is the figure that does not depend on the others)")


def _children_cpu() -> float:
    """User and system seconds of the finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
