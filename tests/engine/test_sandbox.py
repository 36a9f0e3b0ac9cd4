"""The sandbox's parts on their own: its environment and a dead worker's scratch folder. The runtime's files are
tested in ``test_runtime.py``, the layers in force in ``test_protections.py``; the attacks on it are in ``threats/``."""

from __future__ import annotations

import os
import tempfile

import pytest

from dlcourse.autograder.engine.sandbox import Sandbox


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
    monkeypatch.setenv("DLCOURSE_RUNTIME", str(tmp_path / "runtime"))
    jailed = tmp_path / "runtime" / "jail-0123" / "tmp" / "dlcourse-worker-jailed"  # left by a jailed grader
    jailed.mkdir(mode=0o700, parents=True)
    os.chown(jailed, uid, uid)
    folder = Sandbox(frameworks=False, isolation="fallback").scratch(uid)
    assert folder.parent == tmp_path and folder.stat().st_uid == uid
    assert not stale.exists() and not jailed.exists() and other.exists()
    stale.mkdir(mode=0o700)  # left again; this time the uid goes to a bubblewrap worker, which has no folder here
    os.chown(stale, uid, uid)
    assert Sandbox(frameworks=False, isolation="bwrap").scratch(uid) is None and not stale.exists()
