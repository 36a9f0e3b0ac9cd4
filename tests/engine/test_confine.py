"""The confinement a worker applies to itself (``sandboxed/confine.py``): what each layer allows and refuses once
applied, and how a probe's tries become a verdict. Attacks on it, and the probe's honesty, are in ``threats/``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dlcourse.autograder.engine import runtime
from dlcourse.autograder.engine.sandboxed import confine

# Confines a fresh process as asked, then tries what the layers allow and refuse; prints each outcome.
CONFINED = """
import errno, json, os, socket, sys
sys.path.insert(0, {sandboxed!r})
import confine

def outcome(action):
    try:
        action()
    except PermissionError:
        return "refused"
    return "allowed"

def write(path):
    with open(path, "w") as stream:
        stream.write("x")

def read(path):
    with open(path) as stream:
        stream.read()

applied = confine.apply({read!r}, [{scratch!r}], sockets={sockets!r})
with open("/proc/self/status") as stream:
    no_new_privs = [line.split()[1] for line in stream if line.startswith("NoNewPrivs:")][0]
print(json.dumps({{"applied": applied, "no_new_privs": no_new_privs,
                  "write scratch": outcome(lambda: write(os.path.join({scratch!r}, "answer"))),
                  "read allowed": outcome(lambda: read({allowed!r})),
                  "write beside it": outcome(lambda: write(os.path.join(os.path.dirname({allowed!r}), "planted"))),
                  "read outside": outcome(lambda: read({outside!r})),
                  "socket": outcome(lambda: socket.socket(socket.AF_UNIX).close())}}))
"""


def confined(tmp_path, sockets: bool = False) -> dict:
    """What a process confined with ``confine.apply`` may still do, tried in a fresh process."""
    scratch, shared, elsewhere = tmp_path / "scratch", tmp_path / "readable", tmp_path / "elsewhere"
    for folder in (scratch, shared, elsewhere):
        folder.mkdir()
    (shared / "data.txt").write_text("readable")
    (elsewhere / "canary").write_text("the grader's")
    read = ["/usr", "/lib", "/lib64", "/etc", "/proc", "/dev", sys.base_prefix, sys.prefix, str(shared)]
    script = CONFINED.format(sandboxed=str(runtime.SANDBOXED_DIR), read=read, scratch=str(scratch),
                             sockets=sockets, allowed=str(shared / "data.txt"), outside=str(elsewhere / "canary"))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


needs_landlock = pytest.mark.skipif(confine.landlock_abi() < 1, reason="this kernel has no Landlock")


@needs_landlock
def test_a_confined_process_writes_only_its_scratch_folder_reads_only_its_list_and_opens_no_socket(tmp_path):
    found = confined(tmp_path)
    assert found["applied"] == {"no_new_privs": "on", "seccomp": "on",
                                "landlock": f"on (ABI {confine.landlock_abi()})"}, found
    assert found["no_new_privs"] == "1"
    assert (found["write scratch"], found["read allowed"]) == ("allowed", "allowed"), found
    assert (found["write beside it"], found["read outside"], found["socket"]) == ("refused",) * 3, found
    assert (tmp_path / "scratch" / "answer").read_text() == "x" and not (tmp_path / "readable" / "planted").exists()


@needs_landlock
def test_with_sockets_allowed_no_seccomp_filter_is_loaded_and_the_files_stay_confined(tmp_path):
    found = confined(tmp_path, sockets=True)
    assert "seccomp" not in found["applied"] and found["socket"] == "allowed", found
    assert found["read outside"] == "refused" and found["write scratch"] == "allowed", found


def test_a_layer_is_on_only_when_a_try_was_refused_and_none_got_through():
    applied = "on (ABI 6)"
    assert confine._verdict(applied, {"listing /": "blocked", "reading": "missing"}) == \
        "on (ABI 6; proven: listing / blocked)"
    assert confine._verdict("on", {"socket(AF_INET)": "blocked", "shmget": "blocked"}) == \
        "on (proven: socket(AF_INET), shmget blocked)"
    assert confine._verdict(applied, {"listing /": "blocked", "reading": "through"}) == \
        "off: reading got through (although it loaded, on (ABI 6))"
    assert confine._verdict("off: Landlock is not available", {"reading": "through"}) == \
        "off: reading got through (Landlock is not available)"
    assert confine._verdict("on", {"io_uring_setup": "missing"}) == "off: nothing could be tried (on)"


def test_asking_for_the_landlock_abi_confines_nothing(tmp_path):
    abi = confine.landlock_abi()
    assert isinstance(abi, int) and abi >= 0
    (tmp_path / "anywhere").write_text("still readable")
    assert (tmp_path / "anywhere").read_text() == "still readable"
