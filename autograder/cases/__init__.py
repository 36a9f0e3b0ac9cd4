"""The course's grading cases, one module per assignment; ``COURSE`` is the catalogue the grader is given."""

from __future__ import annotations

import importlib
import pkgutil

from dlcourse.autograder.engine.case import Assignment
from dlcourse.autograder.engine.catalogue import Catalogue


def _discover() -> tuple[dict[str, Assignment], dict[str, str]]:
    """Every module here with an ``ASSIGNMENT``, in notebook order (01, 02, ...), and each one's module name."""
    found, modules = {}, {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        assignment = getattr(module, "ASSIGNMENT", None)
        if isinstance(assignment, Assignment):
            found[assignment.name], modules[assignment.name] = assignment, module.__name__
    return dict(sorted(found.items())), modules


_FOUND, MODULES = _discover()  # MODULES: assignment name -> its cases module (what its fingerprint follows)
COURSE = Catalogue(_FOUND)
ASSIGNMENTS: dict[str, Assignment] = COURSE.assignments
