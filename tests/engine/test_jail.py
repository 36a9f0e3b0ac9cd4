"""The chroot jail (``jail.py``): a complete root for a worker that holds the student runtime and nothing else,
writable by root alone. Grading in it without Landlock, attacks included, is in ``threats/test_no_landlock.py``."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from dlcourse.autograder.engine import jail, runtime

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a chroot jail needs root")
OUTSIDER = 60999  # an unprivileged uid of no one, outside the leased range (61000+)

# What a jailed process finds: NumPy importable, the grader's package and the host's files absent.
LOOK_AROUND = """
import json, os, sys
sys.path[:0] = ["/workers", "/runtime/lib"]
import numpy
try:
    import dlcourse
    grader = True
except ImportError:
    grader = False
print(json.dumps({"uid": os.getuid(), "numpy": float(numpy.ones(3).sum()), "grader": grader,
                  "top": sorted(os.listdir("/")), "exe": os.readlink("/proc/self/exe"),
                  "passwd": os.path.exists("/etc/passwd"), "work": os.path.exists("/work")}))
"""


def test_a_path_inside_the_jail_is_seen_from_its_root():
    cell = jail.Jail(Path("/var/cache/runtime/jail-1"), runtime.Runtime(jail.RUNTIME, jail.WORKERS))
    assert cell.scratch_parent == Path("/var/cache/runtime/jail-1/tmp")
    assert cell.inside(cell.scratch_parent / "dlcourse-worker-x") == Path("/tmp/dlcourse-worker-x")
    with pytest.raises(ValueError):
        cell.inside(Path("/var/cache/runtime/jail-2/tmp"))


def test_every_file_of_the_jail_is_roots_and_writable_by_root_alone_and_none_is_setuid():
    cell = jail.build(False)
    assert cell.runtime == runtime.Runtime(jail.RUNTIME, jail.WORKERS)
    for folder, folders, files in os.walk(cell.root):
        for name in [*folders, *files]:
            status = os.lstat(os.path.join(folder, name))
            if stat.S_ISLNK(status.st_mode) or stat.S_ISCHR(status.st_mode):
                continue
            assert status.st_uid == 0 and not status.st_mode & (0o022 | 0o6000), os.path.join(folder, name)
    assert stat.S_IMODE((cell.root / "tmp").stat().st_mode) == 0o755
    assert os.readlink(cell.root / "proc" / "self" / "exe") == str(jail.INTERPRETER)  # no "python" in the name
    assert Path(os.readlink(cell.root / "interpreter")) == cell.runtime.python
    assert sorted(os.listdir(cell.root / "proc")) == ["self"] and not (cell.root / "sys").exists()


def test_a_jailed_process_runs_numpy_as_its_uid_and_sees_nothing_of_the_host():
    cell = jail.build(False)
    chroot = shutil.which("chroot", path="/usr/sbin:/sbin:/usr/bin:/bin")
    run = subprocess.run([chroot, f"--userspec={OUTSIDER}:{OUTSIDER}", str(cell.root), str(cell.runtime.python),
                          "-I", "-S", "-c", LOOK_AROUND], capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": str(cell.runtime.library_path)})
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["uid"] == OUTSIDER and seen["numpy"] == 3.0 and not seen["grader"]
    assert not seen["passwd"] and not seen["work"] and seen["exe"] == str(jail.INTERPRETER)
    assert {"runtime", "workers", "tmp", "dev", "proc"} <= set(seen["top"]) and "home" not in seen["top"]
