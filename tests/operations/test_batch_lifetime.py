"""A batch dies with its parent: ``kill -9`` of ``dlcourse grade-batch`` leaves nothing of it running.

The CLI runs as a real process on students' copies of 01_backprop whose units sleep and leave a
daemon behind (fork, ``setsid``, fork again: out of the worker's process group and session, as a
student can). Once its grading processes, sandboxes and daemons run, the test kills the CLI alone
(``kill -9`` of its pid, not its process group) and checks that every process it had started, and
every process of the sandbox uids it leased, is gone within ``GONE_WITHIN`` seconds.

On Dask: a client whose cluster has no worker (none ever, or the only one killed mid-batch) ends
each notebook "not graded: no Dask worker for N s" after that bounded wait, rather than waiting forever.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.engine.sandbox import FIRST_UID, UID_SLOTS, bwrap_available, scratch_folders
from conftest import SOLUTIONS, TEST_SECRET

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids (and their sweep) need a root grader")

BIN = Path(sys.executable).parent
GONE_WITHIN = 15.0
LEVELS = ["fallback"] + (["bwrap"] if bwrap_available() else [])

# Every unit of 01_backprop sleeps, after leaving a daemon that sleeps too.
LINGER = """
import os
import time


def _linger(*args, **kwargs):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(600)
        os._exit(0)
    time.sleep(600)
"""


def lingering_notebook(target: Path) -> Path:
    """01_backprop's solution with a last cell that redefines every unit as ``_linger``."""
    notebook = json.loads((SOLUTIONS / "01_backprop.ipynb").read_text())
    source = LINGER + "".join(f"\n\ndef {unit}(*args, **kwargs):\n    return _linger()\n"
                              for unit in ASSIGNMENTS["01_backprop"].units)
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                              "source": source})
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(notebook))
    return target


# ----------------------------------------------------------------------------- /proc

def stat(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, start time in clock ticks, state) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[19]), fields[0]


def uid_of(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def live_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def alive(pid: int, started: int) -> bool:
    """Whether the process ``pid`` that started at ``started`` still runs (a zombie does not)."""
    now = stat(pid)
    return now is not None and now[1] == started and now[2] != "Z"


def leased(uid: int | None) -> bool:
    return uid is not None and FIRST_UID <= uid < FIRST_UID + UID_SLOTS


def started_by(root: int) -> dict[int, int]:
    """``{pid: start time}`` of ``root``'s descendants, and of every process of a sandbox uid one of them runs as
    (a student's daemon has left the tree)."""
    parents = {pid: info[0] for pid in live_pids() if (info := stat(pid))}
    tree, grew = {root}, True
    while grew:
        grown = tree | {pid for pid, parent in parents.items() if parent in tree}
        grew, tree = grown != tree, grown
    uids = {uid for pid in tree if leased(uid := uid_of(pid))}
    found = tree | {pid for pid in parents if uid_of(pid) in uids}
    return {pid: info[1] for pid in found - {root} if (info := stat(pid)) and info[2] != "Z"}


def uid_of_file(path: Path) -> int | None:
    try:
        return path.lstat().st_uid
    except OSError:  # gone meanwhile
        return None


def clock_ticks() -> int:
    return int(float(Path("/proc/uptime").read_text().split()[0]) * os.sysconf("SC_CLK_TCK"))


def describe(processes: dict[int, int]) -> str:
    lines = []
    for pid in processes:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:160]
        except OSError:
            command = "?"
        lines.append(f"{pid} uid {uid_of(pid)}: {command}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- kill -9 of the CLI

@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("level", LEVELS)
def test_kill_9_of_grade_batch_leaves_no_process_behind(tmp_path, level, workers):
    for student in ("ann", "bob"):
        lingering_notebook(tmp_path / "submitted" / student / "01_backprop.ipynb")
    env = {**os.environ, "DLCOURSE_SECRET": TEST_SECRET, "DLCOURSE_ISOLATION": level}
    cli = subprocess.Popen([str(BIN / "dlcourse"), "grade-batch", str(tmp_path / "submitted"), "--out",
                            str(tmp_path / "out"), "--workers", str(workers), "--no-figures"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Wait until each grading process has a sandbox whose student left a daemon: a sandbox uid with
        # two live processes (the worker in its sleeping unit, the daemon).
        deadline, busy = time.monotonic() + 240, 0
        while busy < workers and cli.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            processes = started_by(cli.pid)
            uids = [uid for pid in processes if leased(uid := uid_of(pid))]
            busy = sum(1 for uid in set(uids) if uids.count(uid) >= 2)
        assert busy >= workers, f"the batch never ran {workers} sandboxes with a daemon each (exit {cli.poll()})"
        processes = started_by(cli.pid)
        uids = {uid for pid in processes if leased(uid := uid_of(pid))}
        folders = [folder for folder in scratch_folders() if uid_of_file(folder) in uids]  # with a student's daemon
        killed_at = clock_ticks()
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait()
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    start = time.monotonic()

    def left() -> dict[int, int]:
        remaining = {pid: started for pid, started in processes.items() if alive(pid, started)}
        for pid in live_pids():  # processes of its uids started before the kill (forked since the snapshot)
            if uid_of(pid) in uids and (info := stat(pid)) and info[1] <= killed_at and info[2] != "Z":
                remaining[pid] = info[1]
        return remaining

    while left() and time.monotonic() - start < GONE_WITHIN:
        time.sleep(0.1)
    survivors = left()
    print(f"\n{level}, {workers} worker(s): {len(processes)} processes of the batch "
          f"({len(uids)} sandbox uids) gone {time.monotonic() - start:.2f} s after kill -9 of the CLI")
    assert not survivors, f"alive {GONE_WITHIN:g} s after kill -9 of the CLI:\n{describe(survivors)}"
    # and the workers' scratch folders (bubblewrap's are in memory) are gone with them, removed by their lifelines
    assert bool(folders) == (level == "fallback"), folders
    while any(folder.exists() for folder in folders) and time.monotonic() - start < GONE_WITHIN:
        time.sleep(0.1)
    assert not [folder for folder in folders if folder.exists()]


# ----------------------------------------------------------------------------- Dask with no worker

distributed = pytest.importorskip("distributed")


def read_csv(path: Path) -> dict[str, dict]:
    return {row["student"]: row for row in csv.DictReader(io.StringIO(path.read_text()))}


def start(command: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
    with open(log, "wb") as stream:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=stream, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@pytest.fixture
def scheduler(tmp_path):
    """A real Dask scheduler on 127.0.0.1 with no worker: ``(address, scheduler file)``."""
    scheduler_file = tmp_path / "scheduler.json"
    process = start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(scheduler_file)], tmp_path, tmp_path / "scheduler.log")
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.exists(), (tmp_path / "scheduler.log").read_text()
        yield json.loads(scheduler_file.read_text())["address"], scheduler_file
    finally:
        stop(process)


def test_a_cluster_without_worker_ends_each_notebook_not_graded_after_the_bounded_wait(scheduler, tmp_path):
    address, _ = scheduler
    for student in ("ann", "bob"):
        target = tmp_path / "submitted" / student / "01_backprop.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(SOLUTIONS / "01_backprop.ipynb", target)
    env = {**os.environ, "DLCOURSE_SECRET": TEST_SECRET}
    began = time.monotonic()
    run = subprocess.run([str(BIN / "dlcourse"), "grade-batch", str(tmp_path / "submitted"), "--out",
                          str(tmp_path / "out"), "--scheduler", address, "--worker-wait", "3", "--no-figures"],
                         env=env, capture_output=True, text=True, timeout=120)
    took = time.monotonic() - began
    print(f"\nno Dask worker: grade-batch ended after {took:.1f} s (exit {run.returncode})")
    output = " ".join(run.stdout.split())
    assert run.returncode == 1, run.stdout + run.stderr
    for student in ("ann", "bob"):
        assert f"{student}/01_backprop.ipynb: not graded: no Dask worker for 3 s" in output, output
    rows = read_csv(tmp_path / "out" / "gradebook.csv")
    assert rows["ann"]["total"] == rows["bob"]["total"] == "not graded"
    assert "no Dask worker for 3 s" in rows["ann"]["notes"]


def test_a_dask_worker_killed_mid_batch_ends_its_notebooks_not_graded(scheduler, tmp_path):
    from dlcourse.autograder.course.batch import Settings, grade_batch

    address, scheduler_file = scheduler
    for student in ("ann", "bob", "cem"):
        lingering_notebook(tmp_path / "submitted" / student / "01_backprop.ipynb")
    (tmp_path / "worker").mkdir()
    worker = start([str(BIN / "dask"), "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                    "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1", "--local-directory",
                    str(tmp_path / "worker" / "dask")], tmp_path / "worker", tmp_path / "worker.log")
    try:
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=120)

        killed = []

        def kill_once_grading():
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and not killed:
                sandboxes = {pid: started for pid, started in started_by(worker.pid).items() if leased(uid_of(pid))}
                if sandboxes:
                    killed.append((time.monotonic(), sandboxes))
                time.sleep(0.2)
            stop(worker)

        import threading

        killer = threading.Thread(target=kill_once_grading, daemon=True)
        killer.start()
        began = time.monotonic()
        report = grade_batch(tmp_path / "submitted", tmp_path / "out",
                             Settings(TEST_SECRET, scheduler=address, figures=False, retries=0, worker_wait=3.0))
        took = time.monotonic() - began
        killer.join(timeout=30)
    finally:
        stop(worker)
    assert killed, "the Dask worker never ran a sandbox"
    when, sandboxes = killed[0]
    print(f"\nDask worker killed mid-batch, {when - began:.1f} s in (its sandboxes: {sorted(sandboxes)}): "
          f"grade_batch returned after {took:.1f} s")
    deadline = time.monotonic() + GONE_WITHIN  # the killed worker's sandboxes followed it (their lifelines)
    while any(alive(pid, started) for pid, started in sandboxes.items()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid, started in sandboxes.items() if alive(pid, started)], describe(sandboxes)
    assert sorted(name for name, _ in report.not_graded) == [f"{s}/01_backprop.ipynb" for s in ("ann", "bob", "cem")]
    reasons = {reason for _, reason in report.not_graded}
    assert any(reason == "no Dask worker for 3 s" for reason in reasons), reasons
