"""Crafted replies, end to end: a reply is bounded before the grader decodes it.

Each attack is a code cell appended to the full-marks 01 solution, as a student would write it: its
``binary_crossentropy`` replaces, for its own reply only, the worker's encoder (``sys.modules["wire"]``,
the module ``worker.py`` calls) with one that sends a crafted archive. Each must fail that unit's cases
with a message naming the broken bound, leave every other unit passing, and cost the grader little:
before replies were bounded, 60,000 empty members made each decode take minutes.
"""

from __future__ import annotations

import time

import pytest
from conftest import SOLUTIONS, TEST_SECRET, code_cell, write_variant
from dlcourse.autograder.cases import COURSE
from dlcourse.autograder.cases.backprop import ASSIGNMENT as BACKPROP
from dlcourse.autograder.engine.case import Assignment
from dlcourse.autograder.engine.grade import Grader

QUICK_01 = Assignment("01_backprop", "01 without the MLP units",
                      tuple(c for c in BACKPROP.cases if c.unit not in ("mlp_loss_and_grads", "train_mlp")))
TARGET = "binary_crossentropy"
SUBMISSION_SECONDS = 60.0  # grading the whole quick submission; before replies were bounded: minutes

# What every attack shares: the honest unit, a one-shot replacement of the worker's encoder, and a zip
# writer fast enough to build 60,000 members in a fraction of a second inside the sandbox.
PRELUDE = '''
import io, json, struct, sys, zipfile, zlib
import numpy as np

def _members(payload):
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]

def _stored_zip(members, claimed=None):
    local, central, offset = [], [], 0
    for name, data in members:
        raw, crc = name.encode(), zlib.crc32(data)
        header = struct.pack("<4s5H3L2H", b"PK\\x03\\x04", 20, 0, 0, 0, 0, crc, len(data), len(data), len(raw), 0)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\\x01\\x02", 20, 20, 0, 0, 0, 0, crc, len(data), len(data),
                                   len(raw), 0, 0, 0, 0, 0, offset) + raw)
        local.append(header + raw + data)
        offset += len(header) + len(raw) + len(data)
    directory = b"".join(central)
    count = len(central) if claimed is None else claimed
    end = struct.pack("<4s4H2LH", b"PK\\x05\\x06", 0, 0, count, count, len(directory), offset, 0)
    return b"".join(local) + directory + end

def _honest_bce(logits, y):
    loss = np.mean(np.maximum(logits, 0.0) - logits * y + np.log1p(np.exp(-np.abs(logits))))
    return loss, (np.exp(-np.logaddexp(0.0, -logits)) - y) / logits.shape[0]

def binary_crossentropy(logits, y):
    wire = sys.modules["wire"]
    honest = wire.encode
    def crafted(reply):
        wire.encode = honest
        return craft(honest, reply)
    wire.encode = crafted
    return _honest_bce(logits, y)
'''

ATTACKS = {
    # 60,000 empty members beside the honest ones (5 MB): np.load's per-member lookups are quadratic
    "many_members": ("members", '''
def craft(honest, reply):
    return _stored_zip(_members(honest(reply)) + [(str(k), b"") for k in range(60000)])
'''),
    # the value as an object array: a pickle offered to the grader
    "object_array": ("dtype", '''
def craft(honest, reply):
    members = _members(honest(dict(reply, value=np.zeros(1))))
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array([print, 1.0], dtype=object), allow_pickle=True)
    return _stored_zip([(name, buffer.getvalue() if name == "a0.npy" else data) for name, data in members])
'''),
    # 600,000 empty members (50 MB) behind an end record that claims 3: decoding took 25 s before
    "members_to_the_frame_limit": ("members", '''
def craft(honest, reply):
    members = _members(honest(reply))
    return _stored_zip(members + [(str(k), b"") for k in range(600000)], claimed=len(members))
'''),
    # a member whose directory entry declares 4 GB, stored
    "huge_declared_size": ("total size", '''
def craft(honest, reply):
    data = bytearray(honest(reply))
    entry = data.index(b"PK\\x01\\x02")
    data[entry + 20:entry + 28] = struct.pack("<2L", 0xFFFFFFF0, 0xFFFFFFF0)
    return bytes(data)
'''),
    # the honest members deflated, beside 16 MB of zeros that deflate to 16 KB
    "deflated_members": ("compress", '''
def craft(honest, reply):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in _members(honest(reply)):
            archive.writestr(name, data)
        archive.writestr("padding", bytes(16 * 2**20))
    return buffer.getvalue()
'''),
}

# a frame that announces a terabyte: the worker's frame writer replaced for one reply
FRAME_ATTACK = PRELUDE.replace("wire.encode = crafted", "wire.write_frame = announce") + '''
def craft(honest, reply):
    return honest(reply)

def announce(stream, payload):
    stream.write(struct.pack(">Q", 2**40) + payload)
    stream.flush()
'''



def grade_attack(tmp_path, level: str, code: str) -> tuple[str, float]:
    """Grade the quick 01 with ``code`` appended; check that only the target unit fails; return its
    messages and the grading's wall time."""
    grader = Grader(COURSE, secret=TEST_SECRET, max_timeout=20.0, isolation=level)
    notebook = write_variant(tmp_path, SOLUTIONS / "01_backprop.ipynb", lambda nb: nb["cells"].append(code_cell(code)))
    started = time.monotonic()
    result = grader.grade(notebook, QUICK_01)
    seconds = time.monotonic() - started
    target = [r for r in result.results if r.case.unit == TARGET]
    others = [r for r in result.results if r.case.unit != TARGET]
    assert target and not any(r.verdict.passed for r in target), [r.verdict.message for r in target]
    assert all(r.verdict.passed for r in others), [r.verdict.message for r in others if not r.verdict.passed]
    return "\n".join(r.verdict.message for r in target), seconds


def test_the_honest_unit_of_the_attacks_passes(tmp_path):
    """The attacks' own ``binary_crossentropy`` is right: only the crafted reply can fail it."""
    code = PRELUDE.replace("wire.encode = crafted", "pass") + "\ndef craft(honest, reply):\n    return honest(reply)\n"
    grader = Grader(COURSE, secret=TEST_SECRET, max_timeout=20.0, isolation="fallback")
    notebook = write_variant(tmp_path, SOLUTIONS / "01_backprop.ipynb", lambda nb: nb["cells"].append(code_cell(code)))
    result = grader.grade(notebook, QUICK_01)
    assert all(r.verdict.passed for r in result.results), [r.verdict.message for r in result.results
                                                          if not r.verdict.passed]


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_crafted_reply_fails_its_unit_quickly_with_the_bound_named(tmp_path, level, attack):
    bound, craft = ATTACKS[attack]
    messages, seconds = grade_attack(tmp_path, level, PRELUDE + craft)
    assert messages.count("broke a bound") == 3 and bound in messages, messages
    assert seconds < SUBMISSION_SECONDS, f"grading took {seconds:.1f} s"


def test_a_frame_announcing_a_terabyte_fails_its_unit_quickly(tmp_path, level):
    messages, seconds = grade_attack(tmp_path, level, FRAME_ATTACK)
    assert messages.count("broke a bound") == 3 and "frame" in messages, messages
    assert seconds < SUBMISSION_SECONDS, f"grading took {seconds:.1f} s"
