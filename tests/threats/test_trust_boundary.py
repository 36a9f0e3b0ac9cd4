"""The trust boundary holds against each threat of docs/trust-boundary.md, at both isolation levels.

Every attack replaces one unit of the full-marks solution with hostile code. First the threats that apply
to a NumPy assignment, on ``binary_crossentropy`` (3 points, used by no other unit). What must hold each
time: the attack gains nothing (that unit's cases fail), the rest of the submission is still graded
(everything else passes), the grader's files and process are intact, and no sandboxed process outlives
the grading.

Then the boundary at both isolation levels for a NumPy (01) and a Keras (09) assignment. ``fallback`` is
what runs where namespaces are unavailable (Gradescope, Docker, Kubernetes): as root it must still keep
every attack from changing a score, reading the secret or outliving grading; what must hold is checked
after grading.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
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
from dlcourse.autograder.cases.backprop import ASSIGNMENT
from dlcourse.autograder.cases.backprop import ASSIGNMENT as BACKPROP
from dlcourse.autograder.cases.gan import ASSIGNMENT as GAN
from dlcourse.autograder.engine.sandboxed import wire
from dlcourse.autograder.engine.case import Assignment
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.lifeline import processes_of
from dlcourse.autograder.engine.sandbox import UidLease

TARGET = "binary_crossentropy"
SOLUTION = SOLUTIONS / "01_backprop.ipynb"


# The attacks are graded on every case of 01 except the two MLP units (a second per attack saved).
QUICK = Assignment("01_backprop", "Backpropagation, without the MLP units",
                   tuple(case for case in ASSIGNMENT.cases if case.unit not in ("mlp_loss_and_grads", "train_mlp")))


@pytest.fixture(scope="module", params=["bwrap", "fallback"])
def quick_grader(request, reference_cache) -> Grader:
    """Hidden cases included; hangs cost 2 s per case instead of 10. Every attack runs at both
    isolation levels: bubblewrap, and the fallback used where namespaces are unavailable."""
    if request.param == "bwrap":
        require_bwrap()
    return Grader(COURSE, secret=TEST_SECRET, cache=reference_cache, max_timeout=2.0, isolation=request.param)


def attack(tmp_path: Path, source: str) -> Path:
    """The solution plus one last cell that redefines the target unit."""
    return write_variant(tmp_path, SOLUTION, lambda nb: nb["cells"].append(code_cell(source)))


def sandbox_processes() -> list[int]:
    """PIDs of live processes running as a sandbox uid that this test process leased."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
            if uid in UidLease.used:
                found.append(int(entry.name))
    return found


def assert_no_sandbox_processes_left(seconds: float = 10.0) -> None:
    """Killed sandboxes vanish (the kernel tears a PID namespace down asynchronously: allow a moment)."""
    deadline = time.monotonic() + seconds
    with leases_held(UidLease.used):
        while sandbox_processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sandbox_processes() == []


def grade_attack(grader: Grader, tmp_path: Path, source: str):
    result = grader.grade(attack(tmp_path, source), QUICK)
    target = [r for r in result.results if r.case.unit == TARGET]
    others = [r for r in result.results if r.case.unit != TARGET]
    assert target and all(not r.verdict.passed for r in target), [r.verdict.message for r in target]
    assert all(r.verdict.passed for r in others), [r.verdict.message for r in others if not r.verdict.passed]
    assert result.score == result.max_score - sum(r.case.points for r in target)
    if os.geteuid() == 0:
        assert_no_sandbox_processes_left()
    return result, [r.verdict.message for r in target]


def test_always_equal_object_gains_nothing(quick_grader, tmp_path):
    _, messages = grade_attack(quick_grader, tmp_path, f"""
class AlwaysEqual(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __array__(self, *a, **k): raise TypeError("no")

def {TARGET}(logits, y):
    return AlwaysEqual(0.0), AlwaysEqual(0.0)
""")
    assert "AlwaysEqual" in messages[0]


def test_ndarray_subclass_with_patched_eq_is_compared_by_value(quick_grader, tmp_path):
    grade_attack(quick_grader, tmp_path, f"""
import numpy as np
class Liar(np.ndarray):
    def __eq__(self, other): return np.ones(self.shape, bool)

def {TARGET}(logits, y):
    return np.zeros(()).view(Liar), np.zeros(logits.shape).view(Liar)
""")


def test_patched_numpy_cannot_change_the_verdict(quick_grader, tmp_path):
    grade_attack(quick_grader, tmp_path, f"""
import numpy as np
def {TARGET}(logits, y):
    np.allclose = lambda *a, **k: True
    np.testing.assert_allclose = lambda *a, **k: None
    np.isfinite = lambda x: np.ones(np.shape(x), bool)
    np.abs = lambda x: x * 0
    return 0.0, np.zeros_like(logits)
""")


@pytest.mark.parametrize("exit_call", ["os._exit(0)", "sys.exit(0)", "os.kill(os.getpid(), 9)",
                                       "os.kill(os.getppid(), 9)", "os.kill(-1, 9)"])
def test_exit_and_kill_cost_only_that_unit(quick_grader, tmp_path, exit_call):
    grade_attack(quick_grader, tmp_path, f"""
import os, sys
def {TARGET}(logits, y):
    {exit_call}
""")


@pytest.mark.parametrize("hang", ["while True: pass", "import time; time.sleep(3600)",
                                  "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT]); time_ = [i for i in iter(int, 1)]"])
def test_hangs_time_out(quick_grader, tmp_path, hang):
    _, messages = grade_attack(quick_grader, tmp_path, f"""
def {TARGET}(logits, y):
    {hang}
""")
    assert "timed out" in messages[0]


@pytest.mark.parametrize("bomb", ["np.ones((2**17, 2**17))", "[np.empty(2**27) for _ in range(10**4)]"])
def test_memory_bomb_is_a_memory_error(quick_grader, tmp_path, bomb):
    _, messages = grade_attack(quick_grader, tmp_path, f"""
import numpy as np
def {TARGET}(logits, y):
    hog = {bomb}
    return 0.0, logits
""")
    assert "MemoryError" in messages[0] or "died" in messages[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="the process limit needs a real uid switch (root)")
def test_fork_bomb_is_contained(quick_grader, tmp_path):
    _, messages = grade_attack(quick_grader, tmp_path, f"""
import os
def {TARGET}(logits, y):
    while True:
        os.fork()
""")
    assert any(word in messages[0] for word in ("BlockingIOError", "Resource temporarily unavailable",
                                                 "died", "exited", "timed out"))


def test_files_outside_the_sandbox_are_invisible(quick_grader, tmp_path):
    secret_file = Path.home() / ".config" / "dlcourse" / "secret"
    targets = [str(SOLUTION), str(Path(__file__)), str(secret_file), "/etc/passwd", str(tmp_path)]
    result, messages = grade_attack(quick_grader, tmp_path, f"""
import os
def {TARGET}(logits, y):
    seen = []
    for path in {targets!r}:
        try:
            seen.append(open(path).read()[:50])
        except OSError as error:
            seen.append(type(error).__name__)
    for path in ("/work", "/root", "/home", "/etc"):
        try:
            seen.append(str(os.listdir(path)))
        except OSError as error:
            seen.append(type(error).__name__)
    raise RuntimeError("SEEN" + repr(seen))
""")
    seen = messages[0].split("SEEN", 1)[1]
    assert "BEGIN SOLUTION" not in seen and "import" not in seen and "root:" not in seen
    assert TEST_SECRET not in json.dumps([r.verdict.message for r in result.results])


def test_writing_outside_is_impossible(quick_grader, tmp_path):
    marker = tmp_path / "written-by-student"
    grade_attack(quick_grader, tmp_path, f"""
def {TARGET}(logits, y):
    for path in ({str(marker)!r}, "/usr/lib/evil", "/tmp/../usr/evil"):
        try:
            open(path, "w").write("x")
        except OSError:
            pass
    raise RuntimeError("done")
""")
    assert not marker.exists()


def test_no_network(quick_grader, tmp_path):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    port = server.getsockname()[1]
    connections = []

    def accept():
        try:
            connections.append(server.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    _, messages = grade_attack(quick_grader, tmp_path, f"""
import socket
def {TARGET}(logits, y):
    errors = []
    for address in (("127.0.0.1", {port}), ("pypi.org", 443)):
        try:
            socket.create_connection(address, timeout=2).sendall(b"leak")
        except OSError as error:
            errors.append(type(error).__name__)
    raise RuntimeError(str(errors))
""")
    server.close()
    thread.join(timeout=5)
    assert connections == []
    assert "OSError" in messages[0] or "gaierror" in messages[0]


def test_huge_output_is_bounded_and_does_not_cost_a_correct_unit(quick_grader, tmp_path):
    result = quick_grader.grade(attack(tmp_path, f"""
import numpy as np
def {TARGET}(logits, y):
    for _ in range(200):
        print("x" * 500_000)
    n = logits.shape[0]
    loss = np.mean(np.maximum(logits, 0.0) - logits * y + np.log1p(np.exp(-np.abs(logits))))
    return loss, (np.exp(-np.logaddexp(0.0, -logits)) - y) / n
"""), QUICK)
    assert result.score == result.max_score
    assert len(json.dumps([r.verdict.message for r in result.results])) < 100_000


def test_printed_fake_results_and_forged_files_change_nothing(quick_grader, tmp_path):
    grade_attack(quick_grader, tmp_path, f"""
import json, os
def {TARGET}(logits, y):
    print(json.dumps({{"score": 38, "tests": []}}))
    os.makedirs("/tmp/autograder/results", exist_ok=True)
    open("/tmp/autograder/results/results.json", "w").write('{{"score": 38}}')
    return 0.0, logits
""")


def test_pickle_payload_is_never_unpickled(quick_grader, tmp_path):
    marker = tmp_path / "pwned"
    _, messages = grade_attack(quick_grader, tmp_path, f"""
import os, pickle, sys
class Payload:
    def __reduce__(self):
        return (os.system, ("touch {marker}",))

def {TARGET}(logits, y):
    data = pickle.dumps({{"status": "ok", "value": Payload()}})
    os.write(int(sys.argv[1]), len(data).to_bytes(8, "big") + data)
    os._exit(0)
""")
    assert not marker.exists()
    assert "not plain data" in messages[0]


def test_object_array_and_pickle_bytes_are_rejected_by_the_wire():
    import io
    import pickle

    buffer = io.BytesIO()
    np.savez(buffer, __skeleton__=np.frombuffer(b'{"__array__": "a0"}', np.uint8),
             a0=np.array([object()], dtype=object))
    with pytest.raises(wire.WireError):
        wire.decode(buffer.getvalue())
    with pytest.raises(wire.WireError):
        wire.decode(pickle.dumps({"status": "ok"}))


def test_frameworks_and_the_grader_cannot_be_imported(quick_grader, tmp_path):
    _, messages = grade_attack(quick_grader, tmp_path, f"""
def {TARGET}(logits, y):
    found = []
    for name in ("tensorflow", "keras", "torch", "jax", "dlcourse.references", "autograder", "solutions"):
        try:
            __import__(name)
            found.append(name)
        except ImportError:
            pass
    raise RuntimeError("IMPORTED" + repr(found))
""")
    assert "IMPORTED[]" in messages[0]


def test_deleted_cell_costs_only_its_units(grader, tmp_path):
    def delete(nb):
        nb["cells"] = [cell for cell in nb["cells"] if "def binary_crossentropy" not in "".join(cell["source"])]
    result = grader.grade(write_variant(tmp_path, SOLUTION, delete))
    rows = {row["unit"]: row for row in result.units()}
    assert rows["binary_crossentropy"]["status"] == rows["softmax_crossentropy"]["status"] == "missing"
    assert "not defined" in rows["binary_crossentropy"]["message"]
    # the MLP units call softmax_crossentropy, which lived in the deleted cell: a NameError, named as such
    assert "NameError" in rows["mlp_loss_and_grads"]["message"]
    untouched = set(rows) - {"binary_crossentropy", "softmax_crossentropy", "mlp_loss_and_grads", "train_mlp"}
    assert all(rows[unit]["status"] == "passed" for unit in untouched)


def test_duplicated_reordered_and_retyped_cells_still_score_full(grader, tmp_path):
    def shuffle(nb):
        cells = nb["cells"]
        code = [cell for cell in cells if cell["cell_type"] == "code"]
        for cell in code[:3]:
            cell["cell_type"] = "raw"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        cells[:] = list(reversed(cells)) + [json.loads(json.dumps(code[4]))]
        for cell in cells:
            cell.get("metadata", {}).pop("nbgrader", None)
    result = grader.grade(write_variant(tmp_path, SOLUTION, shuffle))
    assert result.score == result.max_score, [r.verdict.message for r in result.results if not r.verdict.passed]


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00garbage", b'{"cells": 5}', b"[]"])
def test_malformed_notebook_fails_every_case_with_a_reason(grader, tmp_path, content):
    path = tmp_path / "01_backprop.ipynb"
    path.write_bytes(content)
    result = grader.grade(path)
    assert result.score == 0 and result.results
    assert all("notebook" in r.verdict.message for r in result.results)


def test_non_utf8_source_is_read(grader, tmp_path):
    path = attack(tmp_path, f"def {TARGET}(logits, y):\n    return 'caf\\xe9'\n")
    path.write_bytes(path.read_bytes().replace(b"caf\\\\xe9", b"caf\xe9"))
    result = grader.grade(path)
    assert result.score == result.max_score - 3


def test_enormous_notebook_is_refused_without_reading_it_whole(grader, tmp_path):
    path = tmp_path / "01_backprop.ipynb"
    with open(path, "wb") as stream:
        stream.truncate(64 * 2**20)
    result = grader.grade(path)
    assert result.score == 0 and "MiB" in result.results[0].verdict.message


# ----------------------------------------------------------------------------- both isolation levels, 01 and 09

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="a uid of its own per worker needs root")

QUICK_01 = Assignment("01_backprop", "01 without the MLP units",
                      tuple(c for c in BACKPROP.cases if c.unit not in ("mlp_loss_and_grads", "train_mlp")))
QUICK_09 = Assignment("09_gan", "09, generator_loss only", tuple(c for c in GAN.cases if c.unit == "generator_loss"),
                      frameworks=True, memory_bytes=GAN.memory_bytes, processes=GAN.processes,
                      cpu_seconds=GAN.cpu_seconds)



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
