"""A whole course, graded by dlcourse and by ``nbgrader autograde`` in interleaved rounds; and a student's check.

For every assignment, three realistic submissions: the complete solution, the released notebook
untouched (every unit raises NotImplementedError), and the solution with one unit broken (it
raises). dlcourse grades them in one process with a warm reference cache, as in a batch after the
first student; ``nbgrader autograde`` grades the same notebooks in a real nbgrader course (it
executes each notebook top to bottom). The two take turns, assignment by assignment: ``--rounds``
rounds of nbgrader then dlcourse (the order reversed every other round, ``_rounds.py``), so a burst
of load on the machine hits both sides of a round. Each round gives a ratio; each assignment's
figure, and the course's (each round's nine assignments summed on both sides), is the median of the
rounds' ratios with its interquartile range and min-max. Then a Jupyter kernel runs the 01
solution's definitions and times ``check(dense_forward)`` twice (the first call pays the imports).

Prints figures, asserts nothing; the last two lines are

    course: nbgrader <s> s / dlcourse <s> s = <ratio>x (IQR ..., min-max ..., <n> rounds); target >= 20x: met
    first check: <s> s

where the seconds are per submission, summed over the assignments (medians over rounds), and the ratio
is the median of the rounds' ratios (so not always exactly the one of the two medians).

Where the Keras workers are forked, the training cases run alongside the others, in a second worker of the
same submission (``alongside.py``), as ``dlcourse`` grades; ``--in-order`` runs every case in one worker.

    .venv/bin/python benchmarks/course.py [--rounds 3] [--only 01_backprop,05_pooling] [--isolation fallback]
                                          [--in-order]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _rounds import interleave, ratio_line, ratios, spread, verdict  # benchmarks/ is a folder of scripts

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from dlcourse.autograder.cases import ASSIGNMENTS, COURSE  # after the TensorFlow settings
from dlcourse.autograder.engine.extract import read_notebook
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.pool import WorkerPool
from dlcourse.autograder.engine.reference_cache import ReferenceCache
from dlcourse.autograder.engine.sandbox import Sandbox, resolve_isolation

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KINDS = ("complete", "untouched", "broken")
TARGET = 20.0  # issue 29's: nbgrader / dlcourse for a whole course, on 2 cores


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


class Dlcourse:
    """dlcourse grading one assignment's submissions, references warm (the solution is graded once first, not
    counted), the next submissions' workers started ahead as in ``dlcourse batch`` (``WorkerPool``, two ahead)."""

    def __init__(self, name: str, notebooks: dict[str, Path], cache: ReferenceCache, alongside: bool = True):
        self.name, self.notebooks = name, notebooks
        self.grader = Grader(COURSE, secret="benchmark", cache=cache, pool=WorkerPool(), alongside=alongside)
        self.scores: list[str] = []
        self.grader.grade(notebooks["complete"], ASSIGNMENTS[name])

    def seconds(self) -> float:
        """One round: seconds per submission; the scores given (``complete 38/38, untouched 0/38, broken 34/38``)
        are kept in ``scores``, so a fast figure is seen to grade."""
        started = time.perf_counter()
        results = [self.grader.grade(self.notebooks[kind], ASSIGNMENTS[self.name]) for kind in KINDS]
        seconds = (time.perf_counter() - started) / len(KINDS)
        self.scores.append(", ".join(f"{kind} {result.score:g}/{result.max_score:g}"
                                     for kind, result in zip(KINDS, results)))
        return seconds

    @property
    def forked(self) -> bool:
        return self.grader.pool.forking

    @property
    def alongside(self) -> bool:
        """Whether the grader ran this assignment's training cases alongside its other cases."""
        assignment = ASSIGNMENTS[self.name]
        return self.grader.cases_alongside(Sandbox(frameworks=assignment.frameworks), assignment.cases) > 0

    def close(self) -> None:
        self.grader.pool.close()


class Nbgrader:
    """``nbgrader autograde`` of one assignment's submissions in a throw-away nbgrader course."""

    def __init__(self, name: str, notebooks: dict[str, Path], scratch: Path):
        self.name, self.course = name, scratch / f"course-{name}"
        (self.course / "source" / name).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / f"{name}.ipynb", self.course / "source" / name / f"{name}.ipynb")
        students = [f"student_{kind}" for kind in KINDS]
        (self.course / "nbgrader_config.py").write_text(
            "c = get_config()\nc.CourseDirectory.root = '.'\n"
            f"c.CourseDirectory.db_assignments = [dict(name={name!r})]\n"
            f"c.CourseDirectory.db_students = [{', '.join(f'dict(id={s!r})' for s in students)}]\n"
            "c.Execute.timeout = 900\n")
        self.env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        _run([str(BIN / "nbgrader"), "generate_assignment", name, "--force"], self.env, self.course)
        for kind, student in zip(KINDS, students):
            target = self.course / "submitted" / student / name
            target.mkdir(parents=True)
            shutil.copy(notebooks[kind], target / f"{name}.ipynb")

    def seconds(self) -> float:
        """One round: seconds per submission of ``nbgrader autograde --force`` (only autograde is timed)."""
        started = time.perf_counter()
        _run([str(BIN / "nbgrader"), "autograde", self.name, "--force"], self.env, self.course)
        return (time.perf_counter() - started) / len(KINDS)


def check_latency() -> tuple[float, float]:
    """First and second ``check(dense_forward)`` in a fresh kernel holding the 01 solution's definitions.

    The definitions are the statements the grader extracts, run one by one as the grader's loader runs
    them: a statement that fails is passed over (such as one reading a list that a loop, not extracted,
    fills: 01's ``min(forward)``), and the ones after it still run.
    """
    from jupyter_client.manager import start_new_kernel

    statements = [statement for cell in read_notebook(ROOT / "solutions" / "01_backprop.ipynb").cells
                  for _, statement in cell["statements"]]
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        _execute(client, f"for _statement in {statements!r}:\n    try:\n        exec(_statement, globals())\n"
                         "    except Exception:\n        pass\ndel _statement")
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
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds nbgrader/dlcourse per assignment (default 3; nbgrader takes seconds a submission)")
    parser.add_argument("--isolation", choices=["bwrap", "fallback"],
                        help="dlcourse's isolation level (default: the one it picks here, as `dlcourse doctor` says)")
    parser.add_argument("--in-order", action="store_true",
                        help="every case in one worker, in order (no training case alongside the others)")
    args = parser.parse_args()
    if args.isolation:
        os.environ["DLCOURSE_ISOLATION"] = args.isolation
    if args.rounds < 1:
        parser.error(f"Expected --rounds >= 1. Received {args.rounds}.")
    names = args.only.split(",") if args.only else list(ASSIGNMENTS)
    unknown = [name for name in names if name not in ASSIGNMENTS]
    if unknown:
        parser.error(f"Expected assignments among {', '.join(ASSIGNMENTS)}. Received {', '.join(unknown)}.")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {args.rounds} rounds nbgrader/dlcourse "
          f"per assignment; seconds per submission (medians), ratio nbgrader / dlcourse (median of the rounds'); "
          f"dlcourse at isolation {resolve_isolation()}", flush=True)
    times = {}
    with tempfile.TemporaryDirectory(prefix="dlcourse-course-bench-") as folder:
        scratch = Path(folder)
        cache = ReferenceCache(scratch / "references")
        for name in names:
            notebooks = submissions(name, scratch / "submissions" / name)
            ours = Dlcourse(name, notebooks, cache, alongside=not args.in_order)
            try:
                theirs = Nbgrader(name, notebooks, scratch)
                times[name] = interleave({"nbgrader": theirs.seconds, "dlcourse": ours.seconds}, args.rounds)
                forked = ", its workers forked (forkserver.py)" if ours.forked else ""
                forked += ", its training alongside (alongside.py)" if ours.alongside else ""
            finally:
                ours.close()
            theirs_median, ours_median = spread(times[name]["nbgrader"]).median, spread(times[name]["dlcourse"]).median
            scores = " | ".join(dict.fromkeys(ours.scores))  # each distinct one: a drawn task may change a score
            print(f"{name:<22} nbgrader {theirs_median:7.2f} s   dlcourse {ours_median:6.2f} s   "
                  + ratio_line("ratio", ratios(times[name]["nbgrader"], times[name]["dlcourse"]))
                  + f"   (dlcourse scored {scores}{forked})", flush=True)
    first, later = check_latency()
    print(f"check(dense_forward) in a kernel: first {first:.2f} s, later {later:.2f} s")
    nbgrader_totals = [sum(times[name]["nbgrader"][index] for name in names) for index in range(args.rounds)]
    dlcourse_totals = [sum(times[name]["dlcourse"][index] for name in names) for index in range(args.rounds)]
    course = spread(ratios(nbgrader_totals, dlcourse_totals))
    nbgrader_median, dlcourse_median = spread(nbgrader_totals).median, spread(dlcourse_totals).median
    print(f"course: nbgrader {nbgrader_median:.1f} s / dlcourse {dlcourse_median:.1f} s = "
          f"{course.text(digits=1)}; target >= {TARGET:g}x: {verdict(course, TARGET, at_most=False)}")
    print(f"first check: {first:.2f} s")


if __name__ == "__main__":
    main()
