"""A unit is found by its name: each unit's name is written out in its cases module, in a reference
module that its cases module imports, and in the tests (never only built from parts, as
``f"{name}_forward"``), so that searching for ``sigmoid_backward`` finds everything that grades it."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from dlcourse.autograder.cases import ASSIGNMENTS

TESTS = Path(__file__).resolve().parents[1]  # tests/, every folder of it


def _cases_module(assignment) -> types.ModuleType:
    (module,) = [module for name, module in list(sys.modules.items())
                 if name.startswith("dlcourse.autograder.") and getattr(module, "ASSIGNMENT", None) is assignment]
    return module


def _source(module: types.ModuleType) -> str:
    return Path(module.__file__).read_text(encoding="utf-8")


def _written(unit: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(unit)}(?!\w)", text) is not None


@pytest.mark.parametrize("name", sorted(ASSIGNMENTS))
def test_every_unit_is_named_in_its_cases_references_and_tests(name):
    assignment = ASSIGNMENTS[name]
    cases = _cases_module(assignment)
    references = [value for value in vars(cases).values()
                  if isinstance(value, types.ModuleType) and value.__name__.startswith("dlcourse.references.")]
    assert references, f"{cases.__name__} imports no module of dlcourse.references"
    reference_text = "\n".join(_source(module) for module in references)
    tests_text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(TESTS.rglob("test_*.py"))
                           if path.name != Path(__file__).name)
    missing = [f"{unit} ({where})" for unit in assignment.units
               for where, text in ((cases.__name__, _source(cases)),
                                   (" or ".join(module.__name__ for module in references), reference_text),
                                   ("tests/", tests_text))
               if not _written(unit, text)]
    assert not missing, "units whose name is not written out: " + "; ".join(missing)


def test_the_check_finds_a_name_built_from_parts():
    assert _written("sigmoid_backward", 'Case("sigmoid_backward", ...)')
    assert not _written("sigmoid_backward", 'Case(f"{name}_backward", ...)')
    assert not _written("conv2d_forward", 'Case("conv2d_forward_fast", ...)')
