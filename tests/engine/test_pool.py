"""Warm workers (``pool.py``): the next submission's worker starts early, and still serves one submission only.

Real sandboxed workers, at each isolation level this machine has. The pool works only where every
worker gets a uid of its own (root), so these tests need root.
"""

from __future__ import annotations

import os
import time

import pytest

from dlcourse.autograder.engine.pool import WorkerPool
from dlcourse.autograder.engine.lifeline import processes_of
from dlcourse.autograder.engine.sandbox import Sandbox, bwrap_available
from dlcourse.autograder.engine.session import WorkerSession
from conftest import DAEMON

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="warm workers need a uid per worker (root)")

LEVELS = ["fallback"] + (["bwrap"] if bwrap_available() else [])

WHO = """
import os


def who():
    return {"uid": os.getuid(), "pid": os.getpid(), "names": sorted(name for name in globals() if name.isupper())}
"""


def cells(*sources):
    return [{"label": f"cell {index}", "statements": [[1, source]]} for index, source in enumerate(sources, start=1)]


def call(session, unit, timeout=30.0):
    return session.run({"op": "run", "unit": unit, "driver": "call", "args": []}, timeout)


@pytest.mark.parametrize("isolation", LEVELS)
def test_each_warm_worker_serves_exactly_one_submission(isolation):
    sandbox, pool = Sandbox(isolation=isolation), WorkerPool()
    try:
        first = WorkerSession(sandbox, cells(WHO, "FIRST_ONLY = 1"), pool=pool)
        one = call(first, "who")
        warm = pool._warm[1].process  # started while the first submission is graded
        assert warm.poll() is None and warm is not first._worker.process
        first_process, first_uid = first._worker.process, one["value"]["uid"]
        first.close()
        assert first_process.poll() is not None and not processes_of(first_uid)  # killed, and its uid swept

        second = WorkerSession(sandbox, cells(WHO, "SECOND_ONLY = 2"), pool=pool)
        two = call(second, "who")
        assert second._worker.process is warm  # the warm worker, taken ...
        assert two["value"]["uid"] != first_uid
        assert two["value"]["names"] == ["SECOND_ONLY"]  # ... holding the second submission's code alone
        assert pool._warm[1].process not in (first_process, warm)  # and a new one is warming for the next
        second.close()
        assert warm.poll() is not None  # never handed out again
    finally:
        pool.close()
    assert pool._warm is None


@pytest.mark.parametrize("isolation", LEVELS)
def test_a_daemon_of_one_submission_cannot_touch_the_next_ones_warm_worker(isolation):
    sandbox, pool = Sandbox(isolation=isolation), WorkerPool()
    try:
        first = WorkerSession(sandbox, cells(DAEMON, WHO), pool=pool)
        first_uid = call(first, "who")["value"]["uid"]
        warm = pool._warm[1].process
        assert call(first, "leave_a_daemon")["status"] == "ok"
        time.sleep(2.0)  # the daemon keeps killing whatever it can
        if isolation == "fallback":  # under bubblewrap it killed its namespace's init, so the kernel took it too
            assert processes_of(first_uid), "the daemon should be running until its session ends"
        assert warm.poll() is None, "the daemon reached the warm worker of the next submission"
        first.close()
        assert not processes_of(first_uid)  # the sweep took the daemon before the next submission loads

        second = WorkerSession(sandbox, cells(WHO), pool=pool)
        reply = call(second, "who")
        assert second._worker.process is warm and reply["status"] == "ok", reply
        assert reply["value"]["uid"] != first_uid
        second.close()
    finally:
        pool.close()


def test_a_warm_worker_for_another_sandbox_is_not_used():
    pool = WorkerPool()
    try:
        pool.prepare(Sandbox(isolation="fallback"))
        warm = pool._warm[1].process
        assert pool.take(Sandbox(isolation="fallback", frameworks=True)) is None
        assert warm.poll() is not None  # killed, not kept for later
    finally:
        pool.close()


def test_a_restart_within_a_submission_leaves_the_next_submissions_warm_worker_alone():
    pool = WorkerPool()
    try:
        session = WorkerSession(Sandbox(isolation="fallback"), cells(WHO, "def broken():\n    raise SystemExit(3)"),
                                pool=pool)
        first_pid = call(session, "who")["value"]["pid"]
        warm = pool._warm[1].process
        assert call(session, "broken")["status"] == "error"  # SystemExit: the worker is replaced (RESTART_AFTER)
        assert call(session, "who")["value"]["pid"] != first_pid
        assert pool._warm[1].process is warm and warm.poll() is None  # started cold, not taken from the pool
        session.close()
    finally:
        pool.close()


def test_two_workers_warm_ahead_each_serving_one_submission_in_turn():
    """The default depth: two workers start ahead, each under a uid of its own, handed out oldest first, each
    to one session only; every start tops the pool up again."""
    sandbox, pool = Sandbox(isolation="fallback"), WorkerPool()
    assert pool.depth == 2
    try:
        first = WorkerSession(sandbox, cells(WHO), pool=pool)
        first_uid = call(first, "who")["value"]["uid"]
        ahead = [spawned.process for _, spawned in pool._ahead]
        assert len(ahead) == 2 and all(process.poll() is None for process in ahead)
        assert len({spawned.lease.uid for _, spawned in pool._ahead} | {first_uid}) == 3
        first.close()
        served = []
        for expected in ahead:
            session = WorkerSession(sandbox, cells(WHO), pool=pool)
            reply = call(session, "who")
            assert session._worker.process is expected and reply["status"] == "ok"
            assert len(pool._ahead) == 2 and expected not in [spawned.process for _, spawned in pool._ahead]
            served.append(reply["value"]["uid"])
            session.close()
            assert expected.poll() is not None  # never handed out again
        assert len(set(served)) == 2 and first_uid not in served
    finally:
        pool.close()
    assert pool._warm is None and not pool._ahead


def test_a_pool_of_depth_one_keeps_one_warm_worker():
    pool = WorkerPool(depth=1)
    try:
        pool.prepare(Sandbox(isolation="fallback"))
        pool.prepare(Sandbox(isolation="fallback"))
        assert len(pool._ahead) == 1
    finally:
        pool.close()
    with pytest.raises(ValueError, match="at least 1"):
        WorkerPool(depth=0)
