"""A whole course, graded by dlcourse and by ``nbgrader autograde`` in the same run; and a student's check.

For every assignment, three realistic submissions: the complete solution, the released notebook
untouched (every unit raises NotImplementedError), and the solution with one unit broken (it
raises). dlcourse grades them in one process with a warm reference cache, as in a batch after the
first student; ``nbgrader autograde`` grades the same notebooks in a real nbgrader course (it
executes each notebook top to bottom). Then a Jupyter kernel runs the 01 solution's definitions
and times ``check(dense_forward)`` twice (the first call pays the imports).

Prints figures, asserts nothing; the last two lines are

    course: nbgrader <s> s / dlcourse <s> s = <ratio>x
    first check: <s> s

    .venv/bin/python benchmarks/course.py [--only 01_backprop,05_pooling]
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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from dlcourse.autograder.cases import ASSIGNMENTS, COURSE  # after the TensorFlow settings
from dlcourse.autograder.engine.extract import read_notebook
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.pool import WorkerPool
from dlcourse.autograder.engine.references import ReferenceCache

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KINDS = ("complete", "untouched", "broken")


def submissions(name: str, folder: Path) -> dict[str, Path]:
    """The three submissions of one assignment, written under ``folder/<kind>/<name>.ipynb``."""
    solution = ROOT / "solutions" / f"{name}.ipynb"
    notebook = json.loads(solution.read_text())
    unit = ASSIGNMENTS[name].units[0]
    notebook["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                              "source": f"def {unit}(*args, **kwargs):\n    raise RuntimeError('broken')\n"})
    found = {}
    for kind, content in (("complete", solution.read_text()),
                          ("untouched", (ROOT / "assignments" / f"{name}.ipynb").read_text()),
                          ("broken", json.dumps(notebook))):
        target = folder / kind / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        found[kind] = target
    return found


def dlcourse_seconds(name: str, notebooks: dict[str, Path], cache: ReferenceCache) -> tuple[float, str]:
    """Seconds per submission, references warm (the solution is graded once first, not counted), each next
    submission's worker started ahead as in ``dlcourse batch`` (``WorkerPool``); and the scores given
    (``complete 38/38, untouched 0/38, broken 34/38``), so a fast figure is seen to grade."""
    grader = Grader(COURSE, secret="benchmark", cache=cache, pool=WorkerPool())
    try:
        grader.grade(notebooks["complete"], ASSIGNMENTS[name])
        started = time.perf_counter()
        results = [grader.grade(notebooks[kind], ASSIGNMENTS[name]) for kind in KINDS]
        seconds = (time.perf_counter() - started) / len(KINDS)
        return seconds, ", ".join(f"{kind} {result.score:g}/{result.max_score:g}" for kind, result in zip(KINDS, results))
    finally:
        grader.pool.close()


def nbgrader_seconds(name: str, notebooks: dict[str, Path], scratch: Path) -> float:
    """Seconds per submission of ``nbgrader autograde`` (only autograde is timed)."""
    course = scratch / f"course-{name}"
    (course / "source" / name).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / f"{name}.ipynb", course / "source" / name / f"{name}.ipynb")
    students = [f"student_{kind}" for kind in KINDS]
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = '.'\n"
        f"c.CourseDirectory.db_assignments = [dict(name={name!r})]\n"
        f"c.CourseDirectory.db_students = [{', '.join(f'dict(id={s!r})' for s in students)}]\n"
        "c.Execute.timeout = 900\n")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    _run([str(BIN / "nbgrader"), "generate_assignment", name, "--force"], env, course)
    for kind, student in zip(KINDS, students):
        target = course / "submitted" / student / name
        target.mkdir(parents=True)
        shutil.copy(notebooks[kind], target / f"{name}.ipynb")
    started = time.perf_counter()
    _run([str(BIN / "nbgrader"), "autograde", name, "--force"], env, course)
    return (time.perf_counter() - started) / len(KINDS)


def check_latency() -> tuple[float, float]:
    """First and second ``check(dense_forward)`` in a fresh kernel holding the 01 solution's definitions."""
    from jupyter_client.manager import start_new_kernel

    definitions = "\n\n".join(statement for cell in read_notebook(ROOT / "solutions" / "01_backprop.ipynb").cells
                              for _, statement in cell["statements"])
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        _execute(client, definitions)
        times = []
        for _ in range(2):
            started = time.perf_counter()
            _execute(client, "from dlcourse.autograder import check\ncheck(dense_forward)")
            times.append(time.perf_counter() - started)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return times[0], times[1]


def _execute(client, code: str) -> None:
    reply = client.execute_interactive(code, timeout=600, output_hook=lambda message: None)
    if reply["content"]["status"] != "ok":
        raise SystemExit(f"the kernel failed: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")


def _run(command: list[str], env: dict, cwd: Path) -> None:
    completed = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated assignments (default: all nine)")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(ASSIGNMENTS)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dlcourse-course-bench-") as folder:
        scratch = Path(folder)
        cache = ReferenceCache(scratch / "references")
        for name in names:
            notebooks = submissions(name, scratch / "submissions" / name)
            ours, scores = dlcourse_seconds(name, notebooks, cache)
            theirs = nbgrader_seconds(name, notebooks, scratch)
            rows.append((name, theirs, ours))
            print(f"{name:<22} nbgrader {theirs:7.2f} s   dlcourse {ours:6.2f} s   {theirs / ours:6.1f}x "
                  f"(seconds per submission; dlcourse scored {scores})", flush=True)
    first, later = check_latency()
    print(f"check(dense_forward) in a kernel: first {first:.2f} s, later {later:.2f} s")
    nbgrader_total, dlcourse_total = sum(row[1] for row in rows), sum(row[2] for row in rows)
    print(f"course: nbgrader {nbgrader_total:.1f} s / dlcourse {dlcourse_total:.1f} s = "
          f"{nbgrader_total / dlcourse_total:.1f}x")
    print(f"first check: {first:.2f} s")


if __name__ == "__main__":
    main()
