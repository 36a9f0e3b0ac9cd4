"""Token fingerprints of a piece of Python: what survives renaming, reformatting, comments and dead code.

The text is read, never run. Python's own ``tokenize`` splits it; ``ast`` says which statements carry
nothing (docstrings, ``pass``, a bare constant, an ``if False:`` block, a statement after ``return``,
an assignment to a name the function never reads), and their tokens are dropped. Each kept token is
normalised: a keyword, an operator, a builtin (``len``, ``range``), an attribute (``.maximum``) and a
number stay as they are; numpy's alias is ``np`` whatever the student called it; every other name
(variables, parameters, helper functions) becomes ``V`` and every string ``S``. Statement breaks
(a newline or ``;``) are one token; indentation and blank lines are none, and neither are the optional
parentheses around a tuple that is returned, assigned or looped over (``return (a, b)`` reads as
``return a, b``, as ``ast.unparse`` and formatters write either).

Winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003) then keeps, of the hashes of every run of
``k`` consecutive tokens, the smallest in each window of ``window`` consecutive runs: any match of at
least ``k + window - 1`` tokens shares a fingerprint, and no match shorter than ``k`` does.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import tokenize
import zlib
from dataclasses import dataclass, field

K = 10  # tokens per hashed run: shorter matches (`x = np.zeros(n)`) are noise
WINDOW = 4  # a match of K + WINDOW - 1 = 13 tokens or more always shares a fingerprint
NUMPY = frozenset({"numpy"})
_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}
_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))


@dataclass(frozen=True)
class Token:
    """One kept token: its normalised text and where it is in the source (character offsets)."""

    text: str
    start: int
    end: int


@dataclass
class Prints:
    """The fingerprints of one text.

    Attributes:
        source: the text, as read.
        tokens: the kept tokens, normalised, in order.
        hashes: ``{hash: [index of the first token of each run with it]}``; a run is ``k`` tokens.
        k: tokens per run.
    """

    source: str
    tokens: list[Token] = field(default_factory=list)
    hashes: dict[int, list[int]] = field(default_factory=dict)
    k: int = K

    def spans(self, chosen) -> list[tuple[int, int]]:
        """The character ranges of the source covered by the runs whose hash is in ``chosen``, merged."""
        ranges = sorted((self.tokens[i].start, self.tokens[min(i + self.k, len(self.tokens)) - 1].end)
                        for value in chosen for i in self.hashes.get(value, ()))
        merged: list[tuple[int, int]] = []
        for start, end in ranges:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged


def fingerprint(source: str, numpy_names=frozenset({"np"}), k: int = K, window: int = WINDOW) -> Prints:
    """The winnowed fingerprints of ``source``; text that does not tokenise or parse gets none.

    Args:
        source: Python code (a notebook cell, a function's definition).
        numpy_names: the names numpy is imported as in the notebook (all read as ``np``).
        k: tokens per hashed run.
        window: runs per winnowing window.
    """
    if k < 1 or window < 1:
        raise ValueError(f"Expected k >= 1 and window >= 1. Received k={k}, window={window}.")
    prints = Prints(source=source, k=k)
    prints.tokens = normalised_tokens(source, numpy_names)
    prints.hashes = winnow([_token_id(token.text) for token in prints.tokens], k, window)
    return prints


def normalised_tokens(source: str, numpy_names=frozenset({"np"})) -> list[Token]:
    """The kept tokens of ``source``, normalised (see the module docstring); [] if it does not parse."""
    try:
        tree = ast.parse(source)
        raw = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (SyntaxError, ValueError, RecursionError, MemoryError, tokenize.TokenError):
        return []
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    dead = sorted(_span(node, lines, starts) for node in _dead_statements(tree))
    optional = _optional_parentheses(tree, source, lines, starts)

    def offset(row, col):
        return starts[row - 1] + col if row - 1 < len(starts) else starts[-1]

    kept, previous, cut = [], None, 0
    for item in raw:
        if item.type in _SKIPPED:
            continue
        start, end = offset(*item.start), offset(*item.end)
        while cut < len(dead) and dead[cut][1] <= start:
            cut += 1
        if cut < len(dead) and dead[cut][0] <= start < dead[cut][1]:
            continue
        if item.type == tokenize.OP and start in optional:
            continue
        text = _normal(item, previous, numpy_names)
        if text == ";" and (not kept or kept[-1].text == ";"):
            continue
        kept.append(Token(text, start, end))
        previous = item
    return kept


def winnow(ids: list[int], k: int = K, window: int = WINDOW) -> dict[int, list[int]]:
    """``{hash: [first token of each chosen run]}``: the smallest run hash of each window, rightmost on ties.

    A text shorter than ``k`` tokens is one run; an empty one has no fingerprint.
    """
    if not ids:
        return {}
    runs = [hash(tuple(ids[i:i + k])) for i in range(max(len(ids) - k + 1, 1))]
    chosen: dict[int, list[int]] = {}
    last = -1
    for first in range(max(len(runs) - window + 1, 1)):
        block = runs[first:first + window]
        smallest = min(block)
        position = first + max(i for i, value in enumerate(block) if value == smallest)
        if position != last:
            chosen.setdefault(smallest, []).append(position)
            last = position
    return chosen


def _normal(item, previous, numpy_names) -> str:
    if item.type == tokenize.NAME:
        name = item.string
        if keyword.iskeyword(name) or (previous is not None and previous.string == "."):
            return name
        if name in numpy_names:
            return "np"
        return name if name in _BUILTINS else "V"
    if item.type == tokenize.STRING or item.type == getattr(tokenize, "FSTRING_START", -1):
        return "S"
    if item.type == tokenize.NEWLINE:
        return ";"
    return item.string.lower() if item.type == tokenize.NUMBER else item.string


def _token_id(text: str) -> int:
    return zlib.crc32(text.encode())  # the same on every run (str hashes are salted per process)


def _dead_statements(tree):
    """Statements that carry nothing: docstrings, ``pass``, bare constants, ``if False:``/``while False:``
    blocks, what follows ``return``/``raise``/``break``/``continue`` in a block, and assignments to names
    that the enclosing function never reads."""
    stack = [(tree, None)]
    while stack:
        node, reads = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            reads = _reads(node)
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            body = getattr(node, name, None)
            if not isinstance(body, list):
                continue
            ended = False
            for statement in body:
                if ended or _carries_nothing(statement, reads):
                    yield statement
                else:
                    stack.append((statement, reads))
                ended = ended or isinstance(statement, (ast.Return, ast.Raise, ast.Break, ast.Continue))


def _carries_nothing(statement, reads) -> bool:
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return True  # docstrings, `...`, a string used as a comment
    if isinstance(statement, (ast.If, ast.While)) and isinstance(statement.test, ast.Constant) \
            and not statement.test.value and not statement.orelse:
        return True
    if reads is not None and isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        names = [_stored_names(target) for target in targets]
        return all(found is not None for found in names) and not any(reads & set(found) for found in names)
    return False


def _stored_names(target) -> list[str] | None:
    """The plain names an assignment target binds; None if it stores into an item or attribute."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return _stored_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        names = [_stored_names(item) for item in target.elts]
        return None if any(found is None for found in names) else [name for found in names for name in found]
    return None


def _reads(function) -> set[str]:
    """Every name the function reads (nested functions included: a closure reads its parent's names)."""
    return {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store)}


def _optional_parentheses(tree, source, lines, starts) -> set[int]:
    """Offsets of the parentheses around each tuple that is a whole return value, assignment side or loop
    target (``return (a, b)``, ``x, y = (y, x)``, ``for (i, v) in ...``): they change nothing. Only statements
    are visited (a walk of every expression would cost more than the rest of the tokenising)."""
    found, stack = set(), [tree]
    while stack:
        node = stack.pop()
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            body = getattr(node, name, None)
            if isinstance(body, list):
                stack.extend(body)
        if isinstance(node, (ast.Return, ast.Assign, ast.AugAssign, ast.AnnAssign)):
            candidates = [node.value, *getattr(node, "targets", [])]
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            candidates = [node.target, node.iter]
        else:
            continue
        for candidate in candidates:
            if isinstance(candidate, ast.Tuple) and candidate.elts:
                start, end = _span(candidate, lines, starts)
                if source[start:start + 1] == "(" and source[end - 1:end] == ")":
                    found.update((start, end - 1))
    return found


def _span(node, lines, starts) -> tuple[int, int]:
    """The character range of a statement (``ast`` counts columns in UTF-8 bytes)."""
    def char(row, col):
        line = lines[row - 1] if row - 1 < len(lines) else ""
        return starts[row - 1] + len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    start_col = node.col_offset if first == node.lineno else 0
    return char(first, start_col), char(node.end_lineno, node.end_col_offset)
