"""The assignments a grader knows, and how a notebook or a unit is matched to one.

The engine grades whatever catalogue it is given; the course's own is ``dlcourse.autograder.cases.COURSE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlcourse.autograder.engine.case import Assignment


@dataclass(frozen=True)
class Catalogue:
    """Assignments by name (``01_backprop``), in notebook order; unit names are unique across them."""

    assignments: dict[str, Assignment]

    def __iter__(self):
        """The assignments' names, in notebook order."""
        return iter(self.assignments)

    def identify(self, notebook) -> Assignment | None:
        """The assignment of a notebook: its metadata, else its file name, else the units it defines."""
        tagged = notebook.metadata.get("dlcourse", {})
        if isinstance(tagged, dict) and tagged.get("assignment") in self.assignments:
            return self.assignments[tagged["assignment"]]
        named = self.by_file_name(notebook.path)
        if named is not None:
            return named
        overlap = {name: len(set(assignment.units) & notebook.defined) for name, assignment in self.assignments.items()}
        best = max(overlap, key=overlap.get)
        return self.assignments[best] if overlap[best] else None

    def by_file_name(self, path: Path) -> Assignment | None:
        """The assignment whose name is part of the file's stem (``01_backprop-alice.ipynb``)."""
        for name, assignment in self.assignments.items():
            if name in Path(path).stem:
                return assignment
        return None

    def find_unit(self, unit: str) -> Assignment:
        """The assignment that grades ``unit``."""
        for assignment in self.assignments.values():
            if unit in assignment.units:
                return assignment
        raise ValueError(f"Expected the name of a graded unit. Received {unit!r}.")
