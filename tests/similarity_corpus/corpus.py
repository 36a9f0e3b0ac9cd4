"""The similarity test corpus: students' code as notebooks, and disguised copies made from it.

Layout: ``<assignment>/independent/<id>.py`` are independent implementations of the units (written
separately, in different styles: loops or vectorised, different helper splits and names);
``<assignment>/disguised/<id>_disguised.py`` are copies of ``<id>`` disguised by hand (names changed,
functions reordered, reformatted, comments changed, dead statements added);
``<assignment>/unit_copy/<id>.py`` is another student's own work except for one unit, copied
from an implementation and disguised by hand; its second line says which (``# copies <unit> from <id>``).
``disguise`` makes a disguised copy mechanically, for every implementation and for the benchmark's
synthetic class. ``relation`` says what a pair is expected to be.

A student's notebook is the released stub with the student's code appended, one cell per top-level
statement group (a later definition wins, as when the notebook runs).
"""

from __future__ import annotations

import ast
import builtins
import copy
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ASSIGNMENTS = ("01_backprop", "02_initialization", "03_optimization", "04_convolution", "05_pooling",
               "06_cnn_architectures", "07_rnn_bptt", "08_lstm", "09_gan")
_COPIES = re.compile(r"^# copies (\w+) from (\w+)\b", re.MULTILINE)


def stub_path(assignment: str) -> Path:
    return ROOT / "assignments" / f"{assignment}.ipynb"


def independent(assignment: str) -> dict[str, str]:
    """``{id: source}`` of the independent implementations."""
    return {path.stem: path.read_text() for path in sorted((HERE / assignment / "independent").glob("*.py"))}


def disguised(assignment: str) -> dict[str, str]:
    """``{id_disguised: source}`` of the copies disguised by hand."""
    return {path.stem: path.read_text() for path in sorted((HERE / assignment / "disguised").glob("*.py"))}


def unit_copies(assignment: str) -> dict[str, tuple[str, str, str]]:
    """``{id: (unit, id it copied the unit from, source)}`` of the students who copied one unit only."""
    found = {}
    for path in sorted((HERE / assignment / "unit_copy").glob("*.py")):
        text = path.read_text()
        unit, source = _COPIES.search(text).groups()
        found[path.stem] = (unit, source, text)
    return found


def corpus_class(assignment: str, units) -> dict[str, str]:
    """``{student: source}`` of the whole corpus of ``assignment``: the independent implementations, the
    hand-disguised copies, a mechanically disguised copy of each implementation (``<id>_auto``) and the
    one-unit copies. ``units``: the assignment's graded units (kept by ``disguise``)."""
    sources = {**independent(assignment), **disguised(assignment)}
    for number, (student, source) in enumerate(independent(assignment).items()):
        sources[f"{student}_auto"] = disguise(source, units, seed=number)
    sources.update({student: source for student, (_, _, source) in unit_copies(assignment).items()})
    return sources


def original(student: str) -> str:
    """The implementation a student's code derives from (``s01_disguised`` -> ``s01``)."""
    return student.split("_")[0]


def relation(a: str, b: str, copied: dict[str, tuple[str, str, str]]) -> str | None:
    """What the pair ``a``, ``b`` is: "copy" (one derives from the other), the unit that one of them copied
    from the other (``copied``: ``unit_copies``), or None (independent)."""
    first, second = original(a), original(b)
    if first == second:
        return "copy"
    for one, other in ((first, second), (second, first)):
        if one in copied and copied[one][1] == other:
            return copied[one][0]
    return None


def notebook(assignment: str, source: str) -> dict:
    """The stub of ``assignment`` with ``source`` appended as code cells (one per top-level statement)."""
    document = json.loads(stub_path(assignment).read_text())
    lines = source.splitlines()
    tree = ast.parse(source)
    starts = [min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) for node in tree.body]
    for index, node in enumerate(tree.body):
        first = starts[index]
        while first > 1 and lines[first - 2].startswith("#") and (index == 0 or first - 1 > tree.body[index - 1].end_lineno):
            first -= 1  # the comments just above a definition belong to its cell
        text = "\n".join(lines[first - 1:node.end_lineno])
        document["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                  "source": text})
    return document


def write_class(folder: Path, assignment: str, sources: dict[str, str]) -> Path:
    """``folder/<student>/<assignment>.ipynb`` for each ``{student: source}``; returns ``folder``."""
    for student, source in sources.items():
        path = folder / student / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(notebook(assignment, source)))
    return folder


def disguise(source: str, units, seed: int) -> str:
    """A copy of ``source`` a student might hand in as theirs: every local name, parameter and helper renamed,
    the functions shuffled, the code reformatted (``ast.unparse``), its comments and docstrings replaced and
    dead statements added to each function (an unused assignment, an ``if False:`` block)."""
    rng = random.Random(seed)
    tree = ast.parse(source)
    keep = set(units) | set(dir(builtins)) | _imported(tree)
    names = sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
                   | {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
                   | {node.name for node in tree.body if isinstance(node, ast.FunctionDef)})
    words = ["val", "tmp", "arr", "q", "z", "res", "acc", "item", "buf", "mat", "data", "thing", "elem", "part"]
    renamed = {name: f"{rng.choice(words)}_{number}" for number, name in enumerate(n for n in names if n not in keep)}
    tree = _Rename(renamed).visit(copy.deepcopy(tree))
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    functions = [node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))]
    rng.shuffle(functions)
    parts = [ast.unparse(node) for node in imports]
    for number, function in enumerate(functions):
        if isinstance(function, ast.FunctionDef):
            body = [statement for statement in function.body
                    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))]
            dead = ast.parse(f"unused_{number} = {rng.randint(0, 99)}\nif False:\n    print('debug {number}')").body
            at = rng.randint(0, max(len(body) - 1, 0))
            function.body = body[:at] + dead + body[at:]
            function.body.insert(0, ast.Expr(ast.Constant(f"Step {number} of my solution.")))
        parts.append(f"# part {number}, written by me\n{ast.unparse(function)}")
    return "\n\n\n".join(parts) + "\n"


def _imported(tree) -> set[str]:
    return {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}


class _Rename(ast.NodeTransformer):
    def __init__(self, renamed: dict[str, str]):
        self.renamed = renamed

    def visit_Name(self, node):
        node.id = self.renamed.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.renamed.get(node.arg, node.arg)
        return node

    def visit_FunctionDef(self, node):
        node.name = self.renamed.get(node.name, node.name)
        self.generic_visit(node)
        return node
