"""A worker's lifeline (``lifeline.py``): released, it exits and frees the lease it held; if the grader dies
first, it kills the worker before it exits. The uid sweep after a real grader's death is in ``test_pool.py``
and ``operations/test_batch_lifetime.py``."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time

import pytest

from dlcourse.autograder.engine import lifeline
from dlcourse.autograder.engine.lifeline import Lifeline, processes_of
from conftest import gone_within

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]

# A grader in a process of its own: it starts a lifeline (no uid; the worker's scratch folder is argv[1]) and a
# worker, tells the lifeline the worker's pid, prints both pids, and dies by SIGKILL, as `kill -9` would end it.
DYING_GRADER = f"""
import importlib.util, os, signal, subprocess, sys
spec = importlib.util.spec_from_file_location("lifeline", {lifeline.__file__!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
line = module.Lifeline(None, None, sys.argv[1])
worker = subprocess.Popen({SLEEPER!r}, start_new_session=True)
line.watch(worker.pid)
print(worker.pid, line.process.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def ignored(pid: int) -> int:
    """The mask of signals ``pid`` ignores (``SigIgn`` of ``/proc/PID/status``)."""
    with open(f"/proc/{pid}/status") as stream:
        return int(next(line for line in stream if line.startswith("SigIgn:")).split()[1], 16)


def test_a_released_lifeline_exits_without_a_sweep_and_frees_the_lease_it_held(tmp_path):
    lease = open(tmp_path / "lease", "w")
    fcntl.flock(lease, fcntl.LOCK_EX)
    scratch = tmp_path / "dlcourse-worker-released"
    scratch.mkdir()
    worker = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        line = Lifeline(None, lease.fileno(), scratch)
        line.watch(worker.pid)
        lease.close()  # the grader's own descriptor: the lifeline's copy still holds the lock
        with open(tmp_path / "lease") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            line.release()
            assert line.process.returncode == 0
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free as soon as release returns
        assert worker.poll() is None  # released: the grader swept the worker itself, the lifeline did not
        assert scratch.is_dir()  # ... nor removed its folder: the grader's to remove
    finally:
        worker.kill()
        worker.wait()


def test_when_the_grader_dies_the_lifeline_kills_the_workers_process_group_removes_its_folder_and_exits(tmp_path):
    scratch = tmp_path / "dlcourse-worker-orphaned"
    (scratch / "deep").mkdir(parents=True)
    (scratch / "deep" / "answers.npy").write_bytes(b"a student's")
    (scratch / "link").symlink_to(tmp_path / "outside")  # removed as a link: what it points to stays
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "kept").write_text("kept")
    grader = subprocess.run([sys.executable, "-c", DYING_GRADER, str(scratch)], capture_output=True, text=True,
                            timeout=60)
    assert grader.returncode == -signal.SIGKILL, grader.stderr
    worker, line = map(int, grader.stdout.split())
    assert gone_within([worker, line], 10), "the worker outlived its grader"
    assert not scratch.exists() and (tmp_path / "outside" / "kept").read_text() == "kept"


def test_a_lifeline_ignores_an_interrupt_meant_for_the_grader():
    worker = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        line = Lifeline(None)
        line.watch(worker.pid)
        deadline = time.monotonic() + 10
        while not ignored(line.process.pid) & (1 << (signal.SIGINT - 1)):  # the lifeline has set its handlers
            assert time.monotonic() < deadline and line.process.poll() is None
            time.sleep(0.01)
        os.kill(line.process.pid, signal.SIGINT)
        time.sleep(0.1)
        assert line.process.poll() is None
        line.release()
        assert line.process.returncode == 0 and worker.poll() is None
    finally:
        worker.kill()
        worker.wait()


def test_a_uid_below_the_sandbox_range_is_never_swept():
    with pytest.raises(ValueError, match=r"^Expected a sandbox uid\. Received uid=0\.$"):
        lifeline.sweep(0)
    assert os.getpid() in processes_of(os.getuid())
