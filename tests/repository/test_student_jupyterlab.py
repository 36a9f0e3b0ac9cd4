"""A student opens an assignment in JupyterLab as the README says, and the server starts without an error.

The README's student section starts JupyterLab from the venv with the course's student configuration
(``jupyter/student/``: nbgrader's server extensions and its JupyterLab extension turned off, since students
check their work with ``check()`` and need neither the formgrader nor nbgrader's exchange, whose assignment
list logs a critical error and a traceback when no exchange directory can be created), and with
``--allow-root`` where the user is root. This test reads those lines from the README, starts that server for
real on 127.0.0.1, waits for it, opens the assignment through the contents API and the JupyterLab page,
stops it, and asserts that its log has no error and no nbgrader line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent
CONFIG_LINE = 'export JUPYTER_CONFIG_PATH="$PWD/jupyter/student"'
LAB_LINE = "jupyter lab assignments/01_backprop.ipynb"
NOTEBOOK = ROOT / "assignments" / "01_backprop.ipynb"


def student_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## For students")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_readme_tells_students_how_to_start_jupyterlab_with_the_student_configuration():
    section = student_section()
    lines = [line.split("  #")[0].strip() for line in section.splitlines()]
    assert ". .venv/bin/activate" in lines and CONFIG_LINE in lines and LAB_LINE in lines, section
    assert "--allow-root" in section
    config = json.loads((ROOT / "jupyter" / "student" / "jupyter_server_config.json").read_text())
    extensions = config["ServerApp"]["jpserver_extensions"]
    assert extensions and not any(extensions.values()) and all(name.startswith("nbgrader.") for name in extensions)
    page = json.loads((ROOT / "jupyter" / "student" / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"] == {"@jupyter/nbgrader": True}


def get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        data = response.read()
        return json.loads(data) if response.headers.get_content_type() == "application/json" else data


@pytest.mark.slow
def test_jupyterlab_started_as_the_readme_says_opens_the_assignment_with_no_error_in_its_log(tmp_path):
    env = {**os.environ,
           "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter" / "student"),  # the README's export, from the clone
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),  # no user configuration of this machine's
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}  # the venv, activated
    command = [str(BIN / "jupyter"), *LAB_LINE.split()[1:], "--no-browser", "--ip=127.0.0.1", "--port=0"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = tmp_path / "jupyterlab.log"
    with open(log, "w") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
    try:
        deadline, address = time.monotonic() + 120, None
        while True:
            if address is None:
                found = re.search(r"(http://127\.0\.0\.1:\d+/)lab\?token=(\w+)", log.read_text())
                address = found and (found[1], found[2])
            if address is not None:
                try:
                    get(address[0] + "api/status", address[1])
                    break
                except OSError:
                    pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"JupyterLab did not start (exit {server.poll()}):\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        base, token = address

        model = get(base + "api/contents/01_backprop.ipynb?content=1", token)
        assert model["type"] == "notebook" and model["path"] == "01_backprop.ipynb"
        assert len(model["content"]["cells"]) == len(json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"])
        page = get(base + "lab/tree/01_backprop.ipynb", token).decode()
        page_config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                            page, re.S)[1])
        assert "@jupyter/nbgrader" in page_config["disabledExtensions"]
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    text = log.read_text()
    errors = [line for line in text.splitlines()
              if line.startswith("[E ") or "ERROR" in line or "Traceback" in line or "nbgrader" in line.lower()]
    assert not errors, "JupyterLab's log at start:\n" + "\n".join(errors)
