"""A fingerprint per assignment: a change regrades only what it can affect.

Each assignment's grades depend on the engine, its cases module and the case and reference modules those
import; ``assignment_digest`` follows exactly that, here on a copy of the code where files are changed.
A batch keeps a record whose assignment fingerprint still holds, whatever else changed. The grader's fingerprint
(and the reference cache's key) follow the code as installed, and the secret without containing it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SOLUTIONS, TEST_SECRET

from dlcourse.autograder.cases import MODULES
from dlcourse.autograder.course.batch import Settings, grade_batch
from dlcourse.autograder.engine import fingerprint
from dlcourse.autograder.engine.fingerprint import code_digest, grader_fingerprint


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


# ----------------------------------------------------------------------------- the grader fingerprint

def copy_package(target: Path) -> Path:
    """An installed layout: ``dlcourse/`` with the grader in ``dlcourse/autograder/``."""
    shutil.copytree(ROOT / "dlcourse", target / "dlcourse", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "autograder", target / "dlcourse" / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    return target


def fingerprints_in(package: Path) -> dict:
    """The reference-cache key prefix and grader fingerprint computed by a fresh interpreter importing ``package``."""
    script = ("import json, dlcourse; from dlcourse.autograder.engine.reference_cache import ReferenceCache;"
              "from dlcourse.autograder.engine.fingerprint import grader_fingerprint;"
              "print(json.dumps({'file': dlcourse.__file__, 'cache': ReferenceCache().fingerprint,"
              f"'grader': grader_fingerprint({TEST_SECRET!r})}}))")
    env = {**os.environ, "PYTHONPATH": str(package)}
    completed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=package)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


def test_editing_a_reference_function_changes_the_cache_key_and_the_grader_fingerprint(tmp_path):
    package = copy_package(tmp_path / "copy")
    assert code_digest(package) == code_digest(ROOT)
    before = fingerprints_in(package)
    assert before["file"].startswith(str(package))
    reference = package / "dlcourse" / "references" / "backprop.py"
    source = reference.read_text()
    assert "def " in source
    reference.write_text(source.replace("def ", "def _unused_helper():\n    return 1\n\n\ndef ", 1))
    after = fingerprints_in(package)
    assert code_digest.__wrapped__(package) != code_digest(ROOT)
    assert after["cache"] != before["cache"] and after["grader"] != before["grader"]


def test_the_fingerprint_changes_with_the_secret_and_never_contains_it():
    one, other = grader_fingerprint(TEST_SECRET), grader_fingerprint(TEST_SECRET + "x")
    assert one != other and one == grader_fingerprint(TEST_SECRET)
    assert TEST_SECRET not in one and len(one) == 32
