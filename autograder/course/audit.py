"""``dlcourse audit``: how strong an assignment's cases are, measured with mutants of its solution.

The pipeline: read the solution notebook -> make the mutants of each unit (``mutants.py``) -> grade each
mutant notebook as a submission is graded (the real ``Grader``: the sandbox, public and hidden cases, the
course's secret, each case's own time limit), in parallel processes -> compare every case's points with
the solution's -> write ``report.md`` (per unit; the survivors as diffs) and ``mutants.csv``.

A mutant is **killed** when a case loses points that the solution earns; **timed out** when a case it
lost was stopped by the grader's time limit (a student's hang is stopped the same way); it **survived**
when it earns every point the solution earns. A mutant listed in the assignment's file of equivalent
mutants (``autograder/cases/equivalent_mutants/NN_name.txt``) that survives is **equivalent**: its
change cannot be seen by any input (one a line: ``unit mutant-id reason``); listed but killed, it is
counted as killed and the report says the entry is wrong.

Which cases a mutant is graded on: first its unit's own cases; a mutant that loses none of them is then
graded on the cases of the other units that run its unit (its forward unit, the units that call it: the
grader's own ``CaseRunner.depends_on`` on the solution), and killed there, the report says so ("only by
cases of other units"). No other case can change, since no other case runs the changed function.
Losses that a loaded machine could cause are confirmed by a second grading, so that load does not kill a
mutant: a loss of a ``fresh`` case (timed or training, drawn anew at each grading) that its time limit stopped,
or whose judgement reads a clock or a training run (every fresh case but a model built and run on given weights,
``UNTIMED_DRIVERS``). A case the code raised in, or a built model with the wrong layers or logits, is lost the
same way on any machine.

What it costs, and what is cut (none of it changes a verdict):
- Mutants of a unit whose cases need no Keras (no Keras driver, and neither the unit nor what it calls refers to
  a name the notebook imports from outside NumPy and the standard library) are graded in the NumPy sandbox, as
  a NumPy assignment's are: a worker that imports TensorFlow costs seconds per mutant. It is done only where the
  solution earns the same points there on every case the unit is graded on (else the report says why not).
- Keyword arguments that only choose what is printed (``verbose``) are not mutated (``mutants.py``).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from dlcourse.autograder.course.batch import die_with_parent
from dlcourse.autograder.course.export import neutralise
from dlcourse.autograder.course.mutants import Definition, Mutant, find_definitions, mutants_of, replacement_mutant
from dlcourse.autograder.engine.case import Assignment, KerasModel

MAX_PER_UNIT = 400  # mutants kept per unit (spread evenly over the function when there are more)
# drivers whose verdict reads no clock: a model built by the unit, set to given weights and run on given inputs
UNTIMED_DRIVERS = (KerasModel,)
# statuses of a lost case that no load can cause: the code raised, or gave no function
DETERMINISTIC_LOSSES = frozenset({"error", "missing", "not implemented"})
STATUSES = ("killed", "timed out", "equivalent", "survived", "error")
KNOWN_MISTAKE = "This matches a known mistake: "  # how compare.judge names a recognised mistake


def equivalents_file(assignment: str) -> Path:
    """The shipped list of ``assignment``'s equivalent mutants, kept with the cases."""
    from dlcourse.autograder import cases

    return Path(cases.__file__).parent / "equivalent_mutants" / f"{assignment}.txt"


def read_equivalents(path: Path) -> dict[tuple[str, str], str]:
    """``{(unit, mutant id): reason}`` from a file of lines ``unit mutant-id reason`` (``#`` comments).

    Raises:
        ValueError: a line without a reason.
    """
    marked = {}
    if not path.is_file():
        return marked
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise ValueError(f"Expected `unit mutant-id reason` on each line of {path}. Received line {number}: "
                             f"{line!r}")
        marked[(parts[0], parts[1])] = parts[2]
    return marked


@dataclass
class Outcome:
    """What grading did to one mutant.

    Attributes:
        status: one of ``STATUSES``.
        killed_by: the ids of the cases it lost, in case order.
        named: the known mistakes that the losing cases' messages named.
        cases: how many cases it was graded on.
        seconds: its grading's wall time (both gradings when it was graded twice).
        note: anything else (an equivalence mark that a case contradicts, a second grading, an error).
    """

    mutant: Mutant
    status: str
    killed_by: tuple[str, ...] = ()
    named: tuple[str, ...] = ()
    cases: int = 0
    seconds: float = 0.0
    note: str = ""


@dataclass
class Audit:
    """An audit of one assignment: its mutants' outcomes and what the solution itself scored."""

    assignment: Assignment
    solution: Path
    units: tuple[str, ...]
    outcomes: list[Outcome] = field(default_factory=list)
    made: dict = field(default_factory=dict)  # unit -> (mutants graded, mutants made before the cap)
    cases: dict = field(default_factory=dict)  # function -> ids of the cases its mutants are graded on
    baseline: dict = field(default_factory=dict)  # case id -> points the solution earns
    notes: list[str] = field(default_factory=list)
    equivalents: Path | None = None
    marked: dict = field(default_factory=dict)
    seconds: float = 0.0
    light: tuple = ()  # units of a Keras assignment whose mutants are graded in the NumPy sandbox

    def counts(self, unit: str | None = None) -> dict[str, int]:
        found = {status: 0 for status in STATUSES}
        for outcome in self.outcomes:
            if unit is None or outcome.mutant.unit == unit:
                found[outcome.status] += 1
        return found

    def score(self, unit: str | None = None) -> float | None:
        """Killed (timed out included) / mutants not marked equivalent; None when there are none."""
        counts = self.counts(unit)
        judged = sum(counts.values()) - counts["equivalent"] - counts["error"]
        return (counts["killed"] + counts["timed out"]) / judged if judged else None

    def line(self) -> str:
        counts = self.counts()
        return (f"audit {self.assignment.name}: {len(self.outcomes)} mutants, {counts['killed']} killed, "
                f"{counts['equivalent']} marked equivalent, {counts['survived']} survived, "
                f"{counts['timed out']} timed out")

    def stale(self) -> list[tuple[str, str, str]]:
        """Entries of the equivalents file that name no mutant made now (of the audited units)."""
        made = {(outcome.mutant.unit, outcome.mutant.id) for outcome in self.outcomes}
        return [(unit, mutant, reason) for (unit, mutant), reason in self.marked.items()
                if unit in self.units and (unit, mutant) not in made]


def audit(assignment: Assignment, solution: Path, secret: str, cache: Path, units: tuple[str, ...] = (),
          workers: int = 1, max_per_unit: int = MAX_PER_UNIT, equivalents: Path | None = None,
          extra: Path | None = None, isolation: str | None = None, max_timeout: float | None = None,
          whole_function: bool = False, progress=None) -> Audit:
    """Grade every mutant of ``units`` (default: all) of ``assignment``'s solution notebook.

    Args:
        solution: the solution notebook (``solutions/NN_name.ipynb``).
        secret: the course's secret (hidden cases are drawn from it, as in grading).
        cache: the reference cache folder.
        workers: grading processes.
        max_per_unit: at most this many mutants of a unit.
        equivalents: the file of equivalent mutants (default: ``equivalents_file``).
        extra: a Python file of hand-written versions of units (``def <unit>(...)``), each graded as one more
            mutant (operator ``extra``): a student's mistake seen in the wild, to check that a case catches it.
        isolation: the sandbox's isolation level (default: as grading resolves it).
        max_timeout: caps every case's time limit (default: each case's own).
        whole_function: mutate the code around the solution markers too (the scaffold students are given).
        progress: ``advance(n)``, called as mutants finish.

    Raises:
        ValueError: an unknown unit, a solution without a unit, a malformed equivalents or extra file, or a
            solution that the grader cannot grade.
    """
    started = time.perf_counter()
    units = _checked_units(assignment, units, workers, max_per_unit)
    document, notebook, definitions = _read_solution(solution, units)
    equivalents = equivalents or equivalents_file(assignment.name)
    result = Audit(assignment, solution, units, equivalents=equivalents, marked=read_equivalents(equivalents))
    mutants = _make_mutants(result, definitions, max_per_unit, whole_function, extra)
    own, others = _graded_on(assignment, notebook, secret, units)
    result.cases = {unit: [assignment.cases[index].id for index in own[unit] + others[unit]] for unit in units}
    everything = tuple(sorted(set().union(*own.values(), *others.values())))
    settings = (secret, str(cache), isolation, max_timeout)
    with _Graders(workers, settings) as graders:
        _grade_solution(graders, result, document, everything)
        graded_on = {unit: own[unit] + others[unit] for unit in units}
        light = _numpy_only(assignment, notebook, definitions, units, graded_on)
        result.light = _keep_light(graders, result, document, light, graded_on)
        outcomes = _grade_mutants(_Stage(graders, assignment, document, result, progress), mutants, own, others)
    order = {mutant.id: index for index, mutant in enumerate(mutants)}
    result.outcomes = sorted(outcomes.values(), key=lambda outcome: order[outcome.mutant.id])
    result.seconds = time.perf_counter() - started
    return result


def _checked_units(assignment: Assignment, units: tuple[str, ...], workers: int, max_per_unit: int) -> tuple[str, ...]:
    """The units to audit (default: all of the assignment's).

    Raises:
        ValueError: an unknown unit, fewer than one worker or one mutant per unit.
    """
    unknown = [unit for unit in units if unit not in assignment.units]
    if unknown:
        raise ValueError(f"Expected units of {assignment.name} ({', '.join(assignment.units)}). "
                         f"Received {', '.join(unknown)}.")
    if workers < 1:
        raise ValueError(f"Expected workers >= 1. Received workers={workers}.")
    if max_per_unit < 1:
        raise ValueError(f"Expected max_per_unit >= 1. Received max_per_unit={max_per_unit}.")
    return tuple(units) or assignment.units


def _read_solution(solution: Path, units: tuple[str, ...]) -> tuple[dict, object, dict[str, Definition]]:
    """The solution notebook as JSON, as the grader reads it, and its definitions of functions.

    Raises:
        ValueError: the notebook cannot be read, or does not define one of ``units``.
    """
    from dlcourse.autograder.engine.extract import NotebookError, read_notebook

    try:
        document = json.loads(solution.read_text(encoding="utf-8"))
        notebook = read_notebook(solution)
    except (OSError, ValueError, NotebookError) as error:
        raise ValueError(f"Expected the solution notebook. Received {solution} ({error})") from None
    definitions = find_definitions(document)
    missing = [unit for unit in units if unit not in definitions]
    if missing:
        raise ValueError(f"Expected {solution.name} to define {', '.join(missing)}. Received no such function.")
    return document, notebook, definitions


def _make_mutants(result: Audit, definitions: dict[str, Definition], max_per_unit: int, whole_function: bool,
                  extra: Path | None) -> list[Mutant]:
    """The mutants of each audited unit, then those of ``extra``; ``result.made`` counts them per unit."""
    mutants = []
    for unit in result.units:
        made, total = mutants_of(definitions[unit], max_per_unit, whole_function)
        mutants += made
        result.made[unit] = (len(made), total)
    for mutant in _extra_mutants(extra, definitions, result.units):
        mutants.append(mutant)
        kept, total = result.made[mutant.unit]
        result.made[mutant.unit] = (kept + 1, total + 1)
    return mutants


def _graded_on(assignment: Assignment, notebook, secret: str, units: tuple[str, ...]) -> tuple[dict, dict]:
    """Per unit, the indices of its own cases, and those of the other units' cases that run it."""
    needs = _cases_run(assignment, notebook, secret)
    own = {unit: tuple(index for index, case in enumerate(assignment.cases) if case.unit == unit) for unit in units}
    others = {unit: tuple(index for index, names in enumerate(needs) if unit in names and index not in own[unit])
              for unit in units}
    return own, others


def _grade_solution(graders: _Graders, result: Audit, document: dict, indices: tuple[int, ...]) -> None:
    """Grade the solution on the cases at ``indices`` into ``result.baseline``; a case it loses is noted.

    Raises:
        ValueError: the solution cannot be graded.
    """
    baseline = graders.grade(result.assignment.name, indices, json.dumps(document).encode())
    if baseline["error"] or not baseline["cases"]:
        raise ValueError(f"Expected the solution to be gradable. Received: {baseline['error'] or 'no case ran'}")
    result.baseline = {case["id"]: case["points"] for case in baseline["cases"]}
    for case in baseline["cases"]:
        if case["points"] < case["max"]:
            result.notes.append(f"the solution itself loses case '{case['id']}' ({case['status']}): no mutant "
                                "can lose it")


def _keep_light(graders: _Graders, result: Audit, document: dict, light: set[str], graded_on: dict) -> tuple:
    """The units of ``light`` on whose cases the solution graded in the NumPy sandbox earns what it earns with
    Keras (in audit order); each unit left out is noted with a case that differs."""
    assignment = result.assignment
    if light:
        indices = tuple(sorted(set().union(*(graded_on[unit] for unit in light))))
        again = graders.grade(assignment.name, indices, json.dumps(document).encode(), True)
        same = {case["id"]: case["points"] for case in again["cases"]} if not again["error"] else {}
        for unit in sorted(light):
            differ = [assignment.cases[index].id for index in graded_on[unit]
                      if same.get(assignment.cases[index].id) != result.baseline.get(assignment.cases[index].id)]
            if differ:
                light.discard(unit)
                result.notes.append(f"{unit} is graded with Keras: without it the solution scores otherwise on "
                                    f"'{differ[0]}'")
    return tuple(unit for unit in result.units if unit in light)


def _grade_mutants(stage: _Stage, mutants: list[Mutant], own: dict, others: dict) -> dict[str, Outcome]:
    """``{mutant id: Outcome}``: each mutant graded on its unit's own cases (else on the other units' cases that
    run it); one that survives its own is graded again on the other units' cases, and killed there, says so."""
    outcomes = stage.run({mutant.id: (mutant, own[mutant.unit] or others[mutant.unit]) for mutant in mutants})
    later = {key: (outcome.mutant, others[outcome.mutant.unit]) for key, outcome in outcomes.items()
             if outcome.status in ("survived", "equivalent") and own[outcome.mutant.unit] and others[outcome.mutant.unit]}
    for key, outcome in stage.run(later).items():
        outcome.cases += outcomes[key].cases
        outcome.seconds += outcomes[key].seconds
        if outcome.status in ("killed", "timed out"):
            outcome.note = "; ".join(filter(None, ["only by cases of other units that run it", outcome.note]))
        outcomes[key] = outcome
    return outcomes


@dataclass
class _Stage:
    """Grades mutants on chosen cases, and grades again those that lost ``fresh`` cases only."""

    graders: "_Graders"
    assignment: Assignment
    document: dict
    result: Audit
    progress: object

    def run(self, jobs: dict) -> dict[str, Outcome]:
        """``{key: Outcome}`` for ``{key: (mutant, case indices)}``."""
        tasks = {key: self._task(mutant, indices) for key, (mutant, indices) in jobs.items()}
        outcomes, confirm = {}, {}
        for key, reply in self.graders.grade_all(tasks, self.progress).items():
            outcomes[key] = self._outcome(jobs[key][0], reply)
            if outcomes[key].status == "killed" and _load_could_explain(self.assignment, reply, self.result.baseline):
                confirm[key] = tasks[key]
        for key, reply in self.graders.grade_all(confirm, None).items():
            first, second = outcomes[key], self._outcome(jobs[key][0], reply)
            second.seconds += first.seconds
            if second.status in ("survived", "equivalent"):
                second.note = "; ".join(filter(None, [second.note, f"lost {'; '.join(first.killed_by)} once (fresh "
                                                      "cases only), not when graded again: counted as surviving"]))
            else:
                second.note = "; ".join(filter(None, [second.note, "lost fresh cases only: confirmed by a second "
                                                                   "grading"]))
            outcomes[key] = second
        return outcomes

    def _task(self, mutant: Mutant, indices: tuple[int, ...]) -> tuple:
        return (self.assignment.name, indices, json.dumps(mutant.notebook(self.document)).encode(),
                mutant.unit in self.result.light)

    def _outcome(self, mutant: Mutant, reply: dict) -> Outcome:
        return _outcome(mutant, reply, self.result.baseline, self.result.marked)


def _extra_mutants(extra: Path | None, definitions: dict[str, Definition], units: tuple[str, ...]) -> list[Mutant]:
    """One mutant per ``def <unit>`` of ``extra`` (units not audited now are left out)."""
    import ast

    if extra is None:
        return []
    try:
        text = extra.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"Expected a Python file of unit definitions. Received {extra} ({error})") from None
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        if node.name not in definitions:
            raise ValueError(f"Expected definitions of units in {extra}. Received `def {node.name}`, which the "
                             "solution does not define.")
        if node.name in units:
            found.append(replacement_mutant(definitions[node.name], ast.get_source_segment(text, node, padded=True)))
    return found


def _cases_run(assignment: Assignment, notebook, secret: str) -> list[set[str]]:
    """For each case, the notebook's functions it runs: its unit, its forward unit or builders, and what
    those call (``CaseRunner.depends_on``, as the grader reads the solution)."""
    from dlcourse.autograder.engine.runner import CaseRunner

    runner = CaseRunner(run=None, expected=None, uses=notebook.uses)
    names = tuple(notebook.uses)
    found = []
    for case in assignment.cases:
        request = case.request(case.make_inputs(secret if case.hidden else None))
        found.append({case.unit, *runner.depends_on(case, request, names)})
    return found


def _load_could_explain(assignment: Assignment, reply: dict, baseline: dict) -> bool:
    """Whether every case the mutant lost could have been lost to a loaded machine: a ``fresh`` case (timed or
    training) stopped by its time limit or whose worker died, or lost by a judgement that reads a clock or a
    training run (any fresh case but one of ``UNTIMED_DRIVERS``), and not because the code raised
    (``DETERMINISTIC_LOSSES`` with a reply from the worker)."""
    by_id = {case.id: case for case in assignment.cases}
    lost = [case for case in reply["cases"] if case["points"] < baseline.get(case["id"], 0.0) - 1e-9]
    for item in lost:
        case = by_id.get(item["id"])
        if case is None or not case.fresh:
            return False
        if item["status"] == "timeout" or item.get("failure"):  # stopped, or its worker died (a CPU limit, say)
            continue
        if item["status"] in DETERMINISTIC_LOSSES or isinstance(case.driver, UNTIMED_DRIVERS):
            return False
    return bool(lost)


def _numpy_only(assignment: Assignment, notebook, definitions: dict, units: tuple[str, ...],
                graded_on: dict) -> set[str]:
    """The units (of a Keras assignment) whose mutants need no Keras: none of the cases they are graded on uses a
    Keras driver, and neither the unit nor a function it calls (through helpers too) imports anything from outside
    NumPy and the standard library, nor refers to a name that the notebook imports from there or sets from one."""
    import ast

    from dlcourse.autograder.engine.sandboxed import drivers

    if not assignment.frameworks:
        return set()
    keras_drivers = {name for name, module in drivers.available().items()
                     if module.__name__.startswith(drivers.KERAS_PACKAGE)}
    heavy = _imported_from_frameworks(notebook)
    found = set()
    for unit in units:
        if any(assignment.cases[index].driver.name in keras_drivers for index in graded_on[unit]):
            continue
        seen, frontier = set(), [unit]
        while frontier:
            name = frontier.pop()
            if name not in seen:
                seen.add(name)
                frontier += [used for used in notebook.uses.get(name, ()) if used in notebook.uses]
        referred = set().union(*(notebook.uses.get(name, ()) for name in seen))
        imports = [node for name in seen if name in definitions for node in ast.walk(definitions[name].node)
                   if isinstance(node, (ast.Import, ast.ImportFrom))]
        if unit in notebook.uses and not referred & heavy and not any(_imports_heavy(node) for node in imports):
            found.add(unit)
    return found


def _imports_heavy(node) -> bool:
    """Whether an import statement imports a module that is neither NumPy nor in the standard library."""
    import ast
    import sys

    light = set(sys.stdlib_module_names) | {"numpy"}
    if isinstance(node, ast.ImportFrom):
        return bool(node.level) or (node.module or "").split(".")[0] not in light
    return any(alias.name.split(".")[0] not in light for alias in node.names)


def _imported_from_frameworks(notebook) -> set[str]:
    """Top-level names the notebook's kept statements import from a module that is neither NumPy nor in the
    standard library (Keras, TensorFlow, plotting, the course package), or set from such names."""
    import ast

    heavy = set()
    for cell in notebook.cells:
        for _, source in cell["statements"]:
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError):
                continue
            for node in tree.body:
                if isinstance(node, ast.Import):
                    heavy |= {(alias.asname or alias.name).split(".")[0] for alias in node.names
                              if _imports_heavy(ast.Import([alias]))}
                elif isinstance(node, ast.ImportFrom):
                    if _imports_heavy(node):
                        heavy |= {alias.asname or alias.name for alias in node.names}
                elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names = {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}
                    if names & heavy:
                        heavy |= {child.id for child in ast.walk(node)
                                  if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store)}
    return heavy


def _outcome(mutant: Mutant, reply: dict, baseline: dict, marked: dict) -> Outcome:
    if reply.get("error"):
        return Outcome(mutant, "error", seconds=reply.get("seconds", 0.0), note=reply["error"])
    lost = [case for case in reply["cases"] if case["points"] < baseline.get(case["id"], 0.0) - 1e-9]
    outcome = Outcome(mutant, "survived", tuple(case["id"] for case in lost),
                      tuple(dict.fromkeys(name for case in lost for name in case["named"])),
                      len(reply["cases"]), reply["seconds"])
    reason = marked.get((mutant.unit, mutant.id))
    if lost:
        outcome.status = "timed out" if any(case["status"] == "timeout" for case in lost) else "killed"
        if reason is not None:
            outcome.note = f"marked equivalent ({reason}), but a case kills it: remove the mark"
    elif reason is not None:
        outcome.status, outcome.note = "equivalent", reason
    return outcome


# ----------------------------------------------------------------------------- grading processes

_GRADER = None


def _start(settings: tuple, parent: int | None) -> None:
    """Initializer of a grading process: one ``Grader`` for all its mutants, with a warm worker ahead."""
    global _GRADER
    from dlcourse.autograder.cases import COURSE
    from dlcourse.autograder.engine.grade import Grader
    from dlcourse.autograder.engine.pool import WorkerPool
    from dlcourse.autograder.engine.reference_cache import ReferenceCache

    if parent is not None:
        die_with_parent(parent)
    secret, cache, isolation, max_timeout = settings
    _GRADER = Grader(COURSE, secret=secret, cache=ReferenceCache(Path(cache)), isolation=isolation,
                     max_timeout=max_timeout, pool=WorkerPool())


def _grade(name: str, indices: tuple[int, ...], data: bytes, numpy_only: bool = False) -> dict:
    """Grade a notebook (as bytes) on the cases ``indices`` of assignment ``name``; plain data back.
    ``numpy_only``: in the NumPy sandbox (no Keras), as a NumPy assignment is graded."""
    from dlcourse.autograder.cases import ASSIGNMENTS

    full = ASSIGNMENTS[name]
    assignment = dataclasses.replace(full, cases=tuple(full.cases[index] for index in indices),
                                     frameworks=full.frameworks and not numpy_only)
    object.__setattr__(assignment, "units", full.units)  # the grader knows every unit, as in grading
    try:
        with tempfile.TemporaryDirectory(prefix="dlcourse-audit-") as scratch:
            path = Path(scratch) / f"{name}.ipynb"
            path.write_bytes(data)
            result = _GRADER.grade(path, assignment)
    except Exception as error:  # noqa: BLE001 - a grader-side failure is recorded as an error, never as a kill
        return {"error": f"grader error: {type(error).__name__}: {error}", "cases": [], "seconds": 0.0}
    cases = []
    for item in result.results:
        message = item.verdict.message
        named = [mistake.name for mistake in item.case.mistakes
                 if KNOWN_MISTAKE in message and mistake.name in message]
        failure = item.verdict.failure
        cases.append({"id": item.case.id, "points": item.score, "max": item.case.points,
                      "status": item.verdict.status, "named": named,
                      "failure": failure.kind if failure is not None else None})
    return {"error": result.error, "cases": cases, "seconds": result.seconds}


class _Graders:
    """Grading processes (``spawn``, killed with this one), or this process when there is one worker."""

    def __init__(self, workers: int, settings: tuple):
        self.workers, self.settings, self.pool = workers, settings, None

    def __enter__(self):
        if self.workers == 1:
            _start(self.settings, None)
        else:
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"),
                                            initializer=_start, initargs=(self.settings, os.getpid()))
        return self

    def __exit__(self, *exc):
        global _GRADER
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        elif _GRADER is not None and _GRADER.pool is not None:
            _GRADER.pool.close()
            _GRADER = None

    def grade(self, *task) -> dict:
        return _grade(*task) if self.pool is None else self.pool.submit(_grade, *task).result()

    def grade_all(self, tasks: dict, progress) -> dict:
        """``{key: reply}`` for ``{key: task}``; a grading process that dies is an error, never a kill."""
        advance = progress or (lambda n: None)
        replies = {}
        if self.pool is None:
            for key, task in tasks.items():
                replies[key] = _grade(*task)
                advance(1)
            return replies
        futures = {self.pool.submit(_grade, *task): key for key, task in tasks.items()}
        for future in as_completed(futures):
            try:
                replies[futures[future]] = future.result()
            except Exception as error:  # noqa: BLE001 - e.g. BrokenProcessPool: recorded, never a kill
                replies[futures[future]] = {"error": f"the grading process failed: {type(error).__name__}: {error}",
                                            "cases": [], "seconds": 0.0}
            advance(1)
        return replies


# ----------------------------------------------------------------------------- the report

@dataclass(frozen=True)
class Written:
    report: Path
    csv: Path


CSV_COLUMNS = ("id", "unit", "operator", "line", "status", "killed_by", "named_mistake", "cell", "change", "cases",
               "seconds", "note")


def write_report(result: Audit, out: Path) -> Written:
    """Write ``out/mutants.csv`` (one row per mutant) and ``out/report.md`` (per unit, survivors as diffs)."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, report_path = out / "mutants.csv", out / "report.md"
    with open(csv_path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for outcome in result.outcomes:
            mutant = outcome.mutant
            writer.writerow([mutant.id, mutant.unit, mutant.operator, mutant.line, outcome.status,
                             "; ".join(outcome.killed_by), "; ".join(outcome.named), mutant.cell,
                             neutralise(mutant.change), outcome.cases, f"{outcome.seconds:.2f}",
                             neutralise(outcome.note)])
    report_path.write_text(_markdown(result), encoding="utf-8")
    return Written(report_path, csv_path)


def _markdown(result: Audit) -> str:
    name = result.assignment.name
    lines = [f"# Mutation audit of {name} ({result.assignment.title})", "",
             f"Solution: `{result.solution}`; equivalent mutants: `{result.equivalents}`; "
             f"{len(result.outcomes)} mutants graded in {result.seconds:.0f} s.", "",
             "A mutant is killed when a case loses points that the solution earns; timed out when the grader's "
             "time limit stopped it on a case it lost. Score: (killed + timed out) / (mutants - marked equivalent).",
             "", "| unit | mutants | killed | timed out | equivalent | survived | error | score |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for unit in (*result.units, None):
        counts = result.counts(unit)
        made = sum(counts.values())
        lines.append(f"| {unit or '**all**'} | {made} | {counts['killed']} | {counts['timed out']} | "
                     f"{counts['equivalent']} | {counts['survived']} | {counts['error']} | {_percent(result.score(unit))} |")
    lines.append("")
    if result.light:
        lines.append(f"- graded in the NumPy sandbox (their cases need no Keras, and the solution scores the same "
                     f"there): {', '.join(result.light)}")
    for note in result.notes:
        lines.append(f"- note: {note}")
    for unit, mutant, reason in result.stale():
        lines.append(f"- note: `{unit} {mutant}` in the equivalents file names no mutant made now ({reason}): "
                     "remove it")
    lines.append("")
    for unit in result.units:
        lines += _unit_section(result, unit)
    lines.append(result.line())
    return "\n".join(lines) + "\n"


def _unit_section(result: Audit, unit: str) -> list[str]:
    outcomes = [outcome for outcome in result.outcomes if outcome.mutant.unit == unit]
    kept, total = result.made.get(unit, (0, 0))
    cases = result.cases.get(unit, [])
    own = [case for case in cases if case.startswith(f"{unit}: ")]
    lines = [f"## {unit}", "", f"{len(outcomes)} mutants" + (f" (spread over {total} made)" if total > kept else "")
             + f", graded on its {len(own)} cases" + (f" (those that survive them, on {len(cases) - len(own)} cases "
                                                        "of the units that run it)" if len(cases) > len(own) else "")
             + f"; score {_percent(result.score(unit))}.", ""]
    by_case: dict[str, list[int]] = {}
    for outcome in outcomes:
        for case in outcome.killed_by:
            counted = by_case.setdefault(case, [0, 0])
            counted[0] += 1
            counted[1] += bool(outcome.named)
    if by_case:
        lines += ["| case | mutants it kills | of which a named mistake |", "|---|---:|---:|"]
        lines += [f"| {case} | {by_case[case][0]} | {by_case[case][1]} |" for case in cases if case in by_case]
        lines.append("")
    idle = [case for case in own if case not in by_case]
    if idle and outcomes:
        lines += [f"Cases that kill no mutant: {', '.join(idle)}.", ""]
    for title, status in (("Survivors", "survived"), ("Errors", "error")):
        chosen = [outcome for outcome in outcomes if outcome.status == status]
        if not chosen:
            continue
        lines += [f"### {title} ({len(chosen)})", ""]
        if status == "survived":
            lines += [f"Each is a change no case sees: add a case that tells it apart, or, if no input can, mark it "
                      f"equivalent with a line `{unit} <id> <reason>` in `{result.equivalents}`.", ""]
        for outcome in chosen:
            mutant = outcome.mutant
            lines += [f"#### `{mutant.id}` ({mutant.operator}, cell {mutant.cell}, line {mutant.line})", "",
                      f"{mutant.change}" + (f"; {outcome.note}" if outcome.note else ""), "", "```diff",
                      mutant.diff(), "```", ""]
    indirect = [outcome for outcome in outcomes if outcome.note.startswith("only by cases of other units")]
    if indirect:
        lines += [f"### Killed only by cases of other units ({len(indirect)})", "",
                  f"No case of {unit} sees these; a case of a unit that runs it does.", ""]
        lines += [f"- `{o.mutant.id}` {o.mutant.change}: {'; '.join(o.killed_by)}" for o in indirect]
        lines.append("")
    marked = [outcome for outcome in outcomes if outcome.status == "equivalent"]
    if marked:
        lines += [f"### Marked equivalent ({len(marked)})", ""]
        lines += [f"- `{o.mutant.id}` {o.mutant.change}: {o.note}" for o in marked]
        lines.append("")
    contradicted = [outcome for outcome in outcomes if "marked equivalent (" in outcome.note]
    if contradicted:
        lines += ["### Marked equivalent, but killed", ""]
        lines += [f"- `{o.mutant.id}` {o.mutant.change}: killed by {'; '.join(o.killed_by)}" for o in contradicted]
        lines.append("")
    return lines


def _percent(score: float | None) -> str:
    return "n/a" if score is None else f"{100 * score:.1f}%"
