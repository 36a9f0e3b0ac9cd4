"""Read a submitted notebook and keep only what defines the units: imports, functions, classes, constants.

Nothing is executed here: cells are parsed with ``ast`` in the grader and the kept statements go
to the sandbox as text. Training loops, plots and other top-level calls are dropped, so grading
never re-runs them. Units are found by name wherever they are: cells may be reordered, duplicated,
turned into raw or Markdown cells, or have lost their nbgrader metadata (a later definition wins,
as it would when the notebook runs top to bottom).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024  # of cell source: outputs and attachments are dropped first
MAX_FILE_BYTES = 256 * 1024 * 1024  # of the file as uploaded, outputs included
MAX_CELLS = 5000
_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_NO_RUN = (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp, ast.NamedExpr)


class NotebookError(ValueError):
    """A file that cannot be read as a notebook."""


@dataclass
class Notebook:
    """A submitted notebook, reduced to what grading needs.

    Attributes:
        path: where it was read from.
        cells: ``[{"label": "cell 3", "statements": [[lineno, source], ...]}, ...]`` in notebook order.
        defined: names of the functions and classes found.
        metadata: the notebook's top-level metadata (used to recognise the assignment).
        problems: cells that could not be parsed, with the parser's message.
    """

    path: Path
    cells: list = field(default_factory=list)
    defined: set = field(default_factory=set)
    metadata: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)


def read_notebook(path: str | Path) -> Notebook:
    """Parse ``path`` (an ``.ipynb`` file); raise ``NotebookError`` with a readable reason."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise NotebookError(f"cannot read {path.name}: {error.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise NotebookError(f"{path.name} is {size / 2**20:.0f} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit "
                            "for a notebook file (clear its outputs and submit it again)")
    with open(path, "rb") as stream:  # refuse what cannot be a notebook before reading it whole
        start = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith(b"{"):
        raise NotebookError(f"{path.name} ({size / 2**20:.1f} MiB) is not valid notebook JSON: "
                            "it does not start with '{'")
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"{path.name} is not valid notebook JSON ({error.msg} at line {error.lineno})") from None
    except RecursionError:
        raise NotebookError(f"{path.name} is nested too deeply to be a notebook") from None
    raw_cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(raw_cells, list):
        raise NotebookError(f"{path.name} has no list of cells: is it a Jupyter notebook?")
    if len(raw_cells) > MAX_CELLS:
        raise NotebookError(f"{path.name} has {len(raw_cells)} cells, over the limit of {MAX_CELLS}")
    del text
    for cell in raw_cells:  # outputs never count toward the limit, and are never looked at
        if isinstance(cell, dict):
            cell.pop("outputs", None)
            cell.pop("attachments", None)
    source_bytes = sum(len(_source(cell).encode("utf-8", "replace")) for cell in raw_cells)
    if source_bytes > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} holds {source_bytes / 2**20:.0f} MiB of cell source, over the "
                            f"{MAX_NOTEBOOK_BYTES // 2**20} MiB limit (outputs do not count)")
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    notebook = Notebook(path=path, metadata=metadata)
    for index, cell in enumerate(raw_cells, start=1):
        source = _source(cell)
        if not source.strip():
            continue
        label = f"cell {index}"
        code = isinstance(cell, dict) and cell.get("cell_type") == "code"
        statements = kept_statements(source, label, notebook.problems if code else None)
        if statements:
            notebook.cells.append({"label": label, "statements": [[line, text] for line, text, _ in statements]})
            notebook.defined.update(name for _, _, name in statements if name)
    return notebook


def kept_statements(source: str, label: str, problems: list | None = None) -> list[tuple[int, str, str | None]]:
    """The top-level statements of one cell worth keeping, as ``(first line, text, defined name)``.

    Args:
        source: the cell's text; IPython magics and shell escapes are blanked first.
        label: the cell's name in messages.
        problems: where to report a syntax error (None: ignore it, as for a Markdown cell).
    """
    lines = [("" if line.lstrip().startswith(("%", "!")) else line) for line in source.split("\n")]
    if source.lstrip().startswith("%%"):
        return []
    try:
        tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        if problems is not None:
            where = f", line {error.lineno}" if getattr(error, "lineno", None) else ""
            problems.append(f"{label}{where}: {type(error).__name__}: {getattr(error, 'msg', error)}")
        return []
    kept = []
    for node in tree.body:
        if isinstance(node, _KEPT) or (isinstance(node, (ast.Assign, ast.AnnAssign)) and _is_constant(node)):
            first = min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])])
            text = "\n".join(lines[first - 1:node.end_lineno])
            name = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else None
            kept.append((first, text, name))
    return kept


def _is_constant(node) -> bool:
    """An assignment that computes nothing: no calls, so no training or plotting hides in it."""
    if node.value is None:
        return False
    return not any(isinstance(child, _NO_RUN) for child in ast.walk(node.value))


def _source(cell) -> str:
    if not isinstance(cell, dict):
        return ""
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""
