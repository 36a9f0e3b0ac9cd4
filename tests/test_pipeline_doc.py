"""docs/pipeline.md cannot drift from the code: the files it says the worker runs are the runtime's, the
import-linter contract names their modules, and the operations it lists are the ones the grader sends."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from dlcourse.autograder.engine import runtime

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "pipeline.md").read_text()
ENGINE = ROOT / "autograder" / "engine"


def _listed(marker: str) -> list[str]:
    """The first code span of each bullet between ``<!-- marker -->`` and ``<!-- /marker -->``."""
    block = PAGE.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    return [re.match(r"- `([^`]+)`", line).group(1) for line in block.strip().splitlines()]


def test_the_files_listed_are_the_files_the_worker_runs():
    assert sorted(_listed("worker-files")) == sorted(name for name, _ in runtime.worker_files(True))


def test_the_sandbox_contract_names_the_modules_of_those_files():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (sandbox,) = [contract for contract in contracts if contract["name"].startswith("The sandbox's files")]
    modules = {f"dlcourse.autograder.engine.{name.split('/')[0].removesuffix('.py')}"
               for name in _listed("worker-files") if not name.endswith("model_spec.py")}
    assert set(sandbox["source_modules"]) == modules | {"dlcourse.references.model_spec"}


def test_the_operations_listed_are_the_ones_the_grader_sends():
    sent = set()
    for path in [ENGINE / "session.py", ENGINE / "drivers" / "__init__.py"]:
        sent |= set(re.findall(r'\{"op": "(\w+)"', path.read_text()))
    assert set(_listed("ops")) == sent == {"probe", "load", "run", "progress"}
