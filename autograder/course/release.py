"""``dlcourse release``: make the student notebooks in ``assignments/`` from the sources in ``solutions/``.

Uses nbgrader's own ``generate_assignment`` preprocessors, in nbgrader's order, on each notebook:
solutions become ``raise NotImplementedError()`` stubs, hidden tests and outputs are cleared,
cells are locked and checksummed. Only ``SaveCells`` (which writes nbgrader's gradebook) is left
out: releasing the course repository needs no database. The result is deterministic, so a test
can regenerate it and compare with what is committed.
"""

from __future__ import annotations

import json
from pathlib import Path

GENERATED_NOTE = ("Generated from solutions/{name} by `dlcourse release`; do not edit by hand: "
                  "edit the solution notebook and run `dlcourse release`.")


def student_notebook(source: Path) -> dict:
    """The student version of one solution notebook, as a notebook dict (nbformat 4)."""
    import nbformat
    from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput,
                                        ClearSolutions, ComputeChecksums, IncludeHeaderFooter, InstantiateTests,
                                        LockCells)
    from traitlets.config import Config

    notebook = nbformat.read(source, as_version=4)
    resources = {"unique_key": source.stem, "metadata": {"path": str(source.parent)}}
    config = Config()
    config.ClearSolutions.enforce_metadata = True
    # nbgrader's generate_assignment order, less SaveCells (the gradebook); see module docstring.
    steps = [IncludeHeaderFooter, InstantiateTests, LockCells, ClearSolutions, ClearOutput, CheckCellMetadata,
             ComputeChecksums, ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata]
    for step in steps:
        notebook, resources = step(config=config).preprocess(notebook, resources)
    notebook.metadata["dlcourse"] = {"assignment": source.stem, "generated": GENERATED_NOTE.format(name=source.name)}
    return notebook


def render(notebook) -> str:
    """Notebook JSON exactly as committed (stable key order, trailing newline)."""
    import nbformat

    return json.dumps(nbformat.from_dict(notebook), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def release(solutions: Path, assignments: Path) -> list[Path]:
    """Write ``assignments/NN_name.ipynb`` for every ``solutions/NN_name.ipynb``; return the paths written."""
    sources = sorted(solutions.glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        raise ValueError(f"Expected solution notebooks NN_name.ipynb. Received none in {solutions}")
    assignments.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        target = assignments / source.name
        target.write_text(render(student_notebook(source)), encoding="utf-8")
        written.append(target)
    return written

