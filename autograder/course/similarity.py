"""Similarity between the submissions of one assignment, unit by unit: a reason to look, never a verdict.

The pipeline (nothing a student wrote is run; it is only read as text):

1. read each student's notebook of the assignment (``discovery`` and ``choice``, as ``grade-batch`` does);
2. take each unit's code as grading sees it (``unit_code``) and fingerprint it (``fingerprints``);
3. drop the fingerprints of the released stub's code, then those that more than ``boilerplate`` of the
   class share in a unit (code everyone writes the same way is no evidence);
4. an inverted index from (unit, fingerprint) to the submissions holding it gives the pairs that share
   anything, without comparing every pair;
5. a unit's score is the fingerprints the pair shares / the smaller of the two sets; the overall score
   is the units' scores weighted by that smaller size (so tiny units count little): shared / smaller,
   summed over the units both submissions have;
6. a pair is flagged when its overall score reaches ``threshold``, or when one unit's score reaches
   ``unit_threshold`` on at least ``UNIT_AT_LEAST`` shared fingerprints (one unit copied into work that is
   otherwise a student's own; a few shared lines of a short unit are not enough).

Earlier terms' submissions (``past``) are compared with this term's, never with each other, and do not
count toward the class's boilerplate.
"""

from __future__ import annotations

import functools
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from dlcourse.autograder.course.choice import choose
from dlcourse.autograder.course.discovery import UnreadableError, survey
from dlcourse.autograder.course.fingerprints import Prints, fingerprint
from dlcourse.autograder.course.unit_code import numpy_names, unit_code
from dlcourse.autograder.engine.catalogue import Catalogue
from dlcourse.autograder.engine.extract import Notebook, NotebookError, read_notebook

THRESHOLD = 0.5  # overall score at which a pair is flagged (see the README: measured on tests/similarity_corpus)
UNIT_THRESHOLD = 0.8  # a unit's score at which a pair is flagged on that unit alone...
UNIT_AT_LEAST = 10  # ...when at least this many of its fingerprints are shared (a few lines are not a copy)
BOILERPLATE_SHARE = 0.2  # a fingerprint more than this share of the class has in a unit is boilerplate...
BOILERPLATE_AT_LEAST = 3  # ...and at least this many students have it (two students alone are never "the class")


@dataclass
class Submitted:
    """One student's notebook of the assignment, fingerprinted.

    Attributes:
        student: the student's folder name (``past/<name>`` for an earlier term's).
        label: the notebook's path in the student's folder.
        past: whether it is an earlier term's.
        prints: ``{unit: [Prints of the unit's definition, then of each helper]}``.
        own: ``{unit: fingerprints}`` left once the stub's and the boilerplate are removed.
    """

    student: str
    label: str
    past: bool = False
    prints: dict[str, list[Prints]] = field(default_factory=dict)
    own: dict[str, set[int]] = field(default_factory=dict)


@dataclass
class Pair:
    """Two submissions that share fingerprints.

    Attributes:
        a, b: indices in ``Comparison.submissions`` (``a`` is this term's).
        score: overall, in [0, 1]: shared fingerprints / the smaller set, summed over the units both have.
        units: ``{unit: score}`` for each unit both have (None: one of them has nothing of its own there).
        shared: ``{unit: fingerprints both have as their own}`` for the same units.
    """

    a: int
    b: int
    score: float
    units: dict[str, float | None]
    shared: dict[str, int] = field(default_factory=dict)


@dataclass
class Comparison:
    """What ``compare`` found.

    Attributes:
        assignment: its name.
        units: the graded units, in notebook order.
        submissions: this term's, then the earlier terms'.
        pairs: every pair sharing a fingerprint, highest score first.
        threshold: the overall score at which a pair is flagged.
        notes: students left out and why (no notebook, several, unreadable).
        unit_threshold: the score at which one unit flags a pair (with ``UNIT_AT_LEAST`` shared fingerprints).
    """

    assignment: str
    units: tuple[str, ...]
    submissions: list[Submitted]
    pairs: list[Pair]
    threshold: float
    notes: list[str] = field(default_factory=list)
    unit_threshold: float = UNIT_THRESHOLD

    @property
    def flagged(self) -> list[Pair]:
        """The pairs flagged overall or on a unit, highest overall score first."""
        return [pair for pair in self.pairs if pair.score >= self.threshold or self.flagged_units(pair)]

    def flagged_units(self, pair: Pair) -> list[str]:
        """The units that flag ``pair`` on their own: score >= ``unit_threshold``, ``UNIT_AT_LEAST`` shared."""
        return [unit for unit, score in pair.units.items()
                if score is not None and score >= self.unit_threshold and pair.shared.get(unit, 0) >= UNIT_AT_LEAST]

    @property
    def current(self) -> int:
        """How many of this term's students were compared."""
        return sum(not submission.past for submission in self.submissions)

    def shared(self, pair: Pair, unit: str) -> set[int]:
        """The fingerprints of ``unit`` that both submissions of ``pair`` have as their own."""
        return self.submissions[pair.a].own.get(unit, set()) & self.submissions[pair.b].own.get(unit, set())


def compare(submitted: Path, assignment: str, stub: Path, catalogue: Catalogue, past: Path | None = None,
            threshold: float = THRESHOLD, boilerplate: float = BOILERPLATE_SHARE,
            unit_threshold: float = UNIT_THRESHOLD, students=None) -> Comparison:
    """Compare every student's notebook of ``assignment`` under ``submitted`` (and under ``past``).

    Args:
        submitted: ``submitted/<student>/**/*.ipynb`` (or ``.zip``), as ``grade-batch`` reads it.
        assignment: ``01_backprop``.
        stub: the released notebook, whose code is nobody's own.
        catalogue: the assignments and their units (``dlcourse.autograder.cases.COURSE``).
        past: an earlier term's submissions, laid out as ``submitted``.
        threshold: the overall score at which a pair is flagged, in (0, 1].
        boilerplate: a fingerprint that more than this share of the class has in a unit is ignored, in (0, 1].
        unit_threshold: the score at which one unit alone flags a pair, in (0, 1].
        students: compare only these students of ``submitted`` (default: every student there); ``past`` is
            read whole.

    Raises:
        ValueError: an unknown assignment, an argument out of range, an unreadable stub or folder.
    """
    if assignment not in catalogue.assignments:
        raise ValueError(f"Expected an assignment among {', '.join(catalogue)}. Received {assignment!r}.")
    for name, value in (("threshold", threshold), ("boilerplate", boilerplate), ("unit_threshold", unit_threshold)):
        if not 0 < value <= 1:
            raise ValueError(f"Expected a {name} in (0, 1]. Received {name}={value}.")
    units = catalogue.assignments[assignment].units
    try:
        given = stub_prints(read_notebook(stub))
    except NotebookError as error:
        raise ValueError(f"Expected the released notebook of {assignment} as the stub. Received {stub}: {error}") \
            from None
    notes: list[str] = []
    submissions = read_submissions(submitted, assignment, units, catalogue, notes, students=students)
    if past is not None:
        submissions += read_submissions(past, assignment, units, catalogue, notes, past=True)
    remove_common(submissions, units, given, boilerplate)
    pairs = score_pairs(submissions, units)
    return Comparison(assignment, tuple(units), submissions, pairs, threshold, notes, unit_threshold)


def stub_prints(stub: Notebook) -> set[int]:
    """Every fingerprint of the code the stub gives (its definitions, imports and assignments)."""
    names = numpy_names(stub)
    found: set[int] = set()
    for cell in stub.cells:
        for _, text in cell["statements"]:
            found.update(fingerprint(text, names).hashes)
    return found


def read_submissions(root: Path, assignment: str, units, catalogue: Catalogue, notes: list[str],
                     past: bool = False, students=None) -> list[Submitted]:
    """Each student's notebook of ``assignment`` under ``root`` (only ``students``'s, if given), fingerprinted
    unit by unit."""
    found = survey(root)
    prefix = "past/" if past else ""
    chosen_students = None if students is None else set(students)
    for student, reasons in found.notes.items():
        if chosen_students is None or student in chosen_students:
            notes += [f"{prefix}{student}: {reason}" for reason in reasons]
    by_student: dict[str, list] = {}
    for submission in found.submissions:
        if chosen_students is None or submission.student in chosen_students:
            by_student.setdefault(submission.student, []).append(submission)
    result = []
    with tempfile.TemporaryDirectory(prefix="dlcourse-similarity-") as scratch:
        for student, candidates in by_student.items():
            read = {}
            for index, submission in enumerate(candidates):
                try:
                    notebook = _read(submission, Path(scratch) / f"{index}.ipynb")
                except (UnreadableError, NotebookError) as error:
                    notes.append(f"{prefix}{student}: {error}")
                    continue
                identified = catalogue.identify(notebook)
                if identified is not None and identified.name == assignment:
                    read[submission.label] = notebook
            if not read:
                notes.append(f"{prefix}{student}: no notebook of {assignment}")
                continue
            chosen, reason = choose(assignment, sorted(read))
            if chosen is None:
                notes.append(f"{prefix}{student}: {reason}")
                continue
            notebook = read[chosen]
            names = numpy_names(notebook)
            prints = {unit: [_fingerprint(source, names) for _, source in code.parts]
                      for unit, code in unit_code(notebook, units).items()}
            result.append(Submitted(f"{prefix}{student}", chosen, past, prints))
    return result


def remove_common(submissions: list[Submitted], units, given: set[int], boilerplate: float) -> None:
    """Set each submission's ``own`` fingerprints: its own, less the stub's and the class's boilerplate."""
    for submission in submissions:
        submission.own = {unit: set().union(*(part.hashes for part in parts)) - given
                          for unit, parts in submission.prints.items()}
    class_size = sum(not submission.past for submission in submissions)
    limit = max(boilerplate * class_size, BOILERPLATE_AT_LEAST - 1)
    for unit in units:
        counts = Counter(value for submission in submissions if not submission.past
                         for value in submission.own.get(unit, ()))
        common = {value for value, count in counts.items() if count > limit}
        if common:
            for submission in submissions:
                if unit in submission.own:
                    submission.own[unit] -= common


def score_pairs(submissions: list[Submitted], units) -> list[Pair]:
    """Every pair sharing a fingerprint (found through an inverted index), highest score first."""
    index: dict[tuple[int, int], list[int]] = {}
    for number, submission in enumerate(submissions):
        for unit_number, unit in enumerate(units):
            for value in submission.own.get(unit, ()):
                index.setdefault((unit_number, value), []).append(number)
    past = [submission.past for submission in submissions]
    shared: Counter = Counter()
    for (unit_number, _), holders in index.items():
        if len(holders) > 1:
            shared.update((a, b, unit_number) for a, b in combinations(holders, 2) if not (past[a] and past[b]))
    by_pair: dict[tuple[int, int], dict[int, int]] = {}
    for (a, b, unit_number), count in shared.items():
        by_pair.setdefault((a, b), {})[unit_number] = count
    pairs = [_pair(submissions, units, a, b, counts) for (a, b), counts in by_pair.items()]
    pairs.sort(key=lambda pair: (-pair.score, submissions[pair.a].student, submissions[pair.b].student))
    return pairs


def _pair(submissions: list[Submitted], units, a: int, b: int, counts: dict[int, int]) -> Pair:
    first, second = submissions[a], submissions[b]
    scores, shared, total, smaller_total = {}, {}, 0, 0
    for unit_number, unit in enumerate(units):
        if unit not in first.own or unit not in second.own:
            continue
        smaller = min(len(first.own[unit]), len(second.own[unit]))
        count = counts.get(unit_number, 0)
        scores[unit], shared[unit] = (count / smaller if smaller else None), count
        total, smaller_total = total + count, smaller_total + smaller
    return Pair(a, b, total / smaller_total if smaller_total else 0.0, scores, shared)


@functools.lru_cache(maxsize=4096)
def _fingerprint(source: str, names: frozenset[str]) -> Prints:
    """``fingerprint``, once per text: the stub's helpers and untouched units recur in every notebook."""
    return fingerprint(source, names)


def _read(submission, scratch: Path) -> Notebook:
    """The extractor's view of a notebook (one inside a zip is copied out to ``scratch`` first)."""
    if submission.member is None:
        return read_notebook(submission.path)
    scratch.write_bytes(submission.read_bytes())
    return read_notebook(scratch)
