"""The course's grading cases, one module per assignment; ``COURSE`` is the catalogue the grader is given."""

from __future__ import annotations

import importlib
import pkgutil

from dlcourse.autograder.engine.case import Assignment
from dlcourse.autograder.engine.catalogue import Catalogue


def _discover() -> dict[str, Assignment]:
    """Every module here with an ``ASSIGNMENT``, in notebook order (01, 02, ...)."""
    found = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        assignment = getattr(module, "ASSIGNMENT", None)
        if isinstance(assignment, Assignment):
            found[assignment.name] = assignment
    return dict(sorted(found.items()))


COURSE = Catalogue(_discover())
ASSIGNMENTS: dict[str, Assignment] = COURSE.assignments
