"""Which protections hold here (``protections.py``): each layer in force only where a probe worker proved it."""

from __future__ import annotations

import os

import pytest

from dlcourse.autograder.engine.protections import LANDLOCK, SECCOMP, missing, protections, summary
from dlcourse.autograder.engine.sandbox import Sandbox

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="a uid of its own per worker needs root")


@ROOT_ONLY
def test_every_fallback_layer_holds_here():
    """This machine has Landlock and libseccomp: doctor must say so, and must not flatter."""
    for frameworks in (False, True):
        found = {item.name: item for item in protections(Sandbox(frameworks=frameworks, isolation="fallback"))}
        assert not found["namespaces (bubblewrap)"].active
        for name in ("unprivileged uid per worker", "processes killed after grading", "no_new_privs",
                     "seccomp: no sockets, io_uring or SysV IPC", "Landlock: files confined"):
            assert found[name].active, found[name]


def test_a_layer_is_in_force_only_when_the_probe_says_on_and_its_words_are_the_detail():
    layers = {"no_new_privs": "on (proven: PR_GET_NO_NEW_PRIVS reads 1)",
              "seccomp": "off: socket(AF_INET) got through (although it loaded, on)", "landlock": "loaded"}
    found = {item.name: item for item in protections(Sandbox(frameworks=False, isolation="fallback"), layers)}
    assert found["no_new_privs"].active and found["no_new_privs"].detail == layers["no_new_privs"]
    assert not found[SECCOMP].active and found[SECCOMP].detail == layers["seccomp"]
    assert not found[LANDLOCK].active  # "loaded" is not proof
    assert list(found) == ["namespaces (bubblewrap)", "unprivileged uid per worker", "processes killed after grading",
                           "student runtime", "no_new_privs", SECCOMP, LANDLOCK, "filesystem boundary (Landlock)"]


def test_a_layer_the_probe_did_not_mention_is_not_in_force():
    found = {item.name: item for item in protections(Sandbox(frameworks=True, isolation="fallback"), {})}
    for name in ("no_new_privs", SECCOMP, LANDLOCK):
        assert not found[name].active and found[name].detail == "not probed"
    assert "Keras and its backend are importable" in found["student runtime"].detail


def test_the_unsafe_level_reports_no_filesystem_boundary_among_what_is_missing():
    sandbox = Sandbox(frameworks=False, isolation="none")
    found = {item.name: item for item in protections(sandbox)}
    assert not found["filesystem boundary (none)"].active
    assert any(line.startswith("no filesystem boundary: ") for line in missing(sandbox)), missing(sandbox)
    assert summary(sandbox).startswith("isolation none; in force: ")
    assert "filesystem boundary" not in summary(sandbox)
