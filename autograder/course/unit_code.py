"""The code of each unit as grading sees it: the unit's definition and the notebook's helpers it calls.

Read from the extractor's view of a notebook (``engine.extract``): only what grading keeps (imports,
definitions, safe assignments), the last definition of each name winning, as when the notebook runs
top to bottom. Nothing is executed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from dlcourse.autograder.engine.extract import Notebook


@dataclass(frozen=True)
class UnitCode:
    """One unit's code.

    Attributes:
        unit: the graded function's name.
        parts: ``(name, source)`` of the unit's definition, then of each helper it calls (directly or
            through another helper) that the notebook defines and that is not itself a graded unit,
            helpers sorted by name (so reordering functions changes nothing).
    """

    unit: str
    parts: tuple[tuple[str, str], ...]


def definitions(notebook: Notebook) -> dict[str, str]:
    """``{name: source}`` of every top-level function and class the notebook keeps (the last one wins)."""
    found = {}
    for cell in notebook.cells:
        for _, text in cell["statements"]:
            stripped = text.lstrip()
            if not stripped.startswith(("def ", "async ", "class ", "@")):
                continue
            try:
                node = ast.parse(text).body[0]
            except (SyntaxError, ValueError, RecursionError, IndexError):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found[node.name] = text
    return found


def numpy_names(notebook: Notebook) -> frozenset[str]:
    """The names the notebook imports numpy as (``np`` by convention)."""
    names = {"np"}
    for cell in notebook.cells:
        for _, text in cell["statements"]:
            if "numpy" not in text:
                continue
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError, RecursionError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(alias.asname or alias.name for alias in node.names if alias.name == "numpy")
    return frozenset(names)


def unit_code(notebook: Notebook, units) -> dict[str, UnitCode]:
    """The code of each of ``units`` that the notebook defines (a unit it lacks is left out)."""
    defined = definitions(notebook)
    graded = set(units)
    found = {}
    for unit in units:
        if unit not in defined:
            continue
        helpers, waiting = set(), [unit]
        while waiting:
            name = waiting.pop()
            for used in _uses(notebook, name, defined[name]):
                if used in defined and used not in graded and used not in helpers:
                    helpers.add(used)
                    waiting.append(used)
        found[unit] = UnitCode(unit, ((unit, defined[unit]),) + tuple((name, defined[name]) for name in sorted(helpers)))
    return found


def _uses(notebook: Notebook, name: str, source: str) -> list[str]:
    """The names a definition refers to: the extractor's record for a function, read here for a class."""
    if name in notebook.uses:
        return notebook.uses[name]
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    return sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - {name})
