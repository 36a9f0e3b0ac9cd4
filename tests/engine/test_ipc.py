"""The sweep of SysV IPC objects (``ipc.py``): objects read per uid from ``/proc/sysvipc`` and removed with ``IPC_RMID``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dlcourse.autograder.engine import ipc
from dlcourse.autograder.engine.sandbox import UidLease

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="making objects as a sandbox uid needs root")

MAKE_ALL = ("import ctypes; c = ctypes.CDLL(None); "
            "print(c.shmget(0, 1 << 16, 0o1600), c.semget(0, 2, 0o1600), c.msgget(0, 0o1600))")
MAKE_SEGMENT = "import ctypes; print(ctypes.CDLL(None).shmget(0, 4096, 0o1600))"
MAKE_SEMAPHORES = "import ctypes; print(ctypes.CDLL(None).semget(0, 2, 0o1600))"


def make_as(uid: int, code: str = MAKE_ALL) -> list[int]:
    """Run ``code`` as ``uid`` (it prints the ids of what it made)."""
    made = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", sys.executable, "-I", "-S",
                           "-c", code], capture_output=True, text=True, timeout=30, check=True)
    return [int(word) for word in made.stdout.split()]


@ROOT_ONLY
def test_remove_objects_of_removes_every_kind_a_uid_created_and_nothing_of_another_uid():
    with UidLease() as uid, UidLease() as other:
        try:
            ids = make_as(uid)
            (kept,) = make_as(other, MAKE_SEMAPHORES)
            assert -1 not in ids and kept != -1
            found = ipc.objects_of(uid)
            assert sorted((item.kind, item.id) for item in found) == sorted(zip(("shm", "sem", "msg"), ids))
            assert all(item.uid == item.cuid == uid for item in found)
            assert ipc.remove_objects_of(uid) == [] and ipc.objects_of(uid) == []
            assert [(item.kind, item.id) for item in ipc.objects_of(other)] == [("sem", kept)]
        finally:
            ipc.remove_objects_of(uid)
            ipc.remove_objects_of(other)


@ROOT_ONLY
def test_removing_an_object_already_gone_counts_as_removed():
    with UidLease() as uid:
        (shm,) = make_as(uid, MAKE_SEGMENT)
        (item,) = ipc.objects_of(uid)
        assert item == ipc.IpcObject("shm", shm, uid, uid, item.mode)
        assert ipc.remove(item) and ipc.remove(item)
        assert ipc.objects_of(uid) == []


def test_objects_are_read_from_each_kinds_table_by_column_name(tmp_path, monkeypatch):
    monkeypatch.setattr(ipc, "SYSVIPC", tmp_path)
    (tmp_path / "sem").write_text("       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n"
                                  "         0         12   600          2 61001 61001     0     0          0 1700000000\n"
                                  "         0         13   600          2     0     0 61001 61001          0 1700000000\n"
                                  "         0         14   600          2  1000  1000  1000  1000          0 1700000000\n"
                                  "  a truncated line\n")
    assert ipc.objects("sem") == [ipc.IpcObject("sem", 12, 61001, 0, 0o600), ipc.IpcObject("sem", 13, 0, 61001, 0o600),
                                  ipc.IpcObject("sem", 14, 1000, 1000, 0o600)]
    assert [item.id for item in ipc.objects_of(61001)] == [12, 13]  # owned or created
    assert ipc.objects("shm") == [] and ipc.objects("msg") == []  # no table: nothing


def test_only_a_shared_memory_segment_marked_for_destruction_counts_as_removed():
    assert ipc.IpcObject("shm", 1, 61000, 61000, 0o1600).removed
    assert not ipc.IpcObject("shm", 1, 61000, 61000, 0o600).removed
    assert not ipc.IpcObject("sem", 1, 61000, 61000, 0o1600).removed
