"""A forked Keras worker (``forkserver.py``) against the fork server that made it.

A forked worker starts with a copy of the server's memory: the server's socket object, its frames, the other
workers' descriptor numbers. A student who wants the points without the work would try to use them: send
the server a fork request for uid 0 (a worker with root's rights, outside the sandbox), or reach its
descriptors or memory through ``/proc``. Every descriptor but the worker's own pipes was closed before
its worker ran, the server is root (and under bubblewrap, in another PID namespace: the worker's parent is
its namespace's init, root too), and the notebook still scores 0.
"""

from __future__ import annotations

import pytest
from conftest import ROOT, TEST_SECRET, code_cell, write_variant

from dlcourse.autograder.cases import ASSIGNMENTS, COURSE
from dlcourse.autograder.engine import forkserver
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.pool import WorkerPool
from dlcourse.autograder.engine.sandbox import Sandbox



def forking(level: str) -> bool:
    try:
        return forkserver.usable(Sandbox(isolation=level, frameworks=True))
    except ValueError:  # bubblewrap cannot make namespaces here, say
        return False

HEIST = """
import gc, json, os, signal, socket


def discriminator_loss(real_logits, fake_logits):
    tried = []
    sockets = [obj for obj in gc.get_objects() if isinstance(obj, socket.socket)]
    tried.append(f"sockets in memory {len(sockets)}")
    for control in sockets:  # the server's own, copied at the fork: ask it for a worker as root
        request = {"uid": 0, "scratch": "/", "environment": {}, "limits": {}, "read": ["/"], "write": ["/"]}
        try:
            socket.send_fds(control, [json.dumps(request).encode()], [0, 1, 1, 1])
            tried.append("SENT A FORK REQUEST")
        except OSError as error:
            tried.append(type(error).__name__)
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                tried.append("HOLDS A SOCKET")
        except OSError:
            pass
    parent = os.getppid()
    for action, label in ((lambda: os.listdir(f"/proc/{parent}/fd"), "LISTED THE SERVER'S DESCRIPTORS"),
                          (lambda: open(f"/proc/{parent}/mem", "rb").read(1), "READ THE SERVER'S MEMORY"),
                          (lambda: os.kill(parent, signal.SIGSTOP), "STOPPED THE SERVER")):
        try:
            action()
            tried.append(label)
        except OSError as error:
            tried.append(type(error).__name__)
    raise RuntimeError("HEIST" + json.dumps(tried))
"""


@pytest.mark.parametrize("level", ["fallback", "bwrap"])
def test_a_forked_worker_cannot_use_the_fork_server_and_a_blank_09_scores_0(tmp_path, level):
    if not forking(level):
        pytest.skip(f"forked workers at level {level} need root (and Landlock, or bubblewrap)")
    blank = ROOT / "assignments" / "09_gan.ipynb"
    notebook = write_variant(tmp_path, blank, lambda nb: nb["cells"].append(code_cell(HEIST)))
    pool = WorkerPool()
    try:
        grader = Grader(COURSE, secret=TEST_SECRET, isolation=level, pool=pool)
        grader.grade(notebook, ASSIGNMENTS["09_gan"])  # started cold; the next submission's worker is forked
        assert pool.forking
        server = pool.server_for(Sandbox(isolation=level, frameworks=True)).process
        result = grader.grade(notebook, ASSIGNMENTS["09_gan"])
        assert server.poll() is None and pool.forking  # still serving
    finally:
        pool.close()
    messages = "\n".join(item.verdict.message for item in result.results if item.case.unit == "discriminator_loss")
    assert "HEIST" in messages and "sockets in memory" in messages, messages
    for success in ("SENT A FORK REQUEST", "HOLDS A SOCKET", "LISTED THE SERVER'S DESCRIPTORS",
                    "READ THE SERVER'S MEMORY", "STOPPED THE SERVER"):
        assert success not in messages, messages
    assert result.score == 0, [(item.case.id, item.verdict.message[:80]) for item in result.results if item.verdict.passed]
