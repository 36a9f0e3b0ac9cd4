"""Read a submitted notebook and keep only what defines the units; say what was left out and why.

Nothing is executed here: cells are parsed with ``ast`` in the grader and the kept statements go
to the sandbox as text, where they run in notebook order (each assignment under a small time
budget, see ``worker.load``). Units are found by name wherever they are: cells may be reordered,
duplicated, turned into raw or Markdown cells, or have lost their nbgrader metadata (a later
definition wins, as it would when the notebook runs top to bottom).

The rule, top-level statement by top-level statement (what grading runs of a notebook):

1. ``import`` and ``from ... import`` statements are kept.
2. ``def``, ``async def`` and ``class`` statements are kept, with their decorators.
3. Assignments (``x = ...``, ``x: T = ...``, ``x += ...``) are kept when running them cannot run the
   notebook's own code, train, plot, or touch files: every call made while the value is computed is
   to a builtin or to something reached through an imported name (``np.zeros(3)``,
   ``keras.losses.BinaryCrossentropy(from_logits=True)``), never to a name the notebook defines or
   assigns (``build_generator(...)``, ``rng.normal(...)``, ``model.fit(...)``), no call is passed a
   function or class of the notebook, and no call is to plotting, training, input or file APIs
   (``plt.subplots``, ``.fit``, ``load_data``, ``open``, ...). Lambdas and the functions in a table
   (``ACTS = {"relu": lambda z: np.maximum(z, 0)}``) are kept: their bodies run only when called.
4. Everything else is left out: expression statements (``train(...)``, ``plt.plot(...)``), loops,
   ``if``/``with``/``try`` blocks, and assignments that break rule 3. A unit that then fails on a
   name left out (one bound inside a left-out loop or block too) is told which statement set it and why
   it was not run (``Notebook.skipped``).
"""

from __future__ import annotations

import ast
import builtins
import json
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024  # of cell source: outputs and attachments are dropped first
MAX_FILE_BYTES = 256 * 1024 * 1024  # of the file as uploaded, outputs included
MAX_CELLS = 5000
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_ASSIGNMENTS = (ast.Assign, ast.AnnAssign, ast.AugAssign)
_NEVER = (ast.Await, ast.Yield, ast.YieldFrom)
# modules whose calls draw or display, by their usual import names (a call through them is never run)
PLOTTING_MODULES = {"matplotlib", "plt", "pyplot", "seaborn", "sns", "plotly", "px", "go", "IPython", "display",
                    "tqdm", "pandas", "pd", "wandb", "tensorboard"}
# attribute or function names that train, evaluate, draw, show, save, load or download
ACTIONS = {"fit", "fit_generator", "train", "train_on_batch", "evaluate", "predict", "predict_on_batch",
           "train_step", "show", "savefig", "plot", "imshow", "scatter", "hist", "subplots", "subplot",
           "figure", "load_data", "load", "save", "save_weights", "load_weights", "load_model", "loadtxt",
           "savetxt", "genfromtxt", "read_csv", "urlopen", "get_file", "download", "run", "system", "popen",
           "sleep", "input", "display"}
ACTION_PREFIXES = ("load_", "save_", "read_", "write_", "download", "fetch_", "plot_", "show_", "train_", "fit_")
# builtins that print, read, run code or import: never called by a kept assignment
UNSAFE_BUILTINS = {"print", "input", "open", "exec", "eval", "compile", "__import__", "breakpoint", "help",
                   "exit", "quit", "globals", "locals", "vars", "setattr", "delattr"}


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
        skipped: ``{name: "cell 22, line 3 `generator = build_generator(...)`: it calls build_generator,
            ..."}`` for each name that only statements left out would set (the last such statement).
        assigned: ``{name: "cell 29, line 8 `epochs = ...`"}``: the kept assignment that last sets each name
            (it runs in the sandbox, where it may fail: it may read data that only a left-out loop made).
        uses: ``{function name: sorted names its body refers to}`` (the last definition), to know which
            units a unit calls.
    """

    path: Path
    cells: list = field(default_factory=list)
    defined: set = field(default_factory=set)
    metadata: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    assigned: dict = field(default_factory=dict)
    uses: dict = field(default_factory=dict)


@dataclass
class _Context:
    """What the whole notebook binds at top level, for judging what an assignment may call."""

    imported: set = field(default_factory=set)
    defined: set = field(default_factory=set)  # functions and classes
    assigned: set = field(default_factory=set)  # names bound by assignments, loops, with-statements


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
    document = _as_version_4(document)
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
    notebook = judge_cells([(f"cell {index}", _source(cell), isinstance(cell, dict) and cell.get("cell_type") == "code")
                            for index, cell in enumerate(raw_cells, start=1)], path)
    notebook.metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    return notebook


def judge_cells(cells, path: Path = Path("<kernel>")) -> Notebook:
    """What grading keeps of ``cells``, judged together: each assignment against the names that all
    the cells import, define and assign (rule 3), as ``read_notebook`` judges a notebook's cells.

    ``check()`` judges a kernel's input history with it, so its notes come from grading's own decision.

    Args:
        cells: ``(label, source, is code)`` in notebook order; a syntax error is a problem only in code.
        path: what the cells were read from.
    """
    notebook = Notebook(path=path)
    parsed, context = [], _Context()
    for label, source, code in cells:
        if not source.strip():
            continue
        tree, lines = _parse(source, label, notebook.problems if code else None)
        if tree is not None:
            parsed.append((label, tree, lines))
            _bind(tree, context)
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    notebook.uses[node.name] = sorted({child.id for child in ast.walk(node)
                                                       if isinstance(child, ast.Name)} - {node.name})
    for label, tree, lines in parsed:
        statements = _select(tree, lines, label, context, notebook.skipped, notebook.assigned)
        if statements:
            notebook.cells.append({"label": label, "statements": [[line, text] for line, text, _ in statements]})
            notebook.defined.update(name for _, _, name in statements if name)
    return notebook


def _as_version_4(document):
    """The notebook in format 4, where nbformat upgrades an older one (version 3 kept its cells in
    ``worksheets``). Lenient: any other document is kept as it is, for the checks of ``read_notebook``
    to judge, and nothing is validated against nbformat's schema (a notebook whose metadata is odd
    is still graded)."""
    version = document.get("nbformat") if isinstance(document, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or version >= 4:
        return document
    import nbformat

    try:
        return nbformat.convert(nbformat.from_dict(document), 4)
    except Exception:  # noqa: BLE001 - nbformat could not upgrade it: judged as it is
        return document


def kept_statements(source: str, label: str, problems: list | None = None,
                    skipped: dict | None = None) -> list[tuple[int, str, str | None]]:
    """The top-level statements of one cell worth keeping, as ``(first line, text, defined name)``.

    The cell is judged on its own (``read_notebook`` judges each cell against the whole notebook).

    Args:
        source: the cell's text; IPython magics and shell escapes are blanked first.
        label: the cell's name in messages.
        problems: where to report a syntax error (None: ignore it, as for a Markdown cell).
        skipped: where to record the names set only by statements left out, with the reason.
    """
    tree, lines = _parse(source, label, problems)
    if tree is None:
        return []
    context = _Context()
    _bind(tree, context)
    return _select(tree, lines, label, context, {} if skipped is None else skipped)


def _parse(source: str, label: str, problems: list | None):
    """``(module tree, lines)`` of a cell with magics blanked, or ``(None, [])``."""
    lines = [("" if line.lstrip().startswith(("%", "!")) else line) for line in source.split("\n")]
    if source.lstrip().startswith("%%"):
        return None, []
    try:
        return ast.parse("\n".join(lines)), lines
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        if problems is not None:
            where = f", line {error.lineno}" if getattr(error, "lineno", None) else ""
            problems.append(f"{label}{where}: {type(error).__name__}: {getattr(error, 'msg', error)}")
        return None, []


def _bind(tree: ast.Module, context: _Context) -> None:
    """Record the names a cell binds at top level (nested blocks included, function bodies not)."""
    for node in _top_level(tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                context.imported.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, _DEFINITIONS):
            context.defined.add(node.name)
        else:
            for target in _targets(node):
                context.assigned.update(_names(target))


def _top_level(body):
    """Statements of a cell, descending into blocks that run at top level (loops, if, with, try)."""
    for node in body:
        yield node
        if not isinstance(node, _DEFINITIONS):
            for name in ("body", "orelse", "finalbody"):
                yield from _top_level(getattr(node, name, []) or [])
            for handler in getattr(node, "handlers", []) or []:
                yield from _top_level(handler.body)


def _targets(node) -> list:
    if isinstance(node, ast.Assign):
        return node.targets
    if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        return [node.target]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [item.optional_vars for item in node.items if item.optional_vars is not None]
    return []


def _names(target) -> set:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_names(item) for item in target.elts)) if target.elts else set()
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return set()


def _select(tree, lines, label, context: _Context, skipped: dict,
            assigned: dict | None = None) -> list[tuple[int, str, str | None]]:
    kept, assigned = [], {} if assigned is None else assigned
    for node in tree.body:
        first = min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])])
        text = "\n".join(lines[first - 1:node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom, *_DEFINITIONS)):
            kept.append((first, text, node.name if isinstance(node, _DEFINITIONS) else None))
            for name in (node.name,) if isinstance(node, _DEFINITIONS) else ():
                skipped.pop(name, None)
            continue
        names = _bound(node)
        reason = why_not_run(node, context) if isinstance(node, _ASSIGNMENTS) else "it is not an assignment"
        if reason is None:
            uses = sorted({child.id for child in _evaluated(node) if isinstance(child, ast.Name)
                           and (isinstance(child.ctx, ast.Load) or isinstance(node, ast.AugAssign))
                           and child.id in skipped})
            if uses:
                reason = f"it uses {uses[0]}, which is set by a statement grading leaves out"
        shown = text.strip().splitlines()[0][:70] if text.strip() else ""
        if reason is None:
            kept.append((first, text, None))
            for name in names:
                skipped.pop(name, None)
                assigned[name] = f"{label}, line {first} `{shown}`"
            continue
        for name in names:
            skipped[name] = f"{label}, line {first} `{shown}`: {reason}"
    return kept


def _bound(node) -> set:
    """The names a top-level statement binds, in the blocks it runs too (a loop's body, a ``try``'s
    imports, a ``def`` under an ``if``): all of them are missing where grading leaves it out."""
    names = set()
    for statement in _top_level([node]):
        if isinstance(statement, _DEFINITIONS):
            names.add(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in statement.names)
        else:
            names.update(*(_names(target) for target in _targets(statement)))
    return names


def why_not_run(node, context: _Context) -> str | None:
    """Why grading leaves an assignment out (None: it is kept); see rule 3 in the module docstring."""
    if node.value is None:
        return "it assigns nothing"
    notebook_names = (context.defined | context.assigned) - context.imported
    for child in _evaluated(node):
        if isinstance(child, _NEVER):
            return "it awaits or yields"
        if isinstance(child, ast.NamedExpr):
            return "it assigns inside an expression"
        if not isinstance(child, ast.Call):
            continue
        root, last = _callee(child.func)
        if root is None:
            return "it calls the result of an expression"
        if root in notebook_names:
            kind = "a function of the notebook" if root in context.defined else "an object the notebook made"
            return f"it calls {_dotted(child.func)}, {kind} (grading never runs the notebook's own code at load)"
        if root in PLOTTING_MODULES or last in ACTIONS or root in ACTIONS or str(last).startswith(ACTION_PREFIXES):
            return f"it calls {_dotted(child.func)}, which trains, plots, displays or reads/writes files"
        if root in UNSAFE_BUILTINS and root not in context.imported:
            return f"it calls {root}, which prints, reads input or runs code"
        if root not in context.imported and not hasattr(builtins, root):
            return f"it calls {_dotted(child.func)}, which is neither imported nor a safe builtin"
        for argument in [*child.args, *(keyword.value for keyword in child.keywords)]:
            for name in (sub.id for sub in ast.walk(argument) if isinstance(sub, ast.Name)):
                if name in context.defined:
                    return f"it passes {name}, a function of the notebook, to {_dotted(child.func)}"
    return None


def _evaluated(node):
    """The expressions evaluated when the assignment runs: its value and targets, not lambda bodies."""
    roots = [node.value] + [target for target in _targets(node)]
    stack = list(roots)
    while stack:
        child = stack.pop()
        yield child
        if isinstance(child, ast.Lambda):
            stack.extend(child.args.defaults + [d for d in child.args.kw_defaults if d is not None])
            continue
        stack.extend(ast.iter_child_nodes(child))


def _callee(func) -> tuple[str | None, str | None]:
    """``np.random.default_rng`` -> ``("np", "default_rng")``; the root is None when it is not a name."""
    last = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else None)
    while isinstance(func, (ast.Attribute, ast.Call, ast.Subscript)):
        func = func.value if not isinstance(func, ast.Call) else func.func
    return (func.id, last) if isinstance(func, ast.Name) else (None, last)


def _dotted(func) -> str:
    try:
        return ast.unparse(func)[:60]
    except Exception:  # noqa: BLE001 - an odd expression: a generic name is enough
        return "a call"


def _source(cell) -> str:
    if not isinstance(cell, dict):
        return ""
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""
