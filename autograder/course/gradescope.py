"""``dlcourse gradescope build``: a Gradescope autograder zip that grades with dlcourse's sandbox.

The zip holds ``setup.sh`` (installs Python 3.11, bubblewrap and the pinned package), ``run_autograder``
(grades ``/autograder/submission`` into ``/autograder/results/results.json``), the package source
(``dlcourse/`` and ``autograder/``, never ``solutions/``) and the course secret for hidden cases.
Students never see the zip.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder image is built (Ubuntu 22.04 base image).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq software-properties-common bubblewrap >/dev/null
if ! command -v python3.11 >/dev/null; then
  add-apt-repository -y ppa:deadsnakes/ppa >/dev/null && apt-get update -qq
  apt-get install -y -qq python3.11 python3.11-venv >/dev/null
fi
python3.11 -m venv /opt/dlcourse
/opt/dlcourse/bin/pip install --quiet --upgrade pip
/opt/dlcourse/bin/pip install --quiet /autograder/source/package
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT and DLCOURSE_BIN exist for testing.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
DLCOURSE="${DLCOURSE_BIN:-/opt/dlcourse/bin/dlcourse}"
mkdir -p "$ROOT/results"
export DLCOURSE_SECRET="$(cat "$ROOT/source/secret")"
export DLCOURSE_CACHE="$ROOT/source/cache"
"$DLCOURSE" grade "$ROOT/submission" --json "$ROOT/results/results.json" __ASSIGNMENT__ > "$ROOT/results/log.txt" 2>&1
status=$?
if [ $status -ne 0 ] || [ ! -s "$ROOT/results/results.json" ]; then
  python3 - "$ROOT/results/log.txt" "$ROOT/results/results.json" <<'PY'
import json, sys
log = open(sys.argv[1], errors="replace").read()[-2000:]
json.dump({"score": 0, "output": "Your submission could not be graded: upload your .ipynb notebook.\\n" + log,
           "visibility": "visible", "stdout_visibility": "hidden", "tests": []}, open(sys.argv[2], "w"))
PY
fi
exit 0
"""

PACKAGE_FILES = ("pyproject.toml", "setup.cfg", "README.md")
PACKAGE_DIRS = ("dlcourse", "autograder")


def build(root: Path, out: Path, secret: str, assignment: str) -> list[str]:
    """Write the autograder zip for ``assignment`` to ``out``; return the names it contains."""
    from autograder.cases import ASSIGNMENTS

    if assignment not in ASSIGNMENTS:
        raise ValueError(f"Expected an assignment among {', '.join(ASSIGNMENTS)}. Received {assignment!r}.")
    run = RUN_AUTOGRADER.replace("__ASSIGNMENT__", f"--assignment {assignment}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_text(archive, "setup.sh", SETUP_SH, executable=True)
        _add_text(archive, "run_autograder", run, executable=True)
        _add_text(archive, "secret", secret + "\n")
        for name in PACKAGE_FILES:
            archive.write(root / name, f"package/{name}")
        for folder in PACKAGE_DIRS:
            for path in sorted((root / folder).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc"):
                    archive.write(path, f"package/{path.relative_to(root)}")
        return archive.namelist()


def _add_text(archive: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name)
    mode = 0o755 if executable else 0o600
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def unpack(zip_path: Path, target: Path) -> None:
    """Unpack like Gradescope does (into ``source/``), keeping the executable bits."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            path = target / info.filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(info))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(path, mode)
