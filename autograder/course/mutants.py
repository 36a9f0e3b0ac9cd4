"""Mutants of a unit: one small mistake at a time, made in the solution's own code.

Each operator changes one node of the unit's syntax tree (Python's ``ast``), in the places where a
student slips: an arithmetic or comparison operator swapped, a number nudged by one, a reduction over
another axis or without ``keepdims``, a transpose forgotten, a slice shifted by one, ``sum`` for
``mean``, an argument left out, a statement left out. The change is written back into the cell's own
text (only the changed node's span is replaced), so a mutant is a notebook a student could have sent,
and its diff against the solution is one line.

Why not mutmut or cosmic-ray: both mutate the files of a package and judge a mutant by the exit status
of a test runner run over it; here a unit is a function in a notebook cell and the judge is the grader's
sandbox, which reads notebooks. Their operators are generic (numbers, operators, keywords) and know
nothing of NumPy's axes, ``keepdims``, transposes or reductions, which is where this course's mistakes are.

The order is deterministic (source position, then the operator's rank in ``OPERATORS``); mutants with
the same syntax tree are kept once (the first); a mutant's id comes from what it changes (operator, the
text of its line, the node's text, its replacement and which occurrence of that change on that line it
is), never from its index or line number, so a list of equivalent mutants survives edits to other lines.
"""

from __future__ import annotations

import ast
import copy
import difflib
import hashlib
from dataclasses import dataclass

# operators in the order they are tried at one place (the first of two identical mutants is kept)
OPERATORS = ("transpose", "reduction", "axis", "keepdims", "slice", "compare", "arith", "constant", "argument",
             "delete")

ARITHMETIC = {ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,), ast.Div: (ast.Mult,),
              ast.FloorDiv: (ast.Div,), ast.Mod: (ast.FloorDiv,), ast.Pow: (ast.Mult,), ast.MatMult: (ast.Mult,)}
COMPARISON = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
              ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
REDUCTIONS = {"sum": "mean", "mean": "sum", "nansum": "nanmean", "nanmean": "nansum"}
TRANSPOSES = {"transpose", "swapaxes", "moveaxis"}
NUMPY = {"np", "numpy"}
# calls whose arguments only print or warn: mutating them changes no value a case sees
SILENT_CALLS = {"print", "warn", "log", "info", "debug"}
# expression fields where a replacement needs no parentheses (any expression is valid there)
_BARE = {(ast.keyword, "value"), (ast.Call, "args"), (ast.Subscript, "slice"), (ast.Slice, "lower"),
         (ast.Slice, "upper"), (ast.Slice, "step"), (ast.List, "elts"), (ast.Tuple, "elts"), (ast.Dict, "values")}
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"  # nbgrader's markers: what a student writes
PERFORMANCE_ONLY = {"copy"}  # keywords that change memory use, never a value: not mutated
OUTPUT_ONLY = {"verbose"}  # keywords that only choose what is printed (Keras's progress bars): not mutated either
UNMUTATED_KEYWORDS = PERFORMANCE_ONLY | OUTPUT_ONLY
_ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.List, ast.Dict, ast.Set, ast.Tuple)


@dataclass(frozen=True)
class Mutant:
    """One mutant of one function.

    Attributes:
        id: stable name, ``<operator>-<8 hex digits>`` of what it changes.
        unit: the function changed.
        operator: one of ``OPERATORS``, or ``extra`` (a mutant given by hand).
        cell: index of the changed cell among the notebook's cells (0-based).
        line: the changed line in that cell (1-based).
        change: one line: the solution's line and the mutant's (``a -> b``).
        original: the cell's source in the solution.
        source: the cell's source in the mutant.
    """

    id: str
    unit: str
    operator: str
    cell: int
    line: int
    change: str
    original: str
    source: str

    def diff(self) -> str:
        """Unified diff of the cell, solution -> mutant."""
        return "\n".join(difflib.unified_diff(self.original.split("\n"), self.source.split("\n"),
                                              f"cell {self.cell} (solution)", f"cell {self.cell} ({self.id})",
                                              n=2, lineterm=""))

    def notebook(self, document: dict) -> dict:
        """``document`` (the solution, as JSON) with this mutant's cell in place of the solution's."""
        mutated = copy.deepcopy(document)
        cell = mutated["cells"][self.cell]
        cell["source"] = self.source
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        return mutated


@dataclass(frozen=True)
class Definition:
    """Where a function is defined in a notebook: the last top-level definition, as when it runs."""

    name: str
    cell: int
    source: str
    node: ast.FunctionDef


def find_definitions(document: dict) -> dict[str, Definition]:
    """``{name: Definition}`` of every top-level function of the notebook's code cells (the last wins)."""
    found = {}
    for index, cell in enumerate(document.get("cells", [])):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        tree = _parse(source)
        for node in tree.body if tree else ():
            if isinstance(node, ast.FunctionDef):
                found[node.name] = Definition(node.name, index, source, node)
    return found


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def mutants_of(definition: Definition, cap: int | None = None,
               whole_function: bool = False) -> tuple[list[Mutant], int]:
    """The mutants of one function, in order, identical ones once; ``(mutants, how many before the cap)``.

    Args:
        definition: the function, from ``find_definitions``.
        cap: keep at most this many, spread evenly over the function (None: all).
        whole_function: mutate the code around the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers too
            (by default only what is between them, what a student writes, is mutated; a function without
            markers is mutated whole).
    """
    function = definition.node
    region = None if whole_function else solution_lines(definition)
    lines = definition.source.split("\n")
    made, seen, occurrences = [], {ast.dump(function)}, {}
    for position, operator, path, node, replacement in sorted(_sites(function), key=lambda site: site[0]):
        text = "pass" if replacement is None else ast.unparse(replacement)
        # the id: what changes, on which line (its text, not its number), and which occurrence of that change on
        # that line; counted over the whole function, so ids do not depend on whole_function
        key = (operator, " ".join(lines[node.lineno - 1].split()), _first_line(node), text)
        occurrences[key] = occurrences.get(key, 0) + 1
        if region is not None and not set(range(node.lineno, node.end_lineno + 1)) <= region:
            continue
        written = _write(definition, path, node, text)
        if written is None:
            continue
        source, intended = written
        dump = ast.dump(intended)
        if dump in seen:
            continue
        seen.add(dump)
        digest = hashlib.sha256("\0".join((definition.name, *key, str(occurrences[key]))).encode()).hexdigest()[:8]
        line = node.lineno
        made.append(Mutant(f"{operator}-{digest}", definition.name, operator, definition.cell, line,
                           _change(definition.source, source, line, operator), definition.source, source))
    total = len(made)
    if cap is not None and total > cap:
        made = [made[(index * total) // cap] for index in range(cap)]
    return made, total


def solution_lines(definition: Definition) -> set[int] | None:
    """The cell's line numbers between the function's solution markers (None: it has no markers)."""
    lines, inside, found, region = definition.source.split("\n"), False, False, set()
    for number in range(definition.node.lineno, definition.node.end_lineno + 1):
        text = lines[number - 1].strip()
        if text.startswith(BEGIN):
            inside = found = True
        elif text.startswith(END):
            inside = False
        elif inside:
            region.add(number)
    return region if found else None


def replacement_mutant(definition: Definition, function_source: str) -> Mutant:
    """A mutant given by hand: the function replaced by ``function_source`` (a ``def`` of the same name).

    Raises:
        ValueError: the text is not one function of that name.
    """
    tree = _parse(function_source)
    nodes = [node for node in (tree.body if tree else ()) if isinstance(node, ast.FunctionDef)]
    if len(nodes) != 1 or nodes[0].name != definition.name:
        raise ValueError(f"Expected one `def {definition.name}(...)`. Received {function_source[:60]!r}")
    lines = definition.source.split("\n")
    first = min([definition.node.lineno] + [d.lineno for d in definition.node.decorator_list])
    source = "\n".join(lines[:first - 1] + function_source.rstrip("\n").split("\n") + lines[definition.node.end_lineno:])
    digest = hashlib.sha256(ast.dump(nodes[0]).encode()).hexdigest()[:8]
    return Mutant(f"extra-{digest}", definition.name, "extra", definition.cell, first,
                  f"`def {definition.name}` replaced by hand", definition.source, source)


# ----------------------------------------------------------------------------- where each operator applies

def _sites(function: ast.FunctionDef):
    """``((line, column, rank, n), operator, path, node, replacement or None)`` for every mutation of the body."""
    count = 0
    for path, node, parent in _walk(function):
        for operator, replacement in _mutations(node, parent):
            count += 1
            yield (node.lineno, node.col_offset, OPERATORS.index(operator), count), operator, path, node, replacement


def _walk(function: ast.FunctionDef):
    """``(path, node, parent)`` for the nodes of the body (not decorators, defaults, docstrings, f-strings,
    nor what is only printed or logged)."""
    def visit(node, path, parent):
        if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Call) and _silent(node)):
            return
        if isinstance(node, (ast.expr, ast.stmt, ast.keyword)):
            yield path, node, parent
        for field, value in ast.iter_fields(node):
            if isinstance(node, ast.Lambda) and field == "args":
                continue
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                if isinstance(item, ast.AST):
                    yield from visit(item, path + ((field, index if isinstance(value, list) else None),), node)
    body = function.body[1:] if _is_docstring(function.body[0]) else function.body
    start = len(function.body) - len(body)
    for index, statement in enumerate(body, start=start):
        yield from visit(statement, (("body", index),), function)


def _mutations(node, parent):
    """``(operator, replacement or None)`` for one node; None deletes a statement."""
    yield from _array_mutations(node, parent)
    yield from _operator_mutations(node)
    yield from _number_mutations(node, parent)
    yield from _argument_mutations(node)
    if isinstance(node, ast.stmt) and not _inert(node):
        yield "delete", None


def _array_mutations(node, parent):
    """A transpose dropped, a reduction swapped (sum for mean), another axis, keepdims flipped, a slice shifted."""
    if isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.ctx, ast.Load):
        yield "transpose", node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        name, owner = node.func.attr, node.func.value
        if name in TRANSPOSES:
            if isinstance(owner, ast.Name) and owner.id in NUMPY:
                if node.args:
                    yield "transpose", node.args[0]
            else:
                yield "transpose", owner
        if name in REDUCTIONS:
            swapped = copy.deepcopy(node)
            swapped.func.attr = REDUCTIONS[name]
            yield "reduction", swapped
    if isinstance(node, ast.keyword) and node.arg == "axis":
        for value in _axis_changes(node.value):
            yield "axis", ast.keyword(arg="axis", value=value)
    if isinstance(node, ast.keyword) and node.arg == "keepdims" and isinstance(node.value, ast.Constant) \
            and isinstance(node.value.value, bool):
        yield "keepdims", ast.keyword(arg="keepdims", value=ast.Constant(not node.value.value))
    if isinstance(parent, ast.Slice) and node in (parent.lower, parent.upper):
        for step in (1, -1):
            yield "slice", _shifted(node, step)


def _operator_mutations(node):
    """A comparison swapped, a ``not`` dropped, an arithmetic operator swapped, a negation dropped."""
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            if type(op) in COMPARISON:
                changed = copy.deepcopy(node)
                changed.ops[index] = COMPARISON[type(op)]()
                yield "compare", changed
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "compare", node.operand
    if isinstance(node, ast.BinOp):
        for op in ARITHMETIC.get(type(node.op), ()):
            yield "arith", ast.BinOp(node.left, op(), node.right)
    if isinstance(node, ast.AugAssign):
        for op in ARITHMETIC.get(type(node.op), ()):
            yield "arith", ast.AugAssign(node.target, op(), node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _number(node) is None:
        yield "arith", node.operand


def _number_mutations(node, parent):
    """A number nudged by one either way (a negative one as a whole), a boolean flipped; not the value of an axis
    (``_axis_changes``) or of ``UNMUTATED_KEYWORDS``, nor -1 to -2 in a reshape."""
    negated = isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub)  # -1: nudged as a whole
    quiet = isinstance(parent, ast.keyword) and parent.arg in ({"axis"} | UNMUTATED_KEYWORDS)
    if _number(node) is not None and not negated and not quiet:
        value = _number(node)
        if isinstance(value, bool):
            yield "constant", ast.Constant(not value)
        else:
            for nudged in (value + 1, value - 1):
                if not (value == -1 and nudged == -2 and _is_reshape(parent)):  # NumPy reads any negative as -1
                    yield "constant", ast.Constant(nudged)


def _argument_mutations(node):
    """A call of two or more arguments with one of them left out (not one of ``UNMUTATED_KEYWORDS``)."""
    if isinstance(node, ast.Call) and len(node.args) + len(node.keywords) >= 2:
        for index in range(len(node.args)):
            dropped = copy.deepcopy(node)
            del dropped.args[index]
            yield "argument", dropped
        for index in range(len(node.keywords)):
            if node.keywords[index].arg in UNMUTATED_KEYWORDS:
                continue
            dropped = copy.deepcopy(node)
            del dropped.keywords[index]
            yield "argument", dropped


def _is_reshape(call) -> bool:
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "reshape"


def _axis_changes(value):
    """Other axes: an integer one more and one less; a tuple without each of its entries."""
    number = _number(value)
    if isinstance(number, int) and not isinstance(number, bool):
        return [ast.Constant(number + 1), ast.Constant(number - 1)]
    if isinstance(value, ast.Tuple) and len(value.elts) > 1:
        return [ast.Tuple([item for k, item in enumerate(value.elts) if k != index], ast.Load())
                for index in range(len(value.elts))]
    return []


def _shifted(bound, step: int):
    number = _number(bound)
    if isinstance(number, int) and not isinstance(number, bool):
        return ast.Constant(number + step)
    return ast.BinOp(bound, ast.Add() if step > 0 else ast.Sub(), ast.Constant(1))


def _number(node):
    """The value of a numeric literal (``3``, ``-1``, ``0.5``, ``True``), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return -node.operand.value
    return None


def _inert(statement) -> bool:
    """Statements whose deletion changes nothing a case can see (or nothing at all)."""
    if isinstance(statement, (ast.Pass, ast.Global, ast.Nonlocal)):
        return True
    return isinstance(statement, ast.Expr) and (isinstance(statement.value, ast.Constant) or (
        isinstance(statement.value, ast.Call) and _silent(statement.value)))


def _silent(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return name in SILENT_CALLS


def _is_docstring(statement) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


# ----------------------------------------------------------------------------- writing a mutant into its cell

def _write(definition: Definition, path, node, text: str):
    """``(cell source, the function's intended tree)`` with ``node`` replaced by ``text``; None if it cannot be
    written (the text is checked by parsing it back: the cell must hold exactly the intended function)."""
    if isinstance(node, ast.keyword):
        replacement = ast.parse(f"f({text})").body[0].value.keywords[0]
    elif isinstance(node, ast.expr):
        replacement = ast.parse(text, mode="eval").body
    else:
        replacement = ast.parse(text).body[0]
    intended = copy.deepcopy(definition.node)
    holder, field, index = _locate(intended, path)
    if index is None:
        setattr(holder, field, replacement)
    else:
        getattr(holder, field)[index] = replacement
    parent_holder, parent_field, _ = _locate(definition.node, path)
    bare = (isinstance(node, (ast.stmt, ast.keyword)) or isinstance(replacement, _ATOMS)
            or (isinstance(replacement, ast.Constant) and not (isinstance(replacement.value, (int, float))
                                                               and replacement.value < 0))
            or isinstance(parent_holder, ast.stmt) or (type(parent_holder), parent_field) in _BARE)
    lines = definition.source.split("\n")
    bare = bare or _enclosed(lines, node)
    candidates = [_splice(lines, node, text if bare else f"({text})")]
    first = min([definition.node.lineno] + [d.lineno for d in definition.node.decorator_list])
    candidates.append("\n".join(lines[:first - 1] + ast.unparse(intended).split("\n")
                                + lines[definition.node.end_lineno:]))
    for source in candidates:
        tree = _parse(source)
        written = [n for n in (tree.body if tree else ()) if isinstance(n, ast.FunctionDef) and n.name == definition.name]
        if written and ast.dump(written[-1]) == ast.dump(intended):
            return source, intended
    return None


def _locate(root, path):
    """The node holding the last step of ``path``, with the field and index of that step."""
    node = root
    for field, index in path[:-1]:
        node = getattr(node, field) if index is None else getattr(node, field)[index]
    field, index = path[-1]
    return node, field, index


def _splice(lines: list[str], node, text: str) -> str:
    """The lines with ``node``'s span (ast positions: lines 1-based, columns in UTF-8 bytes) replaced by ``text``."""
    head = lines[node.lineno - 1].encode()[:node.col_offset].decode(errors="replace")
    tail = lines[node.end_lineno - 1].encode()[node.end_col_offset:].decode(errors="replace")
    return "\n".join(lines[:node.lineno - 1] + [head + text + tail] + lines[node.end_lineno:])


def _enclosed(lines: list[str], node) -> bool:
    """Whether ``node``'s text is directly inside parentheses (``(out_h - 1)``): then it needs no more."""
    head = lines[node.lineno - 1].encode()[:node.col_offset].decode(errors="replace").rstrip()
    tail = lines[node.end_lineno - 1].encode()[node.end_col_offset:].decode(errors="replace").lstrip()
    return head.endswith("(") and tail.startswith(")")


def _parse(source: str):
    """The cell's tree, with IPython magics blanked as the grader blanks them (None if it does not parse)."""
    if source.lstrip().startswith("%%"):
        return None
    blanked = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))
    try:
        return ast.parse(blanked)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _first_line(node) -> str:
    text = ast.unparse(node)
    return text.split("\n")[0]


def _change(before: str, after: str, line: int, operator: str) -> str:
    """One line: ``<solution's line> -> <mutant's line>`` (or ``<line> deleted``)."""
    old, new = before.split("\n"), after.split("\n")
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += [text.strip() for text in old[i1:i2]]
            added += [text.strip() for text in new[j1:j2]]
    removed = removed or [old[line - 1].strip()]
    if operator == "delete" and added in ([], ["pass"]):
        return f"`{_shorten(' '.join(removed))}` deleted"
    before, after = " ".join(" ".join(removed).split()), " ".join(" ".join(added).split())
    start = next((k for k, (a, b) in enumerate(zip(before, after)) if a != b), min(len(before), len(after)))
    end = next((k for k, (a, b) in enumerate(zip(before[::-1], after[::-1])) if a != b or k >= min(
        len(before), len(after)) - start), 0)
    return f"`{_shorten(before, start, len(before) - end)}` -> `{_shorten(after, start, len(after) - end)}`"


def _shorten(text: str, start: int = 0, end: int = 0, width: int = 100) -> str:
    """``text`` in at most about ``width`` characters, keeping ``text[start:end]`` (what changed) in view."""
    if len(text) <= width:
        return text
    margin = max((width - (end - start)) // 2, 10)
    first, last = max(start - margin, 0), min(max(end, start) + margin, len(text))
    return ("..." if first else "") + text[first:last] + ("..." if last < len(text) else "")
