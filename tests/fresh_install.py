"""A real, non-editable install of this checkout in a fresh virtual environment, as instructors and
Gradescope's ``setup.sh`` get it: ``pip wheel`` of the source tree, then ``pip install`` of the wheel.

Built once per source tree and shared by every test process (a lock guards the build; pip takes the
pinned dependencies from its local cache, so this is about a minute, not a download).
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def source_key() -> str:
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("dlcourse/**/*"), *ROOT.glob("autograder/**/*"),
                        ROOT / "setup.cfg", ROOT / "pyproject.toml"]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def wheel_venv() -> Path:
    """The folder of a fresh venv with this checkout installed from its wheel (built on first use)."""
    target = Path(tempfile.gettempdir()) / f"dlcourse-wheel-venv-{source_key()}"
    with open(f"{target}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".complete").is_file():
            return target
        shutil.rmtree(target, ignore_errors=True)
        wheels = Path(tempfile.mkdtemp(prefix="dlcourse-wheel-"))
        try:
            subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--wheel-dir", str(wheels), str(ROOT)], check=True, capture_output=True)
            subprocess.run([_base_python(), "-m", "venv", str(target)], check=True, capture_output=True)
            wheel = next(wheels.glob("dlcourse-*.whl"))
            subprocess.run([str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                           check=True, capture_output=True)
        finally:
            shutil.rmtree(wheels, ignore_errors=True)
        (target / ".complete").touch()
    return target


def _base_python() -> str:
    return str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())
