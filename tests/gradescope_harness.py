"""A simulated Gradescope, for tests: build the zip, set the image up as ``setup.sh`` does, grade uploads.

What it does, as Gradescope does it (only apt is left out):

1. ``dlcourse gradescope build --assignment 01_backprop`` writes the autograder zip;
2. ``unzip`` unpacks it into ``<image>/source`` (Gradescope's ``/autograder/source``);
3. the zip's own ``setup.sh`` runs with ``DLCOURSE_SKIP_SYSTEM=1`` (no apt), ``AUTOGRADER_ROOT=<image>``
   and ``DLCOURSE_VENV=<venv>``: it makes a fresh venv, installs ``source/package`` into it as a normal,
   non-editable install with its dependencies (pip finds them in the local wheel cache), and
   computes the references into ``<image>/source/cache``;
4. for each upload, ``Autograder.run`` copies the image into a fresh ``<root>/{source,submission,results}``
   (each Gradescope run starts from the image), puts the upload in ``submission/``, runs
   ``source/run_autograder`` with ``AUTOGRADER_ROOT=<root>`` and ``DLCOURSE_BIN=<venv>/bin/dlcourse``,
   and returns the parsed ``results/results.json``.

Every test module can use the session fixture (``tests/conftest.py`` registers this module as a
plugin; one venv per test process)::

    def test_something(gradescope_autograder, tmp_path):
        results = gradescope_autograder.run({"01_backprop.ipynb": notebook_path}, tmp_path,
                                            env={"DLCOURSE_ISOLATION": "fallback"})

``RESULTS_SCHEMA`` is Gradescope's documented ``results.json`` format as a JSON schema;
``validate_results(results)`` checks a results dict against it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
TEST_SECRET = "dlcourse-test-secret"

_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
_FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
RESULTS_SCHEMA = {
    # From Gradescope's "Autograder Specifications" (gradescope-autograders.readthedocs.io/en/latest/specs/),
    # section "Output format": every key is optional; "score" is required unless each test has one.
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": _FORMAT,
        "test_output_format": _FORMAT,
        "test_name_format": _FORMAT,
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "score": {"type": "number"},
                "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string"},
                "name_format": _FORMAT,
                "number": {"type": "string"},
                "output": {"type": "string"},
                "output_format": _FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": _VISIBILITY,
                "extra_data": {"type": "object"},
            },
        }},
        "leaderboard": {"type": "array", "items": {
            "type": "object", "required": ["name", "value"], "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}},
        }},
    },
    "anyOf": [{"required": ["score"]},
              {"required": ["tests"], "properties": {"tests": {"items": {"required": ["score"]}}}}],
}


def validate_results(results: dict) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``results`` follows Gradescope's results.json format."""
    import jsonschema

    jsonschema.validate(results, RESULTS_SCHEMA)


@dataclass
class Autograder:
    """A built and set-up autograder image.

    Attributes:
        zip_path: the zip ``gradescope build`` wrote.
        image: the folder whose ``source/`` is Gradescope's ``/autograder/source`` after ``setup.sh``.
        venv: the fresh venv ``setup.sh`` made (the image's ``/opt/dlcourse``).
        setup_seconds: wall time of ``setup.sh`` (venv, non-editable install, reference cache).
        setup_log: what ``setup.sh`` printed.
    """

    zip_path: Path
    image: Path
    venv: Path
    setup_seconds: float
    setup_log: str

    def run(self, upload: dict[str, bytes | Path], tmp: Path, env: dict[str, str] | None = None,
            timeout: float = 600) -> dict:
        """Grade one upload in a fresh ``<tmp>/autograder`` and return ``results.json`` (with ``_log`` added).

        Args:
            upload: ``{path inside the submission folder: bytes, or a file to copy}``.
            tmp: an empty folder for this run.
            env: extra environment for ``run_autograder`` (e.g. ``{"DLCOURSE_ISOLATION": "fallback"}``).
        """
        root = tmp / "autograder"
        shutil.copytree(self.image / "source", root / "source", symlinks=True)
        (root / "submission").mkdir(parents=True)
        for name, content in upload.items():
            target = root / "submission" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copy(content, target)
            else:
                target.write_bytes(content)
        environment = {key: value for key, value in os.environ.items() if key != "DLCOURSE_SECRET"}
        environment.update({"AUTOGRADER_ROOT": str(root), "DLCOURSE_BIN": str(self.venv / "bin" / "dlcourse")})
        environment.update(env or {})
        completed = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=environment,
                                   capture_output=True, text=True, timeout=timeout)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        results = json.loads((root / "results" / "results.json").read_text())
        log = root / "results" / "log.txt"
        results["_log"] = log.read_text(errors="replace") if log.exists() else ""
        return results


def build_autograder(folder: Path, assignment: str = "01_backprop", secret: str = TEST_SECRET,
                     dlcourse: Path = BIN / "dlcourse") -> Autograder:
    """Build the zip with a ``dlcourse`` command (default: this checkout's), unzip it, and run its
    ``setup.sh`` (without apt)."""
    folder.mkdir(parents=True, exist_ok=True)
    zip_path = folder / "autograder.zip"
    env = {**os.environ, "DLCOURSE_SECRET": secret}
    subprocess.run([str(dlcourse), "gradescope", "build", "--assignment", assignment, "--out", str(zip_path)],
                   env=env, check=True, capture_output=True, text=True)
    image, venv = folder / "image", folder / "venv"
    (image / "source").mkdir(parents=True)
    subprocess.run(["unzip", "-q", str(zip_path), "-d", str(image / "source")], check=True)
    setup_env = {key: value for key, value in os.environ.items()
                 if key not in ("DLCOURSE_SECRET", "DLCOURSE_CACHE", "VIRTUAL_ENV", "PYTHONPATH")}
    setup_env.update({"AUTOGRADER_ROOT": str(image), "DLCOURSE_VENV": str(venv), "DLCOURSE_SKIP_SYSTEM": "1",
                      "PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != str(BIN))})
    started = time.perf_counter()
    completed = subprocess.run(["bash", str(image / "source" / "setup.sh")], env=setup_env, cwd=image,
                               capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - started
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return Autograder(zip_path, image, venv, seconds, completed.stdout + completed.stderr)


@pytest.fixture(scope="session")
def gradescope_autograder(tmp_path_factory) -> Autograder:
    """The 01_backprop autograder, built and set up once per test session."""
    return build_autograder(tmp_path_factory.mktemp("gradescope"))
