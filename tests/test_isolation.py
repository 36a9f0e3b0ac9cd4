"""The trust boundary at both isolation levels, for a NumPy (01) and a Keras (09) assignment.

``fallback`` is what runs where namespaces are unavailable (Gradescope, Docker, Kubernetes): as root
it must still keep every attack from changing a score, reading the secret or outliving grading.
Each attack replaces one unit of the full-marks solution; what must hold is checked after grading.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import (
    GRADER_MODULES,
    ROOT,
    SOLUTIONS,
    TEST_SECRET,
    code_cell,
    import_attack,
    leases_held,
    require_bwrap,
    write_variant,
)
from dlcourse.autograder.cases import COURSE
from dlcourse.autograder.cases.backprop import ASSIGNMENT as BACKPROP
from dlcourse.autograder.cases.gan import ASSIGNMENT as GAN
from dlcourse.autograder.engine.case import Assignment
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.protections import protections
from dlcourse.autograder.engine.runtime import entries
from dlcourse.autograder.engine.lifeline import processes_of
from dlcourse.autograder.engine.sandbox import Sandbox, UidLease

LEVELS = ["bwrap", "fallback"]
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="a uid of its own per worker needs root")

QUICK_01 = Assignment("01_backprop", "01 without the MLP units",
                      tuple(c for c in BACKPROP.cases if c.unit not in ("mlp_loss_and_grads", "train_mlp")))
QUICK_09 = Assignment("09_gan", "09, generator_loss only", tuple(c for c in GAN.cases if c.unit == "generator_loss"),
                      frameworks=True, memory_bytes=GAN.memory_bytes, processes=GAN.processes,
                      cpu_seconds=GAN.cpu_seconds)


@pytest.fixture(params=LEVELS)
def level(request) -> str:
    if request.param == "bwrap":
        require_bwrap()
    return request.param


@pytest.fixture
def exposed(tmp_path) -> dict[str, Path]:
    """Grader-side folders as a deployment lays them out: world-traversable parents, grader-owned
    files (like /autograder/results and /autograder/source/secret on Gradescope)."""
    top = Path(tempfile.mkdtemp(prefix="dlcourse-exposed-", dir="/var/tmp"))
    os.chmod(top, 0o755)
    folders = {name: top / name for name in ("results", "records", "cache")}
    for folder in folders.values():
        folder.mkdir(mode=0o755)
    (folders["results"] / "results.json").write_text('{"score": 0}')
    secret = top / "secret"
    secret.write_text(TEST_SECRET)
    os.chmod(secret, 0o600)
    yield {**folders, "secret": secret, "top": top}
    subprocess.run(["rm", "-rf", str(top)], check=False)


def grade(tmp_path: Path, level: str, source: Path, assignment: Assignment, unit: str, code: str):
    grader = Grader(COURSE, secret=TEST_SECRET, max_timeout=20.0, isolation=level)
    notebook = write_variant(tmp_path, source, lambda nb: nb["cells"].append(code_cell(code)))
    result = grader.grade(notebook, assignment)
    target = [r for r in result.results if r.case.unit == unit]
    others = [r for r in result.results if r.case.unit != unit]
    assert target and not any(r.verdict.passed for r in target), [r.verdict.message for r in target]
    assert all(r.verdict.passed for r in others), [r.verdict.message for r in others if not r.verdict.passed]
    return result, "\n".join(r.verdict.message for r in target)


def assert_no_worker_processes(seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    with leases_held(UidLease.used):
        while any(processes_of(uid) for uid in UidLease.used) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for uid in UidLease.used for pid in processes_of(uid)] == []


@ROOT_ONLY
def test_a_setsid_daemon_does_not_outlive_grading_or_rewrite_results(tmp_path, level, exposed):
    results = exposed["results"] / "results.json"
    result, messages = grade(tmp_path, level, SOLUTIONS / "01_backprop.ipynb", QUICK_01, "binary_crossentropy", f"""
import os, time
def binary_crossentropy(logits, y):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for _ in range(600):
                try:
                    open({str(results)!r}, "w").write('{{"score": 1000}}')
                except OSError:
                    pass
                time.sleep(0.05)
            os._exit(0)
        os._exit(0)
    time.sleep(0.2)
    raise RuntimeError("DAEMON started")
""")
    assert "DAEMON started" in messages
    assert_no_worker_processes()  # checked before anything else is written, as the grader does
    time.sleep(1.0)
    assert results.read_text() == '{"score": 0}'
    assert_no_worker_processes()


@ROOT_ONLY
def test_the_secret_cannot_be_read(tmp_path, level, exposed, monkeypatch):
    monkeypatch.setenv("DLCOURSE_SECRET", TEST_SECRET)
    result, messages = grade(tmp_path, level, SOLUTIONS / "01_backprop.ipynb", QUICK_01, "binary_crossentropy", f"""
import os
def binary_crossentropy(logits, y):
    seen = []
    paths = [{str(exposed['secret'])!r}, "/proc/{os.getpid()}/environ", "/proc/1/environ",
             os.path.expanduser("~root/.config/dlcourse/secret")]
    for path in paths:
        try:
            seen.append(open(path, "rb").read()[:200].decode("latin-1"))
        except OSError as error:
            seen.append(type(error).__name__)
    raise RuntimeError("SEEN" + repr(seen))
""")
    assert "SEEN" in messages
    everything = json.dumps([r.verdict.message for r in result.results] + result.notices)
    assert TEST_SECRET not in everything


def test_grader_packages_and_solutions_cannot_be_imported_in_a_numpy_assignment(tmp_path, level):
    attack = import_attack("binary_crossentropy(logits, y)", [ROOT, ROOT / "solutions", Path(sys.prefix) / "lib"],
                           (*GRADER_MODULES, "solutions", "keras"))
    _, messages = grade(tmp_path, level, SOLUTIONS / "01_backprop.ipynb", QUICK_01, "binary_crossentropy", attack)
    assert "IMPORTED[]" in messages


@pytest.mark.slow
def test_grader_packages_cannot_be_imported_in_a_keras_assignment(tmp_path, level):
    attack = import_attack("generator_loss(logits_fake)", [ROOT, Path(sys.prefix) / "lib" / "python3.11" / "site-packages"],
                           keras=True)
    _, messages = grade(tmp_path, level, SOLUTIONS / "09_gan.ipynb", QUICK_09, "generator_loss", attack)
    assert "IMPORTED[] keras 3." in messages


@ROOT_ONLY
def test_results_records_and_cache_folders_cannot_be_written(tmp_path, level, exposed):
    targets = [str(exposed[name] / "forged") for name in ("results", "records", "cache")]
    targets.append(str(exposed["results"] / "results.json"))
    grade(tmp_path, level, SOLUTIONS / "01_backprop.ipynb", QUICK_01, "binary_crossentropy", f"""
def binary_crossentropy(logits, y):
    for path in {targets!r}:
        try:
            open(path, "w").write("forged")
        except OSError:
            pass
    raise RuntimeError("tried")
""")
    assert not any(Path(path).exists() for path in targets[:3])
    assert (exposed["results"] / "results.json").read_text() == '{"score": 0}'


def test_the_grader_cannot_be_signalled(tmp_path, level):
    received = []
    previous = signal.signal(signal.SIGUSR1, lambda *args: received.append(args))
    try:
        _, messages = grade(tmp_path, level, SOLUTIONS / "01_backprop.ipynb", QUICK_01, "binary_crossentropy", f"""
import os, signal
def binary_crossentropy(logits, y):
    errors = []
    for pid in ({os.getpid()}, os.getppid()):
        try:
            os.kill(pid, signal.SIGUSR1)
            errors.append("sent")
        except OSError as error:
            errors.append(type(error).__name__)
    raise RuntimeError("KILL" + repr(errors))
""")
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert received == []


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


def test_doctor_reports_and_exits_2_for_an_impossible_level(monkeypatch):
    run = subprocess.run([sys.executable, "-m", "dlcourse", "doctor", "--isolation", "fallback"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode in (0, 1), run.stderr
    assert "Landlock" in run.stdout and "isolation fallback" in run.stdout
    monkeypatch.setenv("DLCOURSE_ISOLATION", "sideways")
    run = subprocess.run([sys.executable, "-m", "dlcourse", "doctor"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stdout + run.stderr
    assert "Expected isolation among auto, bwrap, fallback" in run.stdout



def test_a_new_reference_cache_folder_is_private(tmp_path):
    """The cache holds hidden cases' expected values: only the grader's uid may read it."""
    from dlcourse.autograder.engine.reference_cache import ReferenceCache

    folder = tmp_path / "cache" / "references"
    case = QUICK_01.cases[0]
    ReferenceCache(folder).expected(case, case.make_inputs(None))
    assert any(folder.iterdir()) and folder.stat().st_mode & 0o077 == 0
