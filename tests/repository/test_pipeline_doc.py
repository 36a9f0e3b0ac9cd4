"""docs/pipeline.md cannot drift from the code: the files it says the worker runs are the runtime's, the
import-linter contract names their one package, and the operations it lists are the ones the grader sends (``wire.Op``)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from dlcourse.autograder.engine import runtime
from dlcourse.autograder.engine.sandboxed import wire

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "pipeline.md").read_text()
ENGINE = ROOT / "autograder" / "engine"


def _listed(marker: str) -> list[str]:
    """The first code span of each bullet between ``<!-- marker -->`` and ``<!-- /marker -->``."""
    block = PAGE.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    return [re.match(r"- `([^`]+)`", line).group(1) for line in block.strip().splitlines()]


def test_the_files_listed_are_the_files_the_worker_runs():
    assert sorted(_listed("worker-files")) == sorted(name for name, _ in runtime.worker_files(True))


def test_the_sandbox_contract_names_the_one_package_those_files_are():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (sandbox,) = [contract for contract in contracts if contract["name"].startswith("The sandbox's files")]
    assert sandbox["source_modules"] == ["dlcourse.autograder.engine.sandboxed"] and "ignore_imports" not in sandbox
    folder = ENGINE / "sandboxed"  # the files listed are every file of that package but its own __init__.py
    assert set(_listed("worker-files")) == {path.relative_to(folder).as_posix() for path in folder.rglob("*.py")} - \
        {"__init__.py"}


def test_the_operations_listed_are_the_ones_the_grader_sends():
    sent = set()
    for path in [ENGINE / "session.py", ENGINE / "sandboxed" / "drivers" / "__init__.py"]:
        sent |= {wire.Op[name].value for name in re.findall(r'\{"op": wire\.Op\.(\w+)\.value', path.read_text())}
    assert set(_listed("ops")) == sent == {op.value for op in wire.Op} == {"probe", "load", "run", "progress"}
