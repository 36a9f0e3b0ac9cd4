"""The scratch folder's size bound (``quota.py``): a watch that stops a writer past it, and how a folder is summed.
A worker filling its scratch folder for real, jailed without Landlock, is in ``threats/test_no_landlock.py``."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from dlcourse.autograder.engine import quota
from dlcourse.autograder.engine.quota import ScratchWatch, usage

# Writes 1 MiB files into the folder, one every few milliseconds, up to 256 MiB; prints each total.
WRITER = """
import os, sys, time
for index in range(256):
    with open(os.path.join(sys.argv[1], f"part{index}"), "wb") as stream:
        stream.write(b"x" * 2**20)
    print(index + 1, flush=True)
    time.sleep(0.002)
print("ALL WRITTEN", flush=True)
"""


def watched_writer(folder, limit_bytes, script=WRITER):
    writer = subprocess.Popen([sys.executable, "-c", script, str(folder)], stdout=subprocess.PIPE, text=True)
    return writer, ScratchWatch(folder, limit_bytes, writer.kill).start()


def test_a_writer_past_the_bound_is_stopped_and_the_watch_says_why(tmp_path):
    writer, watch = watched_writer(tmp_path, 8 * 2**20)
    try:
        output, _ = writer.communicate(timeout=60)
    finally:
        watch.stop()
    assert writer.returncode == -9 and "ALL WRITTEN" not in output
    assert watch.exceeded is not None and watch.exceeded.startswith("its temporary files reached ")
    assert watch.exceeded.endswith("MiB, over the limit of 8 MiB and 10000 files in all"), watch.exceeded
    assert usage(tmp_path)[0] < 128 * 2**20  # stopped near the bound, far from the 256 MiB it would write


def test_a_writer_within_the_bound_is_left_alone(tmp_path):
    writer, watch = watched_writer(tmp_path, 64 * 2**20, WRITER.replace("range(256)", "range(4)"))
    try:
        output, _ = writer.communicate(timeout=60)
    finally:
        watch.stop()
    assert writer.returncode == 0 and "ALL WRITTEN" in output
    assert watch.exceeded is None


def test_too_many_small_files_stop_a_writer_too(tmp_path, monkeypatch):
    monkeypatch.setattr(quota, "MAX_ENTRIES", 50)
    many = "import os, sys, time\nfor i in range(5000):\n    open(os.path.join(sys.argv[1], str(i)), 'w').close()\n" \
           "    time.sleep(0.0005)\nprint('ALL WRITTEN')\n"
    writer, watch = watched_writer(tmp_path, 2**30, many)
    try:
        output, _ = writer.communicate(timeout=60)
    finally:
        watch.stop()
    assert writer.returncode == -9 and "ALL WRITTEN" not in output
    assert watch.exceeded.startswith("its temporary files reached ") and " files, over the limit" in watch.exceeded


def test_a_sparse_file_counts_at_its_apparent_size_and_a_symlink_is_not_followed(tmp_path):
    scratch = tmp_path / "scratch"
    (scratch / "sub").mkdir(parents=True)
    with open(scratch / "sub" / "sparse", "wb") as stream:
        stream.truncate(100 * 2**20)  # 100 MiB that take no block on disk
    big = tmp_path / "outside"
    big.write_bytes(b"y" * 2**20)
    os.symlink(big, scratch / "link")
    size, entries = usage(scratch)
    assert 100 * 2**20 <= size < 100 * 2**20 + 2**16 and entries == 3  # sub, sub/sparse, link


def test_a_folder_that_does_not_exist_counts_as_empty(tmp_path):
    assert usage(tmp_path / "gone") == (0, 0)


def test_the_count_stops_just_past_the_most_entries_asked_for(tmp_path):
    for index in range(3):
        folder = tmp_path / str(index)
        folder.mkdir()
        for name in range(20):
            (folder / str(name)).touch()
    assert usage(tmp_path)[1] == 63
    assert usage(tmp_path, max_entries=10)[1] == 23  # the top listing (3) and one folder's (20): no further listing


def test_stopping_a_watch_ends_its_thread(tmp_path):
    watch = ScratchWatch(tmp_path, 2**20, lambda: None).start()
    time.sleep(0.05)
    watch.stop()
    assert not watch._thread.is_alive() and watch.exceeded is None
