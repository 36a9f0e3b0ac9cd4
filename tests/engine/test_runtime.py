"""The student runtime (``runtime.py``): the only packages a worker sees, and the worker's own files."""

from __future__ import annotations

import os
import stat

import pytest

from dlcourse.autograder.engine import runtime
from dlcourse.autograder.engine.runtime import entries

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="a runtime links only for a root grader")


def test_the_runtime_never_exposes_the_grader():
    for frameworks in (False, True):
        names = {entry.name.split(".")[0].split("-")[0] for entry in entries(frameworks)}
        assert "numpy" in names and not names & {"dlcourse", "autograder", "nbgrader", "solutions"}
        assert ("keras" in names) == frameworks


def test_a_numpy_worker_needs_numpy_and_pyseccomp_and_no_framework():
    names = {dist.metadata["Name"].lower() for dist in runtime.distributions(False)}
    assert {"numpy", "pyseccomp"} <= names and not names & {"keras", "tensorflow", "tensorflow-cpu", "jax", "torch"}
    assert names <= {dist.metadata["Name"].lower() for dist in runtime.distributions(True)}


def test_the_worker_files_are_every_py_file_under_sandboxed_and_the_keras_drivers_only_with_frameworks():
    folder = runtime.SANDBOXED_DIR
    everything = {path.relative_to(folder).as_posix() for path in folder.rglob("*.py")} - {"__init__.py"}
    with_frameworks = dict(runtime.worker_files(True))
    without = dict(runtime.worker_files(False))
    assert set(with_frameworks) == everything and "worker.py" in everything and "drivers/__init__.py" in everything
    assert set(without) == {name for name in everything if not name.startswith("drivers/keras/")}
    assert all(source == folder / name for name, source in with_frameworks.items())


def test_an_assembled_runtime_holds_exactly_the_worker_files_readable_by_all_and_writable_by_none():
    built = runtime.build(False)
    assert built.worker.is_file() and built.python.is_file() and (built.lib / "numpy").is_dir()
    assert not any((built.lib / name).exists() for name in runtime.NEVER_EXPOSED)
    found = {path.relative_to(built.workers).as_posix(): path for path in built.workers.rglob("*") if path.is_file()}
    assert set(found) - {".complete"} == {name for name, _ in runtime.worker_files(False)}
    for name, source in runtime.worker_files(False):
        assert found[name].read_bytes() == source.read_bytes()
        assert stat.S_IMODE(found[name].stat().st_mode) == 0o644, name


def test_the_runtime_folder_is_the_one_named_by_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DLCOURSE_RUNTIME", str(tmp_path / "runtime"))
    assert runtime.runtime_root() == tmp_path / "runtime"


@ROOT_ONLY
def test_only_a_root_owned_file_that_no_one_else_may_write_is_linked_never_a_setuid_one(tmp_path):
    def made(name: str, mode: int, owner: int = 0):
        path = tmp_path / name
        path.write_bytes(b"\x7fELF")
        os.chown(path, owner, owner)
        os.chmod(path, mode)
        return path

    assert runtime.may_link(made("library.so", 0o644))
    assert runtime.may_link(made("private.so", 0o600))
    assert not runtime.may_link(made("group-writable.so", 0o664))
    assert not runtime.may_link(made("world-writable.so", 0o646))
    assert not runtime.may_link(made("setuid", 0o4755))
    assert not runtime.may_link(made("setgid", 0o2755))
    assert not runtime.may_link(made("a-users.so", 0o644, owner=61999))
