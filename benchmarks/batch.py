"""Batch grading at scale: per-student time, parallel efficiency, peak memory, the time for 1,000 students x 9
assignments on one machine, and serial ``nbgrader autograde`` beside ``dlcourse grade-batch``.

1. The scale figure. A class of ``--students`` students, each submitting the nine complete solutions
   (every case runs and the training cases train; an unfinished notebook grades faster, a student's
   training that is slower to reach the bar takes longer, up to its case's limit), is graded by ``dlcourse grade-batch`` with 1 worker, 2 workers and one
   per core (``os.cpu_count()``; the distinct counts), references cached beforehand as in a real batch
   after the first submission. The worker counts take turns in ``--rounds`` interleaved rounds (1, 2,
   all, then the other way round, ``_rounds.py``); each round gives each count's parallel efficiency,
   ``E(w) = T(1) / (w * T(w))``, and the figure is its median over rounds with its spread. Printed:
   the grader's own seconds per student for each assignment (the records' ``execution_time``, 1
   worker); per count, the wall seconds per student ``T(w) / students`` (the batch's start-up shared
   among the class: an overestimate for a small class), the efficiency, the peak memory and the
   throughput in submissions per core-hour (``3600 * submissions / (w * T(w))``); and the projected time
   for 1,000 students x 9 assignments on this machine (``1000 * T(w) / students``), so an instructor can
   size a machine, or a Dask cluster from the core-hours. Peak memory: the whole batch (the command,
   its grading processes, their sandboxed workers), summed over its process tree every 0.25 s from
   ``/proc`` (proportional set size: shared pages split among the processes that share them; the
   resident size where ``smaps_rollup`` cannot be read), and the largest single process
   (``ru_maxrss`` from ``wait4``, its descendants included).
2. Against nbgrader. ``--count`` submissions of 01 (a third complete, a third with realistic bugs, a
   third broken: malformed JSON, a deleted cell, or a crashing unit) are graded by ``dlcourse
   grade-batch --workers 1`` and by ``nbgrader autograde``, serially, on ``--nbgrader-count`` of them,
   in ``--rounds`` interleaved rounds: the ratio nbgrader / dlcourse per submission, median over rounds.

Prints figures; asserts nothing.

    .venv/bin/python benchmarks/batch.py [--students 6] [--rounds 3] [--count 60] [--nbgrader-count N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _rounds import interleave, ratio_line, ratios, spread  # benchmarks/ is a folder of scripts

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SOLUTION = ROOT / "solutions" / "01_backprop.ipynb"
BUGGY = ROOT / "examples" / "submissions" / "buggy" / "01_backprop.ipynb"
ASSIGNMENTS = sorted(path.stem for path in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
PROJECTED_STUDENTS = 1000
PAGE = os.sysconf("SC_PAGE_SIZE")
GIB, MIB = 2.0 ** 30, 2.0 ** 20


# ----------------------------------------------------------------------------- the classes

def broken_variants() -> list[str]:
    notebook = json.loads(SOLUTION.read_text())
    deleted = dict(notebook, cells=[c for c in notebook["cells"] if "def mlp_loss_and_grads" not in "".join(c["source"])])
    crashing = dict(notebook, cells=notebook["cells"] + [{"cell_type": "code", "metadata": {}, "outputs": [],
                                                          "execution_count": None,
                                                          "source": "def dense_forward(x, w, b):\n    return x[99], None\n"}])
    return ["{ not json", json.dumps(deleted), json.dumps(crashing)]


def make_submissions(folder: Path, count: int) -> None:
    """``count`` submissions of 01: complete, buggy and broken in turn."""
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


def make_course_class(folder: Path, students: int) -> None:
    """``students`` students, each with the nine complete solutions (``<student>/<assignment>/<assignment>.ipynb``)."""
    for index in range(students):
        for name in ASSIGNMENTS:
            target = folder / f"student{index:03d}" / name
            target.mkdir(parents=True)
            shutil.copy(ROOT / "solutions" / f"{name}.ipynb", target / f"{name}.ipynb")


# ----------------------------------------------------------------------------- running and measuring a command

def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as stream:
                    parent = int(stream.read().rsplit(")", 1)[1].split()[1])  # the name may hold spaces and ")"
            except (OSError, IndexError, ValueError):
                continue
            found.setdefault(parent, []).append(int(name))
    return found


def _memory(pid: int) -> int:
    """Bytes of ``pid``: its proportional set size, or its resident size where smaps_rollup cannot be read."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as stream:
            for line in stream:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm") as stream:
            return int(stream.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_memory(root: int) -> int:
    """Bytes of ``root`` and all its descendants now (``_memory`` of each, summed)."""
    children, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        total += _memory(pid)
        todo += children.get(pid, [])
    return total


def run(command: list[str], env: dict, cwd: Path | None = None, check: bool = True) -> dict:
    """Run ``command``; its wall seconds, the peak of its process tree's memory (sampled) and its largest
    process's peak resident size (``wait4``: its descendants included), in bytes."""
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, text=True)
        peak, done = [0], threading.Event()

        def sample():
            while not done.wait(0.25):
                peak[0] = max(peak[0], tree_memory(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        if check and process.returncode != 0:
            output.seek(0)
            raise SystemExit(f"{' '.join(command)} failed:\n{output.read()[-4000:]}")
    return {"seconds": seconds, "tree_peak": peak[0], "largest_process": usage.ru_maxrss * 1024}


def grade_batch(submitted: Path, out: Path, references: Path, workers: int, env: dict) -> dict:
    """``dlcourse grade-batch`` into a fresh ``out`` holding a copy of the warm ``references``."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(references, out / "references")
    return run([str(BIN / "dlcourse"), "grade-batch", str(submitted), "--out", str(out), "--workers", str(workers),
                "--no-figures"], env)


def records(out: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((out / "results").rglob("*.json"))]


# ----------------------------------------------------------------------------- 1. the scale figure

def scale(scratch: Path, env: dict, students: int, rounds: int) -> dict:
    submitted = scratch / "course-class"
    make_course_class(submitted, students)
    make_course_class(scratch / "course-one-student", 1)
    warm = scratch / "course-warm"
    run([str(BIN / "dlcourse"), "grade-batch", str(scratch / "course-one-student"), "--out", str(warm),
         "--no-figures"], env)  # fills the reference cache, not counted
    counts = sorted({1, 2, os.cpu_count() or 1})
    measured: dict[int, list[dict]] = {count: [] for count in counts}
    per_assignment: dict[str, list[float]] = {name: [] for name in ASSIGNMENTS}
    full_marks, short = [], {}  # graded at full marks, per run; assignment -> notebooks short of full marks

    def side(count: int):
        def time_it() -> float:
            out = scratch / f"course-out-{count}"
            figures = grade_batch(submitted, out, warm / "references", count, env)
            measured[count].append(figures)
            found = records(out)
            full = [r["status"] == "graded" and r["score"] == r["max_score"] > 0 for r in found]
            full_marks.append(sum(full))
            for record, ok in zip(found, full):
                if not ok:
                    name = str(record["assignment"])
                    short[name] = short.get(name, 0) + 1
            if count == 1:
                for name in ASSIGNMENTS:
                    seconds = [r["results"]["execution_time"] for r in found if r["assignment"] == name]
                    per_assignment[name].append(sum(seconds) / students)
            return figures["seconds"]
        return time_it

    times = interleave({count: side(count) for count in counts}, rounds)
    return {"students": students, "submissions": students * len(ASSIGNMENTS), "counts": counts, "times": times,
            "measured": measured, "per_assignment": per_assignment, "full_marks": full_marks, "short": short}


def report_scale(result: dict) -> list[str]:
    students, submissions, counts, times = result["students"], result["submissions"], result["counts"], result["times"]
    rounds = len(times[1])
    short = ", ".join(f"{name} x{count}" for name, count in sorted(result["short"].items()))
    per_assignment = {name: spread(values).median for name, values in result["per_assignment"].items()}
    lines = [f"scale: {students} student{'s' if students > 1 else ''} x {len(per_assignment)} assignments (the complete solutions), references "
             f"cached, {os.cpu_count()} CPUs, {rounds} interleaved round{'s' if rounds > 1 else ''} of worker counts "
             f"{', '.join(map(str, counts))}; at full marks: {min(result['full_marks'])}/{submissions} in the worst run"
             + (f" (short of full marks, over all runs: {short})" if short else ""),
             "  grader's seconds per student, 1 worker (records' execution_time, medians): "
             + ", ".join(f"{name[:2]} {seconds:.2f}" for name, seconds in per_assignment.items())
             + f"; sum {sum(per_assignment.values()):.1f} s",
             f"  {'workers':>7} {'s/student':>10} {'efficiency':>11} {'peak memory: batch':>19} "
             f"{'largest process':>16} {'submissions/core-hour':>22} {'1,000 students':>15}"]
    efficiency = {count: ratios(times[1], [count * seconds for seconds in times[count]]) for count in counts}
    projected = {}
    for count in counts:
        wall = spread(times[count]).median
        per_student = wall / students
        throughput = 3600 * submissions / (count * wall)
        projected[count] = PROJECTED_STUDENTS * per_student
        tree = max(figures["tree_peak"] for figures in result["measured"][count])
        largest = max(figures["largest_process"] for figures in result["measured"][count])
        lines.append(f"  {count:>7} {per_student:>9.2f}s {spread(efficiency[count]).median:>11.2f} "
                     f"{tree / GIB:>15.2f} GiB {largest / MIB:>12.0f} MiB {throughput:>22,.0f} "
                     f"{projected[count] / 3600:>13.1f} h")
    for count in counts[1:]:
        lines.append("  " + ratio_line(f"parallel efficiency, {count} workers", efficiency[count], unit=""))
    best = counts[-1]
    core_hours = PROJECTED_STUDENTS * len(per_assignment) * best * spread(times[best]).median / submissions / 3600
    lines.append(f"projected: {PROJECTED_STUDENTS:,} students x {len(per_assignment)} assignments "
                 f"({PROJECTED_STUDENTS * len(per_assignment):,} submissions) on this {os.cpu_count()}-core machine: "
                 + ", ".join(f"{projected[count] / 3600:.1f} h with {count} worker{'s' if count > 1 else ''}"
                             for count in counts)
                 + f"; {core_hours:.1f} core-hours at {best} workers' efficiency (a Dask cluster: divide by its cores)")
    return lines


# ----------------------------------------------------------------------------- 2. against nbgrader

def against_nbgrader(scratch: Path, env: dict, count: int, nbgrader_count: int, rounds: int) -> dict:
    submitted = scratch / "submitted"
    make_submissions(submitted, count)
    warm = scratch / "warm"
    run([str(BIN / "dlcourse"), "grade-batch", str(submitted), "--out", str(warm), "--no-figures"], env)
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

    def dlcourse() -> float:
        return grade_batch(submitted, scratch / "out", warm / "references", 1, env)["seconds"] / count

    def nbgrader() -> float:  # broken notebooks make it exit non-zero; it goes on
        return run([str(BIN / "nbgrader"), "autograde", "ps1", "--force"], env, cwd=course, check=False)["seconds"] \
            / nbgrader_count

    return interleave({"nbgrader": nbgrader, "dlcourse": dlcourse}, rounds)


def report_nbgrader(times: dict, count: int, nbgrader_count: int) -> list[str]:
    return [f"01 against nbgrader: {count} submissions (complete / buggy / broken in equal parts), references cached; "
            f"nbgrader autograde on {nbgrader_count} of them, serially",
            f"  dlcourse grade-batch --workers 1: {spread(times['dlcourse']).median:.2f} s per submission (median)",
            f"  nbgrader autograde, serial:       {spread(times['nbgrader']).median:.2f} s per submission (median)",
            "  " + ratio_line("nbgrader / dlcourse (1 worker), per submission",
                              ratios(times["nbgrader"], times["dlcourse"]))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=6, help="students in the scale figure's class (default 6)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds, both parts (default 3)")
    parser.add_argument("--count", type=int, default=60, help="submissions of 01 against nbgrader (default 60)")
    parser.add_argument("--nbgrader-count", type=int,
                        help="of those, how many nbgrader autograde grades (default: --count; 0 skips part 2)")
    args = parser.parse_args()
    nbgrader_count = args.count if args.nbgrader_count is None else args.nbgrader_count
    for option, value, least in (("--students", args.students, 1), ("--rounds", args.rounds, 1),
                                 ("--count", args.count, 1), ("--nbgrader-count", nbgrader_count, 0)):
        if value < least:
            parser.error(f"Expected {option} >= {least}. Received {value}.")
    if nbgrader_count > args.count:
        parser.error(f"Expected --nbgrader-count <= --count ({args.count}). Received {nbgrader_count}.")
    env = {**os.environ, "DLCOURSE_SECRET": "benchmark", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="dlcourse-batch-") as folder:
        scratch = Path(folder)
        print("\n".join(report_scale(scale(scratch, env, args.students, args.rounds))), flush=True)
        if nbgrader_count:
            times = against_nbgrader(scratch, env, args.count, nbgrader_count, args.rounds)
            print("\n".join(report_nbgrader(times, args.count, nbgrader_count)))
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
