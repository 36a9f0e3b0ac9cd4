"""A fingerprint per assignment: a change regrades only what it can affect.

Each assignment's grades depend on the engine, its cases module and the case and reference modules those
import; ``assignment_digest`` follows exactly that, here on a copy of the code where files are changed.
A batch keeps a record whose assignment fingerprint still holds, whatever else changed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import SOLUTIONS, TEST_SECRET

from dlcourse.autograder.cases import MODULES
from dlcourse.autograder.course.batch import Settings, grade_batch
from dlcourse.autograder.engine import fingerprint


@pytest.fixture
def code(tmp_path) -> Path:
    """A checkout's layout of the references, cases and engine, copied."""
    for label, folder in fingerprint.code_folders().items():
        target = {"references": tmp_path / "dlcourse" / "references", "cases": tmp_path / "autograder" / "cases",
                  "engine": tmp_path / "autograder" / "engine"}[label]
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def digests(root: Path) -> dict[str, str]:
    fingerprint.assignment_digest.cache_clear()
    return {name: fingerprint.assignment_digest(module, root) for name, module in MODULES.items()}


def changed_by(root: Path, relative: str) -> set[str]:
    before = digests(root)
    with open(root / relative, "a") as stream:
        stream.write("\n# changed\n")
    after = digests(root)
    return {name for name in MODULES if before[name] != after[name]}


def test_the_copy_has_the_same_digests_as_this_code(code):
    fingerprint.assignment_digest.cache_clear()
    assert digests(code) == {name: fingerprint.assignment_digest(module) for name, module in MODULES.items()}


@pytest.mark.parametrize("relative, affected", [
    ("autograder/cases/gan.py", {"09_gan"}),
    ("autograder/cases/distributions.py", {"02_initialization"}),  # a cases helper, followed through imports
    ("dlcourse/references/geometry.py", {"04_convolution", "05_pooling"}),
    ("autograder/engine/sandboxed/drivers/keras/model_spec.py", set(MODULES)),  # an engine file, as every driver
    ("autograder/engine/compare.py", set(MODULES)),
])
def test_a_change_affects_only_the_assignments_that_depend_on_it(code, relative, affected):
    assert changed_by(code, relative) == affected


def test_a_batch_keeps_records_whose_assignment_fingerprint_holds(tmp_path):
    root, out = tmp_path / "submitted", tmp_path / "graded"
    for student, name in (("ann", "01_backprop"), ("bo", "05_pooling")):
        (root / student).mkdir(parents=True)
        shutil.copy(SOLUTIONS / f"{name}.ipynb", root / student / f"{name}.ipynb")
    first = grade_batch(root, out, Settings(TEST_SECRET))
    assert first.graded == 2 and all(r.assignment_fingerprint for r in first.records)
    records = {r.student: out / "results" / r.student / f"{r.submission}.json" for r in first.records}
    for path in records.values():  # another assignment's cases changed: the grader's fingerprint moved
        record = json.loads(path.read_text())
        path.write_text(json.dumps({**record, "fingerprint": "another grader"}))
    again = grade_batch(root, out, Settings(TEST_SECRET))
    assert (again.graded, again.skipped) == (0, 2)
    stale = json.loads(records["bo"].read_text())
    records["bo"].write_text(json.dumps({**stale, "assignment_fingerprint": "05's cases changed"}))
    third = grade_batch(root, out, Settings(TEST_SECRET))
    assert (third.graded, third.skipped) == (1, 1)
    assert json.loads(records["bo"].read_text())["assignment_fingerprint"] == stale["assignment_fingerprint"]
