"""The code base passes ruff, configured in pyproject.toml (so `noqa` comments mean something)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_ruff_finds_nothing():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_imports_keep_the_layers(tmp_path):
    """import-linter's contracts in pyproject.toml (one-way layers; a worker that imports nothing trusted),
    checked on the package as a wheel installs it: ``autograder/`` only becomes ``dlcourse.autograder`` there."""
    source = tmp_path / "source"
    for name in ("dlcourse", "autograder"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    installed = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(installed), str(source)], check=True, capture_output=True, timeout=300)
    run = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache", str(ROOT / "pyproject.toml")],
                         cwd=installed, env={**os.environ, "PYTHONPATH": str(installed)},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
