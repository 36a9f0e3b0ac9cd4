"""The size bound of a worker's scratch folder, enforced from the grader.

``RLIMIT_FSIZE`` bounds each file a worker writes, not their number: without a tmpfs of its own (the
fallback level, the chroot jail, and the unsafe level ``none``), a worker's scratch folder is a folder
of the grader's disk, and a series of files under the per-file limit would fill it. A
``ScratchWatch`` (a thread of the grader, one per worker) sums the folder every ``SCAN_SECONDS`` while
the worker lives; past ``Limits.tmp_bytes`` (or ``MAX_ENTRIES`` files and folders, which would make
each scan slow) it records why and kills the worker and everything of its uid. The case running then
fails with that reason (``session.py``), and the folder is removed when the session closes.

A file counts at its apparent or its allocated size, whichever is larger, so sparse files count too.
A writer may get one interval past the bound before it is stopped: at page-cache speed (3 GB/s on the
machines the tests run on) 30 MiB in the 10 ms between scans. A scan of a large folder waits four times
its own length before the next, so the watch never takes more than a fifth of a core.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

SCAN_SECONDS = 0.01
MAX_ENTRIES = 10_000


class ScratchWatch:
    """Watches ``folder``; calls ``kill()`` once it holds more than ``limit_bytes`` (see the module)."""

    def __init__(self, folder: Path, limit_bytes: int, kill):
        self.folder = Path(folder)
        self.limit_bytes = limit_bytes
        self.exceeded: str | None = None  # why the worker was killed, for the case's message
        self._kill = kill
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"scratch watch {self.folder.name}", daemon=True)

    def start(self) -> ScratchWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=15)

    def _run(self) -> None:
        pause = SCAN_SECONDS
        while not self._stop.wait(pause):
            started = time.perf_counter()
            size, entries = usage(self.folder, MAX_ENTRIES)
            pause = max(SCAN_SECONDS, 4 * (time.perf_counter() - started))
            if size > self.limit_bytes or entries > MAX_ENTRIES:
                what = f"{entries} files" if entries > MAX_ENTRIES else f"{size / 2**20:.0f} MiB"
                self.exceeded = (f"its temporary files reached {what}, over the limit of "
                                 f"{self.limit_bytes / 2**20:g} MiB and {MAX_ENTRIES} files in all")
                self._kill()
                return


def usage(folder: Path, max_entries: int = MAX_ENTRIES) -> tuple[int, int]:
    """``(bytes, entries)`` beneath ``folder``, without following symlinks; the count stops just past
    ``max_entries``. A folder that vanishes meanwhile counts as empty."""
    total, count, pending = 0, 0, [str(folder)]
    while pending and count <= max_entries:
        try:
            with os.scandir(pending.pop()) as listing:
                for entry in listing:
                    count += 1
                    try:
                        status = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += max(status.st_size, status.st_blocks * 512)
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
        except OSError:
            continue
    return total, count
