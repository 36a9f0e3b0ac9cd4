"""The sandbox's parts on their own: its environment, a dead worker's scratch folder, the runtime's files
(``runtime.py``), and the fallback level's layers (``protections.py``). The attacks on it are in ``threats/``."""

from __future__ import annotations

import os
import tempfile

import pytest

from dlcourse.autograder.engine.protections import protections
from dlcourse.autograder.engine.runtime import entries
from dlcourse.autograder.engine.sandbox import Sandbox

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="a uid of its own per worker needs root")


def test_the_runtime_never_exposes_the_grader():
    for frameworks in (False, True):
        names = {entry.name.split(".")[0].split("-")[0] for entry in entries(frameworks)}
        assert "numpy" in names and not names & {"dlcourse", "autograder", "nbgrader", "solutions"}
        assert ("keras" in names) == frameworks


@ROOT_ONLY
def test_every_fallback_layer_holds_here():
    """This machine has Landlock and libseccomp: doctor must say so, and must not flatter."""
    for frameworks in (False, True):
        found = {item.name: item for item in protections(Sandbox(frameworks=frameworks, isolation="fallback"))}
        assert not found["namespaces (bubblewrap)"].active
        for name in ("unprivileged uid per worker", "processes killed after grading", "no_new_privs",
                     "seccomp: no sockets, io_uring or SysV IPC", "Landlock: files confined"):
            assert found[name].active, found[name]


def test_environment_does_not_reveal_grading():
    environment = Sandbox().environment()
    assert not [key for key in environment if any(word in key.upper() for word in ("GRADE", "DLCOURSE", "CI"))]


@pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids need root")
def test_a_worker_folder_left_by_a_killed_grader_goes_before_its_uid_works_again(tmp_path, monkeypatch):
    """After ``kill -9`` of a grader its worker's scratch folder stays, owned by the uid. The uid's next
    worker must not find it (it may hold the previous student's files): it is removed at the next lease."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    uid = 61000 + 255
    stale = tmp_path / "dlcourse-worker-stale"
    stale.mkdir(mode=0o700)
    (stale / "answers.npy").write_bytes(b"the previous student's")
    os.chown(stale, uid, uid)
    other = tmp_path / "dlcourse-worker-other"  # another uid's folder is not touched
    other.mkdir(mode=0o700)
    os.chown(other, uid - 1, uid - 1)
    folder = Sandbox(frameworks=False, isolation="fallback").scratch(uid)
    assert folder.parent == tmp_path and folder.stat().st_uid == uid
    assert not stale.exists() and other.exists()
