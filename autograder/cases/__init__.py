"""The course's grading cases, one module per assignment, and how a notebook is matched to one."""

from __future__ import annotations

import importlib
import pkgutil

from autograder.engine.case import Assignment


def _discover() -> dict[str, Assignment]:
    """Every module here with an ``ASSIGNMENT``, in notebook order (01, 02, ...)."""
    found = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        assignment = getattr(module, "ASSIGNMENT", None)
        if isinstance(assignment, Assignment):
            found[assignment.name] = assignment
    return dict(sorted(found.items()))


ASSIGNMENTS: dict[str, Assignment] = _discover()


def identify(notebook) -> Assignment | None:
    """The assignment of a notebook: its metadata, else its file name, else the units it defines."""
    tagged = notebook.metadata.get("dlcourse", {})
    if isinstance(tagged, dict) and tagged.get("assignment") in ASSIGNMENTS:
        return ASSIGNMENTS[tagged["assignment"]]
    for name, assignment in ASSIGNMENTS.items():
        if name in notebook.path.stem:
            return assignment
    overlap = {name: len(set(assignment.units) & notebook.defined) for name, assignment in ASSIGNMENTS.items()}
    best = max(overlap, key=overlap.get)
    return ASSIGNMENTS[best] if overlap[best] else None


def find_unit(unit: str) -> Assignment:
    """The assignment that grades ``unit`` (unit names are unique across the course)."""
    for assignment in ASSIGNMENTS.values():
        if unit in assignment.units:
            return assignment
    raise ValueError(f"Expected the name of a graded unit. Received {unit!r}.")
