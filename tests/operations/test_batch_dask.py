"""grade-batch on a real two-process Dask cluster (``dask scheduler`` + ``dask worker`` on 127.0.0.1).

The worker runs in another working folder than the client and the client passes a relative path:
tasks carry the notebook's bytes, so the worker never needs the client's files. A worker that
cannot grade (here: its grader fingerprint differs from the client's) is retried with Dask's
``retries=``, then reported "not graded", never scored 0, and graded by the next run.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.course.batch import Settings, grade_batch
from conftest import ASSIGNMENTS_DIR, SOLUTIONS, TEST_SECRET

distributed = pytest.importorskip("distributed")
BIN = Path(sys.executable).parent
BACKPROP = ASSIGNMENTS["01_backprop"]


def read_csv(path: Path) -> dict[str, dict]:
    return {row["student"]: row for row in csv.DictReader(io.StringIO(path.read_text()))}


def start(command: list[str], cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as stream:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=stream, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and one single-threaded worker, each its own process, on 127.0.0.1; stopped after."""
    base = tmp_path_factory.mktemp("cluster")
    worker_cwd = base / "worker-cwd"
    worker_cwd.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("DLCOURSE_SECRET", "DLCOURSE_CACHE")}
    env.update({"DLCOURSE_CACHE": str(base / "worker-cache"), "TF_CPP_MIN_LOG_LEVEL": "2",
                "TF_ENABLE_ONEDNN_OPTS": "0"})
    scheduler_file = base / "scheduler.json"
    scheduler = start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                       "--scheduler-file", str(scheduler_file)], base, env, base / "scheduler.log")
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.exists(), (base / "scheduler.log").read_text()
        worker = start([str(BIN / "dask"), "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                        "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1",
                        "--local-directory", str(worker_cwd / "dask")], worker_cwd, env, base / "worker.log")
        with distributed.Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.wait_for_workers(1, timeout=120)
            address = client.scheduler.address
        yield address, worker_cwd
    finally:
        for process in (worker, scheduler):
            if process is not None:
                stop(process)


def test_a_two_process_cluster_grades_a_relative_path_from_another_folder(cluster, tmp_path, monkeypatch):
    address, worker_cwd = cluster
    client_cwd = tmp_path / "client"
    for student, source in (("ann", SOLUTIONS), ("bob", ASSIGNMENTS_DIR)):
        (client_cwd / "submitted" / student).mkdir(parents=True)
        shutil.copy(source / "01_backprop.ipynb", client_cwd / "submitted" / student / "01_backprop.ipynb")
    monkeypatch.chdir(client_cwd)
    with distributed.Client(address) as client:
        (worker_folder,) = set(client.run(os.getcwd).values())
        worker_pids = set(client.run(os.getpid).values())
    assert Path(worker_folder).resolve() == worker_cwd.resolve() and os.getpid() not in worker_pids
    assert not (worker_cwd / "submitted").exists()

    report = grade_batch(Path("submitted"), Path("out"), Settings(TEST_SECRET, scheduler=address, figures=False))
    rows = read_csv(Path("out/gradebook.csv"))
    assert report.graded == 2 and not report.not_graded
    assert float(rows["ann"]["total"]) == BACKPROP.max_score and float(rows["bob"]["total"]) == 0

    # The client's grader now differs from the worker's (another Keras backend): the worker refuses,
    # Dask retries, and the notebooks end "not graded", not 0.
    monkeypatch.setenv("KERAS_BACKEND", "jax" if os.environ.get("KERAS_BACKEND") != "jax" else "torch")
    refused = grade_batch(Path("submitted"), Path("out2"),
                          Settings(TEST_SECRET, scheduler=address, figures=False, retries=1))
    monkeypatch.undo()
    monkeypatch.chdir(client_cwd)
    assert sorted(name for name, _ in refused.not_graded) == ["ann/01_backprop.ipynb", "bob/01_backprop.ipynb"]
    assert all("this worker's grader differs from the client's" in reason for _, reason in refused.not_graded)
    rows = read_csv(Path("out2/gradebook.csv"))
    assert rows["ann"]["total"] == rows["bob"]["total"] == "not graded"

    again = grade_batch(Path("submitted"), Path("out2"), Settings(TEST_SECRET, scheduler=address, figures=False))
    assert again.graded == 2 and not again.not_graded
    assert Path("out2/gradebook.csv").read_text() == Path("out/gradebook.csv").read_text()
